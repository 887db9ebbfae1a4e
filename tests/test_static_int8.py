"""Static INT8 encoders (training/quantize.py): the fp32 graph recovered from a dynamic INT8
one is the shipped graph's source, and a statically quantised encoder gives a window the
same outputs whatever it is batched with (dynamic INT8 does not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import single_model_dir

pytestmark = pytest.mark.model

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime.quantization")


def _session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _run(sess, rows: list[np.ndarray]) -> list[np.ndarray]:
    """BIO logits of each row, all rows in one call (padded to the longest)."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for k, r in enumerate(rows):
        ids[k, : len(r)] = r
        mask[k, : len(r)] = 1
    out = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return [out[k, : len(r)] for k, r in enumerate(rows)]


@pytest.fixture(scope="module")
def fp32(tmp_path_factory) -> Path:
    from propscope.training.quantize import fp32_encoder

    return fp32_encoder(single_model_dir(), tmp_path_factory.mktemp("fp32") / "fp32.onnx")


@pytest.fixture(scope="module")
def rows(ptc) -> list[np.ndarray]:
    from propscope.training.quantize import calibration_windows

    return calibration_windows(single_model_dir(), ptc, 3, split="valid")


def test_dequantised_graph_is_the_dynamic_graphs_source(fp32, tmp_path):
    """Quantising the recovered fp32 graph dynamically again gives the shipped outputs."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    again = tmp_path / "again.onnx"
    quantize_dynamic(str(fp32), str(again), weight_type=QuantType.QInt8, per_channel=True)
    ids = np.arange(1000, 1040, dtype=np.int64)[None, :]
    shipped = _run(_session(single_model_dir() / "encoder.onnx"), [ids[0]])[0]
    np.testing.assert_array_equal(_run(_session(again), [ids[0]])[0], shipped)
    graph = onnx.load(str(fp32)).graph
    assert not any(n.op_type in ("MatMulInteger", "DynamicQuantizeLinear") for n in graph.node)


@pytest.fixture(scope="module")
def static_folder(tmp_path_factory, ptc) -> Path:
    """The shipped (first) model with its encoder static INT8, calibrated on 2 articles."""
    from propscope.training.quantize import StaticSettings, quantize_folder

    out = tmp_path_factory.mktemp("static") / "model"
    return quantize_folder(single_model_dir(), out, ptc,
                           StaticSettings(articles=2, ops=("MatMul", "Gather")))


def test_static_int8_outputs_do_not_depend_on_batch_mates(static_folder, rows):
    static = static_folder / "encoder.onnx"
    graph = onnx.load(str(static)).graph
    assert not any(n.op_type == "DynamicQuantizeLinear" for n in graph.node)
    # a window alone, then with louder and shorter batch-mates (padding included)
    target = rows[0]
    loud = np.full(len(target) + 5, rows[1][1], dtype=np.int64)
    mates = [target, loud, rows[-1][: max(3, len(rows[-1]) // 2)]]
    sess = _session(static)
    alone = _run(sess, [target])[0]
    together = _run(sess, mates)[0]
    np.testing.assert_allclose(together, alone, atol=1e-4)
    # the shipped dynamic INT8 encoder, by contrast, moves with its batch-mates
    dyn = _session(single_model_dir() / "encoder.onnx")
    moved = np.abs(_run(dyn, mates)[0] - _run(dyn, [target])[0]).max()
    assert moved > 1e-3


def test_static_folder_reads_windows_in_batches_and_spans_do_not_depend_on_what_else_is_sent(
        static_folder, ptc):
    """The loader batches a static INT8 folder's windows (dynamic ones: one per call), and
    an article's spans are the same alone and sent with others."""
    from propscope.corpus import load_split
    from propscope.model_io import load_folder
    from propscope.predictors.encoding import window_encoders

    model = load_folder(static_folder)
    (encoder,) = window_encoders(model.encoder)
    assert encoder.batch_size > 1
    assert [e.batch_size for e in window_encoders(load_folder(single_model_dir()).encoder)] \
        == [1]
    valid = load_split(ptc, "valid")
    texts = [valid.articles[a].text for a in list(valid.articles)[:3]]
    together = model.predict(texts)
    for k, text in enumerate(texts):
        alone = model.holding().predict([text])[0]  # an empty cache: encoded again
        assert [(s.start, s.end, s.technique, round(s.score, 6)) for s in alone] == \
            [(s.start, s.end, s.technique, round(s.score, 6)) for s in together[k]]

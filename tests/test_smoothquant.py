"""SmoothQuant (training/smoothquant.py): smoothing leaves the fp32 graph's outputs as they
were, shares one Mul among the MatMuls reading one activation, and moves the outliers out of
the activations the dynamic quantiser scales."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .conftest import single_model_dir

pytestmark = pytest.mark.model

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime.quantization")


def _outputs(path: Path, rows: list[np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [sess.run(["bio_logits"], {"input_ids": r[None, :],
                                      "attention_mask": np.ones((1, len(r)), np.int64)})[0]
            for r in rows]


def _layers() -> int:
    """The transformer layers of the model smoothed (the shipped student keeps 4 of 6)."""
    import json

    manifest = json.loads((single_model_dir() / "manifest.json").read_text())
    return int((manifest.get("encoder_shape") or [384, 6])[1])


@pytest.fixture(scope="module")
def fp32(tmp_path_factory) -> Path:
    from propscope.training.quantize import fp32_encoder

    return fp32_encoder(single_model_dir(), tmp_path_factory.mktemp("fp32") / "fp32.onnx")


@pytest.fixture(scope="module")
def rows(ptc) -> list[np.ndarray]:
    from propscope.training.quantize import calibration_windows

    return calibration_windows(single_model_dir(), ptc, 2)


def test_smoothing_keeps_fp32_outputs_and_shares_one_mul_per_activation(fp32, rows, tmp_path):
    from propscope.training.smoothquant import ALL_PROJECTIONS, channel_ranges, smooth

    ranges = channel_ranges(fp32, rows[:3], ALL_PROJECTIONS)
    n = _layers()
    assert len(ranges) == 6 * n  # q, k, v, attention output, up and down, in each layer
    out = smooth(fp32, tmp_path / "smoothed.onnx", ranges, alpha=0.9)
    graph = onnx.load(str(out)).graph
    muls = [n for n in graph.node if n.name.endswith("_smooth")]
    assert len(muls) == n * 4  # query, key and value read one activation: one Mul for them
    query = next(n for n in graph.node if n.name.endswith("layer.0/attention/self/query/MatMul"))
    key = next(n for n in graph.node if n.name.endswith("layer.0/attention/self/key/MatMul"))
    assert query.input[0] == key.input[0] and query.input[0].endswith("_smooth_out")
    for before, after in zip(_outputs(fp32, rows[3:5]), _outputs(out, rows[3:5]), strict=True):
        np.testing.assert_allclose(after, before, atol=2e-3, rtol=1e-3)
    # the activations entering the smoothed MatMuls are flat across channels now
    smoothed = channel_ranges(out, rows[:3], ALL_PROJECTIONS)
    name = next(k for k in ranges if k.endswith("layer.3/output/dense/MatMul"))
    spread = lambda v: float(v.max() / np.median(v))  # noqa: E731
    assert spread(smoothed[name]) < spread(ranges[name]) / 2


def test_smooth_folder_replaces_the_encoder_and_records_how(fp32, ptc, tmp_path):
    import json
    import shutil

    from propscope.model_io import load_folder
    from propscope.training.smoothquant import smooth_folder

    folder = tmp_path / "model"
    shutil.copytree(single_model_dir(), folder)
    record = smooth_folder(folder, fp32, ptc, alpha=0.9, articles=1, max_mb=8,
                           log=lambda *_: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["smoothquant"] == record and record["matmuls"] == 6 * _layers()
    parts = sorted(p.name for p in folder.glob("encoder.onnx.data*"))
    assert len(parts) >= 2 and set(parts) <= set(manifest["files"])
    assert all((folder / f).exists() for f in manifest["files"])
    graph = onnx.load(str(folder / "encoder.onnx"), load_external_data=False).graph
    inits = {t.name for t in graph.initializer}
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) >= 6 * _layers()  # + heads
    assert not [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    text = "The corrupt elites betrayed us again, a total disgrace and a national shame."
    shipped = load_folder(single_model_dir()).predict([text])[0]
    spans = load_folder(folder).predict([text])[0]
    # another quantisation of the same weights: the same spans, give or take a word's edge
    # or one span near its threshold
    assert abs(len(spans) - len(shipped)) <= 1
    same = [a for a in shipped if any(a.start < b.end and b.start < a.end
                                      and a.technique == b.technique for b in spans)]
    assert len(same) >= len(shipped) - 1 and len(same) >= 3, (shipped, spans)


def test_cli_names_a_missing_file_in_one_line(tmp_path, capsys):
    from propscope.training.smoothquant import main

    assert main([str(tmp_path), "--run", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "manifest.json" in err and "best.pt" in err

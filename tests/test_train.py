"""Training smoke test: a few steps on a handful of articles, export, load, predict."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from propscope.config import TrainConfig  # noqa: E402
from propscope.errors import ModelError  # noqa: E402
from propscope.model_io import load_folder  # noqa: E402

pytestmark = pytest.mark.train


def test_train_few_steps_exports_a_loadable_model(tmp_path, ptc):
    from propscope.training.encoders import encoder_dir
    from propscope.training.loop import train

    try:
        encoder_dir("minilm")
    except Exception as e:  # noqa: BLE001
        pytest.skip(str(e))
    out = tmp_path / "tiny"
    # self-training input: one teacher-labelled article joins the train split
    news = tmp_path / "news"
    news.mkdir()
    (news / "article900.txt").write_text("The corrupt elite lied to you again and again.")
    (news / "teacher.labels").write_text("900\tLoaded_Language\t4\t11\n")
    lines: list[str] = []
    metrics = train(ptc, out, TrainConfig(max_articles=2, max_steps=2, epochs=1, quantize=True,
                                           int8_weights_only="/output/dense/",
                                           extra_articles=str(news),
                                           extra_labels=str(news / "teacher.labels")),
                    log=lines.append)
    assert "extra (self-training): 1 articles, 1 spans" in lines
    assert any(line.startswith("train: 3 articles") for line in lines)
    assert set(metrics) == {"si", "tc", "flc", "slc"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["train_config"]["max_steps"] == 2 and manifest["history"]
    assert manifest["train_config"]["extra_articles"] == str(news)
    import onnx

    nodes = onnx.load(str(out / "encoder.onnx")).graph.node
    ops = [n.op_type for n in nodes]
    weight_only = [n for n in nodes if n.op_type == "DequantizeLinear"
                   and "/output/dense/" in n.name]
    # MiniLM's six feed-forward down-projections and six attention output projections (both
    # named .../output/dense/): INT8 weights, fp32 products
    assert len(weight_only) == 12
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops  # the rest: full INT8
    predictor = load_folder(out)
    text = "The outrageous plan failed.\nNobody liked it."
    spans = predictor.predict([text])[0]
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    ranked = predictor.classify(text, [s for s in spans][:1] or [])
    assert all(abs(sum(p for _, p in r) - 1) < 1e-4 for r in ranked)
    # resuming a finished run trains nothing more and exports again
    again = train(ptc, out, TrainConfig(max_articles=2, max_steps=2, epochs=1),
                  log=lambda m: None)
    assert set(again) == set(metrics)


def test_a_student_can_keep_only_the_first_layers(tmp_path, ptc):
    """--layers N: a smaller encoder (its first N pretrained layers), recorded, exported
    with N layers, and read back; a count the encoder does not have is one line."""
    from propscope.training.encoders import encoder_dir
    from propscope.training.loop import train

    try:
        encoder_dir("minilm")
    except Exception as e:  # noqa: BLE001
        pytest.skip(str(e))
    out = tmp_path / "small"
    train(ptc, out, TrainConfig(layers=2, max_articles=2, max_steps=1, epochs=1,
                                quantize=False), log=lambda m: None)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["encoder_shape"] == [384, 2] and manifest["train_config"]["layers"] == 2
    import onnx

    nodes = onnx.load(str(out / "encoder.onnx")).graph.node
    assert {m.group(0) for n in nodes if (m := re.search(r"/layer\.\d+/", n.name))} == {
        "/layer.0/", "/layer.1/"}
    spans = load_folder(out).predict(["The outrageous plan failed."])[0]
    assert all(0 <= s.start < s.end <= 27 for s in spans)
    with pytest.raises(ModelError, match="--layers must be 1 to 6 for this encoder, not 9"):
        train(ptc, tmp_path / "too-many", TrainConfig(layers=9, max_articles=2, max_steps=1),
              log=lambda m: None)


def test_onnx_export_matches_torch_with_padding(tmp_path, ptc):
    """The exported graph gives the torch model's outputs, padded batches included."""
    import numpy as np
    import torch
    from transformers import AutoModel

    from propscope.model_io import OnnxRunner
    from propscope.training.encoders import encoder_dir
    from propscope.training.export import export_onnx
    from propscope.training.model import SpanTagger

    try:
        folder = encoder_dir("minilm")
    except Exception as e:  # noqa: BLE001
        pytest.skip(str(e))
    torch.manual_seed(0)
    model = SpanTagger(AutoModel.from_pretrained(str(folder), attn_implementation="sdpa"), 14)
    model.eval()
    ids = np.array([[101, 2023, 2003, 1037, 3231, 102, 0, 0],
                    [101, 2178, 6251, 2007, 2062, 19204, 2015, 102]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    # torch first: tracing for the export leaves the torch model changed (transformers 5),
    # so export is the last thing done with a model
    with torch.no_grad():
        want = [t.numpy().copy() for t in model(torch.from_numpy(ids), torch.from_numpy(mask))]
    path = export_onnx(model, tmp_path / "encoder.onnx", quantize=False)
    got = OnnxRunner(path)(ids, mask)
    assert len(got) == 3
    real = mask.astype(bool)
    for w, g in zip(want, got, strict=True):
        assert np.allclose(w[real], g[real], atol=1e-3), np.abs(w[real] - g[real]).max()
    # a model trained without the technique loss is exported without that (untrained) output
    plain = export_onnx(model, tmp_path / "plain.onnx", quantize=False, technique_head=False)
    assert len(OnnxRunner(plain)(ids, mask)) == 2

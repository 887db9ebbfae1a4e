"""Training smoke test: a few steps on a handful of articles, export, load, predict."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from propscope.config import TrainConfig  # noqa: E402
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
    metrics = train(ptc, out, TrainConfig(max_articles=2, max_steps=2, epochs=1, quantize=True),
                    log=lambda m: None)
    assert set(metrics) == {"si", "tc", "flc", "slc"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["train_config"]["max_steps"] == 2 and manifest["history"]
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

"""The shipped model: loads without torch, finds sensible spans on a real article."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import propscope
from propscope.config import DEFAULT_MODEL_DIR, EXAMPLES_DIR
from propscope.corpus import load_split
from propscope.errors import ModelError
from propscope.evaluation import evaluate_predictor
from propscope.model_io import load_folder
from propscope.techniques import TECHNIQUE_NAMES

from .conftest import single_model_dir

pytestmark = pytest.mark.model


def test_manifest_records_config_labels_version_and_metrics():
    m = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    assert m["techniques"] == list(TECHNIQUE_NAMES)
    assert m["propscope_version"] and m["decode"]
    assert m["metrics_valid"]["si"] >= 0.40 and m["metrics_valid"]["tc"] >= 0.55
    members = [DEFAULT_MODEL_DIR / n for n in m.get("members", [])] or [DEFAULT_MODEL_DIR]
    for folder in members:  # every trained model records how it was trained
        single = json.loads((folder / "manifest.json").read_text())
        assert single["train_config"] and single["techniques"] == list(TECHNIQUE_NAMES)


def test_inference_does_not_import_torch():
    code = ("import sys, propscope; from propscope.model_io import load_model; "
            "r = propscope.analyze('The radical left wants to destroy our great nation.', "
            "predictor=load_model(None)); print(len(r.spans)); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-500:]


def test_real_article_spans_are_valid_and_sensible(shipped_model, ptc):
    corpus = load_split(ptc, "valid")
    art = next(a for a in corpus.articles.values() if len(corpus.gold[a.id]) >= 10)
    r = propscope.analyze(art, predictor=shipped_model)
    assert r.spans, "a propaganda-rich article should get spans"
    for s in r.spans:
        assert 0 <= s.start < s.end <= len(art.text)
        assert s.technique in TECHNIQUE_NAMES and 0.0 < s.score <= 1.0
        piece = art.text[s.start : s.end]
        assert piece == piece.strip() and "\n" not in piece
        assert not (s.start > 0 and art.text[s.start - 1].isalnum() and piece[0].isalnum())
    by_tech: dict = {}
    for s in r.spans:
        for other in by_tech.get(s.technique, []):
            assert not s.overlaps(other), "spans of one technique are merged"
        by_tech.setdefault(s.technique, []).append(s)
    covered = sum(s.end - s.start for s in r.spans) / len(art.text)
    assert covered < 0.8  # not everything is propaganda


def test_example_article(shipped_model):
    text = (EXAMPLES_DIR / "example.txt").read_text()
    r = propscope.analyze(text, predictor=shipped_model)
    found = {r.text[s.start : s.end].lower() for s in r.spans}
    assert any("outrageous" in f or "disastrous" in f for f in found), found


def test_valid_subset_scores_clear_the_floor(shipped_model, ptc):
    corpus = load_split(ptc, "valid")
    ids = list(corpus.articles)[:12]
    sub = type(corpus)({i: corpus.articles[i] for i in ids}, {i: corpus.gold[i] for i in ids})
    scores = evaluate_predictor(shipped_model, sub).summary()
    assert scores["si"] > 0.30 and scores["tc"] > 0.45, scores


def test_incomplete_or_foreign_model_folder(tmp_path):
    with pytest.raises(ModelError, match="no such model folder"):
        load_folder(tmp_path / "nope")
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 999}))
    with pytest.raises(ModelError, match="format 999"):
        load_folder(tmp_path)
    m = json.loads((single_model_dir() / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match="encoder.onnx is missing"):
        load_folder(tmp_path)


def test_held_encodings_serve_predict_until_other_text(shipped_model):
    """A corpus encoded once (tuning) is scored from those encodings, however many texts."""
    from propscope.predictors.encoding import CachedEncoder, uncached

    texts = [f"Article {k}: the corrupt elite lied again." for k in range(70)]
    bare = uncached(shipped_model.encoder)
    encs = bare.encode(texts)
    calls: list[int] = []

    class Counting:
        readings = bare.readings

        def encode(self, ts):
            calls.append(len(ts))
            return bare.encode(ts)

    held = shipped_model.with_encoder(Counting()).holding(encs)
    assert isinstance(held.encoder, CachedEncoder) and held.decode == shipped_model.decode
    first = held.predict(texts[:8])
    assert calls == [] and held.predict(texts[60:]) and calls == []
    assert first == [shipped_model.spans_from(e) for e in encs[:8]]
    held.predict(["A text it has not seen."])
    assert calls == [1] and held.predict(texts[:1]) and calls == [1, 1]  # 70 + 1 > 64: dropped


def test_spans_do_not_depend_on_what_else_is_sent(ptc):
    """INT8 encoders scale activations per call: an article alone and the same article sent
    with others must get the same spans and scores."""
    model = load_folder(single_model_dir())
    valid = load_split(ptc, "valid")
    texts = [valid.articles[a].text for a in list(valid.articles)[:3]]
    together = model.predict(texts)
    for k, text in enumerate(texts):
        alone = model.holding().predict([text])[0]  # nothing cached: encode again
        assert [(s.start, s.end, s.technique, round(s.score, 6)) for s in alone] == \
            [(s.start, s.end, s.technique, round(s.score, 6)) for s in together[k]]

"""Ensembles of model folders: loading, equivalence with one model, refusals."""

from __future__ import annotations

import json
import shutil

import pytest

from propscope.corpus import load_split
from propscope.errors import ModelError
from propscope.model_io import load_folder
from propscope.predictors.ensemble import EnsemblePredictor

from .conftest import single_model_dir


@pytest.fixture(scope="module")
def single_model():
    return load_folder(single_model_dir())


def _ensemble_folder(tmp_path, member, copies=2):
    pytest.importorskip("torch")
    from propscope.training.ensemble import write_ensemble_folder

    return write_ensemble_folder([member] * copies, tmp_path / "ens")


def test_ensemble_of_a_model_with_itself_predicts_what_the_model_does(tmp_path, ptc,
                                                                      single_model):
    folder = _ensemble_folder(tmp_path, single_model.info["path"])
    ens = load_folder(folder)
    assert isinstance(ens, EnsemblePredictor) and len(ens.members) == 2
    single_model = single_model.with_context(None).with_marker(None)  # stages of its own
    valid = load_split(ptc, "valid")
    texts = [valid.articles[a].text for a in list(valid.articles)[:3]]
    single = single_model.predict(texts)
    both = ens.predict(texts)
    assert [[(s.start, s.end, s.technique) for s in a] for a in both] == \
        [[(s.start, s.end, s.technique) for s in a] for a in single]
    assert all(abs(x.score - y.score) < 1e-5 for a, b in zip(both, single, strict=True)
               for x, y in zip(a, b, strict=True))
    assert sum(map(len, single)) > 0
    gold = valid.gold[list(valid.articles)[0]][:5]
    got = ens.classify(texts[0], gold)
    want = single_model.classify(texts[0], gold)
    assert [[t for t, _ in row] for row in got] == [[t for t, _ in row] for row in want]


def test_ensemble_folder_refusals(tmp_path, single_model):
    folder = _ensemble_folder(tmp_path, single_model.info["path"])
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["techniques"] = manifest["techniques"][:3]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="other techniques"):
        load_folder(folder)
    second = manifest["members"][1]
    shutil.rmtree(folder / second)
    with pytest.raises(ModelError, match=f"{second}/manifest.json is missing"):
        load_folder(folder)


def test_build_ensemble_needs_two_single_models(tmp_path, single_model):
    pytest.importorskip("torch")
    from propscope.training.ensemble import build_ensemble

    with pytest.raises(ModelError, match="at least two"):
        build_ensemble([single_model.info["path"]], tmp_path / "e", "unused")
    ens = _ensemble_folder(tmp_path, single_model.info["path"])
    with pytest.raises(ModelError, match="single models"):
        build_ensemble([ens, single_model.info["path"]], tmp_path / "e", "unused")


def test_members_without_a_technique_head_are_left_out_of_its_mean():
    import numpy as np

    from propscope.predictors.ensemble import _mean_on_grid

    grid = [(0, 3), (4, 7)]
    other = [(0, 7)]
    a = np.array([[1.0], [0.0]], dtype=np.float32)
    b = np.array([[0.5]], dtype=np.float32)
    assert np.allclose(_mean_on_grid([a, b], [grid, other]), [[0.75], [0.25]])
    assert np.allclose(_mean_on_grid([a, None], [grid, other]), a)
    assert _mean_on_grid([None, None], [grid, other]) is None


def test_second_reading_averages_shifted_windows(tmp_path, ptc):
    """``readings=2``: long texts are also read through windows whose edges fall elsewhere
    and the outputs averaged; a text that fits one window reads the same; an ensemble
    passes its number of readings to its members."""
    from dataclasses import replace

    import numpy as np

    model = load_folder(single_model_dir())
    valid = load_split(ptc, "valid")
    long_text = max((a.text for a in valid.articles.values()), key=len)
    short_text = "The corrupt elite lied again."
    # (one text per call: INT8 activations are scaled per batch, so batch-mates matter)
    once = [model.holding().encode([t])[0] for t in (long_text, short_text)]
    model = model.with_decode(replace(model.decode, readings=2))
    assert model.encoder.readings == 2
    twice = [model.holding().encode([t])[0] for t in (long_text, short_text)]
    assert twice[0].probs.shape == once[0].probs.shape and twice[0].hidden.dtype == np.float16
    np.testing.assert_allclose(twice[0].probs.sum(axis=1), 1.0, atol=1e-4)
    assert np.abs(twice[0].probs - once[0].probs).max() > 1e-3  # the second reading counts
    np.testing.assert_allclose(twice[1].probs, once[1].probs, atol=1e-6)
    pytest.importorskip("torch")
    from propscope.training.ensemble import write_ensemble_folder

    ens = load_folder(write_ensemble_folder([single_model_dir()] * 2, tmp_path / "ens",
                                            readings=2))
    assert ens.decode.readings == 2
    assert "--readings 2" in json.loads((tmp_path / "ens" / "manifest.json").read_text())[
        "rebuild"]
    # an ensemble of the model with itself reads the long text the way the model does twice
    np.testing.assert_allclose(ens.encode([long_text])[0].probs, twice[0].probs, atol=1e-5)

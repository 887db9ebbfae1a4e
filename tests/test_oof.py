"""Out-of-fold encodings (training/oof.py): what ``write_oof`` pickles beside a fold model is
what ``oof_folds`` reads back, for the held-out fold's articles only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from .conftest import single_model_dir

pytestmark = pytest.mark.model


def test_write_oof_then_oof_folds_round_trip(ptc, tmp_path):
    from propscope.training.oof import oof_folds, write_oof

    data = tmp_path / "ptc"
    data.mkdir()
    for entry in Path(ptc).iterdir():
        if entry.name != "folds.json":
            (data / entry.name).symlink_to(entry)
    folds = json.loads((Path(ptc) / "folds.json").read_text())["folds"]
    # fold 0 holds two articles, fold 1 the rest: small enough to encode in a test
    held = sorted(folds[0])[:2]
    small = [held, [a for f in folds for a in f if a not in held]]
    (data / "folds.json").write_text(json.dumps({"folds": small}))
    cv = tmp_path / "cv"
    shutil.copytree(single_model_dir(), cv / "fold0")
    logged: list[str] = []
    path = write_oof(cv / "fold0", data, 0, logged.append)
    assert path == cv / "fold0" / "oof.pkl" and "2 out-of-fold encodings" in logged[0]
    (fold,) = list(oof_folds(data, cv))  # folds 1-4 have no oof.pkl: left out
    assert fold.k == 0 and sorted(fold.ids) == held
    assert fold.seen.isdisjoint(fold.ids) and len(fold.seen) == len(small[1])
    # the pickled encodings are the fold model's own encodings of those articles
    texts = [(data / "train-articles" / f"article{a}.txt").read_text() for a in fold.ids]
    direct = fold.predictor.encode(texts)
    for saved, fresh in zip(fold.encodings, direct, strict=True):
        assert saved.offsets == fresh.offsets
        np.testing.assert_allclose(saved.probs, fresh.probs, atol=1e-6)

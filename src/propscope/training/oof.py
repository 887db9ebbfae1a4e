"""Out-of-fold encodings: every article encoded by a model that did not train on it.

Two sources: the five fold models of ``benchmarks/cv_folds.py`` or ``student_cv.py`` (all
371 articles; each ``foldK/oof.pkl`` beside its model, written by ``write_oof``), or one model
trained on the train split, on the ``valid`` articles, grouped by the fold each belongs to.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..corpus import Corpus, load_split, split_ids
from ..model_io import load_folder
from ..predictors.neural import Encoded, NeuralPredictor
from .loop import encode_corpus


@dataclass
class Fold:
    k: int
    predictor: NeuralPredictor
    ids: list[str]
    encodings: list[Encoded]
    seen: set[str]  # the articles whose labels the fold's model trained on


def write_oof(folder: Path, data_dir: Path | str, k: int, log=print) -> Path:
    """Encode fold ``k``'s articles with the model in ``folder`` (trained without them) and
    pickle the encodings to ``folder/oof.pkl``, where ``oof_folds`` reads them."""
    held = load_split(Path(data_dir), f"fold{k}")
    encs = encode_corpus(load_folder(folder), held)
    path = folder / "oof.pkl"
    with open(path, "wb") as f:
        pickle.dump({"fold": k, "ids": list(held.articles), "encodings": encs}, f)
    log(f"fold {k}: {len(encs)} out-of-fold encodings -> {path}")
    return path


def oof_folds(data_dir: Path | str, cv_dir: Path | str | None = None,
              model: Path | str | None = None) -> Iterator[Fold]:
    data = Path(data_dir)
    everything = set(load_split(data).articles)
    if cv_dir:
        for k in range(5):
            path = Path(cv_dir) / f"fold{k}" / "oof.pkl"
            if not path.exists():
                print(f"fold {k}: no {path}, left out", file=sys.stderr)
                continue
            with open(path, "rb") as f:
                saved = pickle.load(f)
            yield Fold(k, load_folder(path.parent), saved["ids"], saved["encodings"],
                       everything - set(split_ids(data, f"fold{k}")))
        return
    predictor = load_folder(model) if model else None
    assert predictor is not None, "give cv_dir or model"
    valid = load_split(data, "valid")
    train = set(split_ids(data, "train"))
    for k in range(5):
        held = set(split_ids(data, f"fold{k}"))
        ids = [a for a in valid.articles if a in held]
        sub = Corpus({a: valid.articles[a] for a in ids}, {a: valid.gold[a] for a in ids})
        yield Fold(k, predictor, ids, encode_corpus(predictor, sub), train)

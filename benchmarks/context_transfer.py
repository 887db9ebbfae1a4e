"""Does a second stage fitted on cross-validation carry over to the shipped model?

The shipped default's second stage was fitted on its own ``valid`` outputs (88 articles).
Here it is fitted instead on the out-of-fold rows of the five fold models
(``benchmarks/cv_folds.py``) for the 283 ``train`` articles only, and applied to the
shipped model's encodings of the 88 ``valid`` articles, none of which it saw: TC (given
gold spans) and FLC (``predict``'s spans, renamed by the second stage or not) on ``valid``.

    python benchmarks/context_transfer.py --cv runs/cv-minilm --model src/propscope/models/default

Add ``--write FOLDER`` to fit the chosen setting on every article's out-of-fold rows (all
371, lexicon from all labels) and store it in FOLDER (context.npz, manifest keys).

With ``--marker-oof DIR`` (``benchmarks/marker_cv.py train``'s output), every row's span
classifier block is the span head joined with the marker classifier, as ``classify`` joins
them, using the marker classifiers' out-of-fold probabilities (a model's own marker
classifier, trained on all articles, is left out of the rows: it saw them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

import numpy as np

from propscope import metrics
from propscope.context import build_lexicon
from propscope.corpus import load_split, split_ids
from propscope.model_io import load_folder
from propscope.training.context_fit import (
    Rows,
    article_rows,
    classify_rows,
    cross_validate,
    cv_rows,
    fit,
    gold_of,
    marker_join,
    store_stage,
)
from propscope.training.loop import encode_corpus


def encoder_key(folder: Path) -> str:
    """What a folder's valid encodings depend on: its encoders' files (the members' too,
    not the marker classifier's) and its window layout."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("encoder.onnx*")):
        rel = path.relative_to(folder)
        if "marker" not in rel.parts:
            h.update(rel.as_posix().encode())
            h.update(path.read_bytes())
    decode = json.loads((folder / "manifest.json").read_text()).get("decode", {})
    h.update(json.dumps([decode.get(k) for k in ("window", "stride", "readings")]).encode())
    return h.hexdigest()


def valid_encodings(model, folder: Path, data: Path, cache: Path | None):
    """The valid articles' ids and ``model``'s encodings of them (``model`` loaded from
    ``folder``); pickled to ``cache``, and read from it while the encoder is the same."""
    key = encoder_key(folder)
    if cache and cache.exists():
        with open(cache, "rb") as f:
            saved = pickle.load(f)
        if saved.get("key") == key:
            return saved["ids"], saved["encodings"]
        print(f"{cache}: made by another encoder or window layout, encoded again",
              file=sys.stderr)
    valid = load_split(data, "valid")
    encs = encode_corpus(model, valid)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "wb") as f:
            pickle.dump({"ids": list(valid.articles), "encodings": encs, "key": key}, f)
    return list(valid.articles), encs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--model", default="src/propscope/models/default")
    ap.add_argument("--cache", default="runs/x2s/valid_enc.pkl",
                    help="the model's valid encodings, pickled (made if missing or made by "
                    "another encoder)")
    ap.add_argument("--l2", default="10,30,100")
    ap.add_argument("--balance", default="0,0.2,0.5")
    ap.add_argument("--write", help="model folder to store the chosen second stage in")
    ap.add_argument("--marker-oof", help="out-of-fold marker classifier probabilities "
                    "(benchmarks/marker_cv.py train's folder) to join with the span head")
    ap.add_argument("--in-predict", action="store_true",
                    help="with --write: the stage also names the spans predict finds "
                    "(context_in_predict; cross-validated by benchmarks/stage_flc.py)")
    args = ap.parse_args()
    data = Path(args.data)
    everything = load_split(data)
    train_ids = set(split_ids(data, "train"))
    folds, techniques = cv_rows(data, everything, args.cv)
    join = marker_join(args.marker_oof, len(techniques))
    folds = [join(f) for f in folds]
    all_rows = Rows.concat(folds)
    keep = [k for k, a in enumerate(all_rows.article) if a in train_ids]
    train_rows = all_rows.subset(keep)
    train_lexicon = build_lexicon(((everything.articles[a].text, s) for a in train_ids
                                   for s in everything.gold[a]), techniques)

    model = load_folder(args.model)
    if model.marker is not None and not args.marker_oof:
        print("this model has a marker classifier: give --marker-oof DIR, its out-of-fold "
              "probabilities (its own saw every article)", file=sys.stderr)
        return 2
    model = model.with_marker(None)  # rows read the span head; join adds the marker's
    shipped = model.context
    ids, encs = valid_encodings(model, Path(args.model), data,
                                Path(args.cache) if args.cache else None)
    parts = [article_rows(model, a, e, everything.gold[a], train_lexicon)
             for a, e in zip(ids, encs, strict=True)]
    valid_rows = join(Rows.concat([p for p in parts if len(p.y)]))
    gold = gold_of(valid_rows, techniques)
    tc = lambda probs: metrics.tc_score(classify_rows(probs, valid_rows, techniques), gold)  # noqa: E731
    report: dict = {"train_rows": len(train_rows.y), "valid_rows": len(valid_rows.y)}
    base = tc(np.exp(valid_rows.x[:, : len(techniques)]))
    report["valid_tc_encoder"] = round(base.overall.f1, 4)
    if shipped is not None:
        # in-sample: the shipped stage was fitted on these very articles
        report["valid_tc_shipped_stage_in_sample"] = round(
            tc(shipped.probs_from_features(_with_lexicon(valid_rows, shipped, model, ids, encs,
                                                         everything))).overall.f1, 4)
    best = None
    report["settings"] = {}
    for l2 in (float(v) for v in args.l2.split(",")):
        for bal in (float(v) for v in args.balance.split(",")):
            stage = fit(train_rows, len(techniques), train_lexicon, l2=l2, balance=bal)
            score = tc(stage.probs_from_features(valid_rows.x))
            report["settings"][f"l2={l2},balance={bal}"] = round(score.overall.f1, 4)
            print(f"l2={l2} balance={bal}: valid TC {score.overall.f1:.4f}", file=sys.stderr)
            if best is None or score.overall.f1 > best[0]:
                best = (score.overall.f1, l2, bal, stage, score)
    assert best is not None
    f1, l2, bal, stage, score = best
    report["best"] = {"l2": l2, "balance": bal, "valid_tc": round(f1, 4)}
    report["per_technique"] = {
        t: {"encoder": _f1(base, t), "second_stage": _f1(score, t)} for t in techniques}
    report["flc"] = flc(model, stage, ids, encs, everything)
    report["cv_tc"] = cv_tc(folds, techniques, l2, bal)
    report["mixed_valid_cv"] = mixed(train_rows, valid_rows, data, techniques, l2, bal, tc)
    print(json.dumps(report, indent=1))
    if args.write:
        write(Path(args.write), Rows.concat([all_rows, valid_rows]), techniques, everything,
              l2, bal, report, same_recipe(Path(args.write), Path(args.cv)), args.marker_oof,
              args.cv, args.in_predict)
    return 0


def cv_tc(folds: list[Rows], techniques, l2: float, bal: float) -> dict:
    """5-fold CV TC over all 371 articles (fold models), without and with the stage."""
    allrows = Rows.concat(folds)
    base = metrics.tc_score(classify_rows(np.exp(allrows.x[:, : len(techniques)]), allrows,
                                          techniques), gold_of(allrows, techniques))
    with_, _ = cross_validate(folds, techniques, lambda r: fit(r, len(techniques), {}, l2=l2,
                                                                   balance=bal))
    return {"without": round(base.overall.f1, 4), "with": round(with_.overall.f1, 4)}


def mixed(train_rows: Rows, valid_rows: Rows, data: Path, techniques, l2, bal, tc) -> dict:
    """TC on ``valid`` by 5-fold CV within it (folds.json), each valid fold named by a
    stage fitted on the model's own rows of the other valid folds (``valid_only``), or on
    those plus the fold models' out-of-fold rows of the train articles (``train_and_valid``)."""
    fold_of = {a: k for k in range(5) for a in split_ids(data, f"fold{k}")}
    out = {}
    for name, extra in (("valid_only", None), ("train_and_valid", train_rows)):
        probs = np.zeros((len(valid_rows.y), len(techniques)), np.float32)
        for k in range(5):
            held = np.array([fold_of[a] == k for a in valid_rows.article])
            part = valid_rows.subset(np.nonzero(~held)[0])
            rows = Rows.concat([extra, part]) if extra is not None else part
            stage = fit(rows, len(techniques), {}, l2=l2, balance=bal)
            probs[held] = stage.probs_from_features(valid_rows.x[held])
        out[name] = round(tc(probs).overall.f1, 4)
    return out


def _f1(score: metrics.Score, t: str) -> float | None:
    return round(score.per_technique[t].f1, 3) if t in score.per_technique else None


def _with_lexicon(rows: Rows, stage, model, ids, encs, everything) -> np.ndarray:
    """``rows``'s features with the lexicon block of ``stage``'s own lexicon."""
    parts = [article_rows(model, a, e, everything.gold[a], stage.lexicon)
             for a, e in zip(ids, encs, strict=True)]
    return Rows.concat([p for p in parts if len(p.y)]).x


def flc(model, stage, ids, encs, everything) -> dict:
    """FLC of ``predict``'s spans on ``valid``: as shipped (second stage for ``classify``
    only), without any second stage, and with ``stage`` also naming predicted spans."""
    out = {}
    for name, context, in_predict in (("no_stage", None, False),
                                      ("stage_names_predicted", stage, True)):
        p = model.with_context(context, in_predict)
        pred = {a: p.spans_from(e) for a, e in zip(ids, encs, strict=True)}
        gold = {a: everything.gold[a] for a in ids}
        out[name] = round(metrics.flc_score(pred, gold).overall.f1, 4)
    return out


def same_recipe(folder: Path, cv: Path) -> bool:
    """Is ``folder``'s encoder the fold models' (so that their CV figures are its recipe's)?
    A student of fewer layers (``encoder_shape``) is another recipe."""
    def encoder(f: Path) -> tuple[str | None, tuple | None]:  # an ensemble's: its members'
        manifest = json.loads((f / "manifest.json").read_text())
        if manifest.get("kind") == "ensemble":
            kinds = {encoder(f / m) for m in manifest.get("members", [])}
            return kinds.pop() if len(kinds) == 1 else (None, None)
        shape = manifest.get("encoder_shape")
        return manifest.get("encoder"), tuple(shape) if shape else None

    (mine, my_shape), (theirs, their_shape) = encoder(folder), encoder(cv / "fold0")
    return mine == theirs and (None in (my_shape, their_shape) or my_shape == their_shape)


#: the commands that write each folder of fold models, for the rebuild note (a student's
#: folds need the teacher's fold models first, for their soft targets)
_TEACHER_FOLDS = "python benchmarks/cv_folds.py --out runs/cv-minilm"
_FOLD_RECIPES = {
    "cv-minilm": _TEACHER_FOLDS,
    "cv-student": f"{_TEACHER_FOLDS} && python benchmarks/student_cv.py --out runs/cv-student",
    "cv-student-l4": f"{_TEACHER_FOLDS} && python benchmarks/student_cv.py --layers 4 "
                     "--out runs/cv-student-l4",
}


def write(folder: Path, rows: Rows, techniques, everything, l2, bal, report,
          recipe_cv: bool = True, marker_oof: str | None = None,
          cv: str = "runs/cv-minilm", in_predict: bool = False) -> None:
    """Fit on ``rows`` (the fold models' out-of-fold rows of all 371 articles and the
    model's own rows of the valid articles, which it did not train on) and store it. The
    fold models' CV figures are stored as the model's (``cv_tc``, which ``propscope models``
    shows) only when they are of its recipe (``recipe_cv``); else as ``fold_models_cv_tc``.
    ``in_predict``: the stage also names the spans ``predict`` finds (else ``classify``'s
    only)."""
    lexicon = build_lexicon(((a.text, s) for a, spans in everything.items() for s in spans),
                            techniques)
    stage = fit(rows, len(techniques), lexicon, l2=l2, balance=bal)
    store_stage(folder, stage, {
        "rows": int(len(rows.y)), "setting": f"l2={l2},balance={bal}",
        "source": f"out-of-fold rows of the 5 fold models in {cv} (all 371 articles) and "
                  "this model's rows of the 88 valid articles",
        "fitted_on": "train+valid",
        **({"marker": f"span head joined with the out-of-fold marker probabilities of "
                      f"{marker_oof} (benchmarks/marker_cv.py)"} if marker_oof else {}),
        ("cv_tc" if recipe_cv else "fold_models_cv_tc"): report["cv_tc"],
        "valid_tc_without": report["valid_tc_encoder"],
        "valid_tc_with_fitted_on_train_folds": report["best"]["valid_tc"],
        "valid_tc_with_by_cv_within_valid": report["mixed_valid_cv"]["train_and_valid"],
        "flc_valid": report["flc"],
        "rebuild": _FOLD_RECIPES.get(Path(cv).name,
                                     f"python benchmarks/cv_folds.py --out {cv}") + " && "
                   + ("python benchmarks/marker_cv.py train --keep && " if marker_oof else "")
                   + f"python benchmarks/context_transfer.py --cv {cv} "
                   f"--l2 {l2} --balance {bal}"
                   + (f" --marker-oof {marker_oof}" if marker_oof else "")
                   + (" --in-predict" if in_predict else "") + " --write MODEL",
    }, in_predict)


if __name__ == "__main__":
    sys.exit(main())

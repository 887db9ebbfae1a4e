"""FLC with a second stage that also names the spans ``predict`` finds, cross-validated.

Three second stages, each fitted per fold on the other folds' out-of-fold rows:
``gold`` (rows are gold spans, as shipped for ``classify``), ``predicted`` (rows are the
spans ``predict`` finds, labelled by the gold span they overlap most) and ``both``. Each
names fold K's predicted spans; FLC over all 371 articles, and TC (given gold spans) for
the same stages, so that one stage serving both can be chosen. Then the same three fitted
on the 283 ``train`` articles' rows, applied to the shipped model on ``valid``.

    python benchmarks/flc_study.py --cv runs/cv-minilm --model src/propscope/models/default
"""

from __future__ import annotations

import argparse
import json
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
    fit,
    fold_lexicon,
    gold_of,
    predicted_rows,
)
from propscope.training.oof import oof_folds

sys.path.insert(0, str(Path(__file__).parent))
from context_transfer import valid_encodings  # noqa: E402

KINDS = ("gold", "predicted", "both")


def rows_of(predictor, ids, encs, corpus, lexicon) -> dict[str, Rows]:
    pairs = list(zip(ids, encs, strict=True))
    g = [article_rows(predictor, a, e, corpus.gold[a], lexicon) for a, e in pairs]
    p = [predicted_rows(predictor, a, e, corpus.gold[a], lexicon) for a, e in pairs]
    gold = Rows.concat([r for r in g if len(r.y)])
    pred = Rows.concat([r for r in p if len(r.y)])
    return {"gold": gold, "predicted": pred, "both": Rows.concat([gold, pred])}


def predictions(predictor, stage, ids, encs) -> dict:
    p = predictor.with_context(stage, in_predict=stage is not None)
    return {a: p.spans_from(e) for a, e in zip(ids, encs, strict=True)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--model", default="src/propscope/models/default")
    ap.add_argument("--cache", default="runs/x2s/valid_enc.pkl")
    ap.add_argument("--l2", type=float, default=30.0)
    ap.add_argument("--balance", type=float, default=0.2)
    args = ap.parse_args()
    data = Path(args.data)
    corpus = load_split(data)
    folds, rows, lexicons = [], [], []
    for fold in oof_folds(data, args.cv):
        techniques = fold.predictor.techniques
        lexicon = fold_lexicon(corpus, data, fold.k, techniques)
        folds.append(fold)
        lexicons.append(lexicon)
        rows.append(rows_of(fold.predictor, fold.ids, fold.encodings, corpus, lexicon))
        print(f"fold {fold.k}: " + ", ".join(f"{k} {len(v.y)}" for k, v in rows[-1].items()),
              file=sys.stderr)
    t = len(techniques)
    make = lambda r: fit(r, t, {}, l2=args.l2, balance=args.balance)  # noqa: E731
    report: dict = {"setting": f"l2={args.l2},balance={args.balance}", "cv": {}, "valid": {}}
    pred = {k: {} for k in ("none",) + KINDS}
    tc_probs = {k: [] for k in ("none",) + KINDS}
    for k, fold in enumerate(folds):
        pred["none"].update(predictions(fold.predictor, None, fold.ids, fold.encodings))
        held = rows[k]["gold"]
        tc_probs["none"].append(np.exp(held.x[:, :t]))
        for kind in KINDS:
            stage = make(Rows.concat([r[kind] for j, r in enumerate(rows) if j != k]))
            stage.lexicon = lexicons[k]
            pred[kind].update(predictions(fold.predictor, stage, fold.ids, fold.encodings))
            tc_probs[kind].append(stage.probs_from_features(held.x))
    gold = {a: corpus.gold[a] for a in pred["none"]}
    all_gold_rows = Rows.concat([r["gold"] for r in rows])
    tc_gold = gold_of(all_gold_rows, techniques)
    for kind in ("none",) + KINDS:
        flc = metrics.flc_score(pred[kind], gold)
        tc = metrics.tc_score(classify_rows(np.concatenate(tc_probs[kind]), all_gold_rows,
                                            techniques), tc_gold)
        report["cv"][kind] = {"flc": round(flc.overall.f1, 4), "tc": round(tc.overall.f1, 4),
                              "flc_per_technique": {
                                  n: round(flc.per_technique[n].f1, 3)
                                  for n in techniques if n in flc.per_technique}}
        print(f"CV {kind}: FLC {flc.overall.f1:.4f} TC {tc.overall.f1:.4f}", file=sys.stderr)
    report["valid"] = transfer(args, data, corpus, rows, folds, techniques, make)
    print(json.dumps(report, indent=1))
    return 0


def transfer(args, data, corpus, rows, folds, techniques, make) -> dict:
    """Stages fitted on the train articles' out-of-fold rows, on the shipped model's valid."""
    train_ids = set(split_ids(data, "train"))
    model = load_folder(args.model)
    ids, encs = valid_encodings(model, Path(args.model), data,
                                Path(args.cache) if args.cache else None)
    lexicon = build_lexicon(((corpus.articles[a].text, s) for a in train_ids
                             for s in corpus.gold[a]), techniques)
    valid_rows = rows_of(model, ids, encs, corpus, lexicon)["gold"]
    gold = {a: corpus.gold[a] for a in ids}
    out = {"none": {"flc": round(metrics.flc_score(predictions(model, None, ids, encs), gold)
                                 .overall.f1, 4)}}
    for kind in KINDS:
        r = Rows.concat([f[kind] for f in rows])
        keep = [k for k, a in enumerate(r.article) if a in train_ids]
        stage = make(r.subset(keep))
        stage.lexicon = lexicon
        flc = metrics.flc_score(predictions(model, stage, ids, encs), gold).overall.f1
        tc = metrics.tc_score(classify_rows(stage.probs_from_features(valid_rows.x), valid_rows,
                                            techniques), gold_of(valid_rows, techniques))
        out[kind] = {"flc": round(flc, 4), "tc": round(tc.overall.f1, 4)}
        print(f"valid {kind}: FLC {flc:.4f} TC {tc.overall.f1:.4f}", file=sys.stderr)
    return out


if __name__ == "__main__":
    sys.exit(main())

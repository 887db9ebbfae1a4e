"""TC with and without the span-set second stage, cross-validated over folds.json.

Two sources of out-of-fold encodings:

    # the five fold models of benchmarks/cv_folds.py (all 371 articles out of fold)
    python benchmarks/context_study.py --cv runs/cv-minilm
    # a model trained on the train split, on the valid articles (grouped by their fold)
    python benchmarks/context_study.py --model src/propscope/models/default

For each article, the lexicon block is built from gold labels the encoder could have seen
without that article's fold. Prints TC micro-F1 (argmax of the encoder's span classifier,
then the second stage for each setting), per technique for the best, as JSON at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from propscope import metrics
from propscope.context import build_lexicon
from propscope.corpus import load_split
from propscope.training.context_fit import (
    Rows,
    classify_rows,
    cross_validate,
    fit,
    fold_rows,
    gold_of,
    store_stage,
)
from propscope.training.oof import oof_folds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", help="folder of fold models with oof.pkl (cv_folds.py)")
    ap.add_argument("--model", default="src/propscope/models/default")
    ap.add_argument("--l2", default="1,10,100")
    ap.add_argument("--balance", default="0,0.25,0.5")
    ap.add_argument("--write", help="model folder: fit the best setting on every row and "
                    "store it there (context.npz, manifest keys context, context_cv)")
    args = ap.parse_args()
    data = Path(args.data)
    everything = load_split(data)
    techniques = None
    folds: list[Rows] = []
    sources = []
    lexicons = []
    for fold in oof_folds(data, args.cv, None if args.cv else args.model):
        techniques = fold.predictor.techniques
        lexicon, rows = fold_rows(data, everything, fold)
        lexicons.append(lexicon)
        folds.append(rows)
        sources.append(fold)
        print(f"fold {fold.k}: {len(fold.ids)} articles, {len(rows.y)} rows", file=sys.stderr)
    assert techniques is not None
    allrows = Rows.concat(folds)
    gold = gold_of(allrows, techniques)
    base = np.exp(allrows.x[:, : len(techniques)])
    base_score = metrics.tc_score(classify_rows(base, allrows, techniques), gold)
    report = {"rows": int(len(allrows.y)), "base_tc": round(base_score.overall.f1, 4),
              "settings": {}}
    print(f"encoder span classifier: TC {base_score.overall.f1:.4f}")
    best = (base_score.overall.f1, "base", base_score)
    for l2 in (float(v) for v in args.l2.split(",")):
        for bal in (float(v) for v in args.balance.split(",")):
            score, _ = cross_validate(folds, techniques, lambda r, l2=l2, bal=bal: fit(
                r, len(techniques), {}, l2=l2, balance=bal))
            f1 = score.overall.f1
            report["settings"][f"l2={l2},balance={bal}"] = round(f1, 4)
            print(f"second stage l2={l2} balance={bal}: TC {f1:.4f}")
            if f1 > best[0]:
                best = (f1, f"l2={l2},balance={bal}", score)
    report["best"] = best[1]
    report["per_technique"] = {
        t: {"base": round(base_score.per_technique[t].f1, 3)
            if t in base_score.per_technique else None,
            "best": round(best[2].per_technique[t].f1, 3) if t in best[2].per_technique else None}
        for t in techniques}
    if best[1] != "base":
        l2, bal = (float(v.split("=")[1]) for v in best[1].split(","))
        report["flc"] = flc_check(sources, folds, lexicons, techniques, everything, l2, bal)
    print(json.dumps(report, indent=1))
    if args.write and best[1] != "base":
        lexicon = build_lexicon(((a.text, s) for a, spans in everything.items() for s in spans),
                                techniques)
        head = fit(allrows, len(techniques), lexicon, l2=l2, balance=bal)
        store_stage(Path(args.write), head, {
            "rows": report["rows"], "setting": best[1],
            "source": args.cv or f"{args.model} on valid", "tc_without": report["base_tc"],
            "tc_with": round(best[0], 4), "flc": report.get("flc")})
    return 0


def flc_check(sources, folds, lexicons, techniques, everything, l2, bal) -> dict:
    """Benchmark predictions of each fold with and without the second stage fitted on the
    other folds (the second stage also names the spans ``predict`` writes)."""
    without, with_ = {}, {}
    for k, fold in enumerate(sources):
        train = Rows.concat([f for j, f in enumerate(folds) if j != k])
        plain = fold.predictor.with_context(None)
        second = fold.predictor.with_context(
            fit(train, len(techniques), lexicons[k], l2=l2, balance=bal), in_predict=True)
        for a, e in zip(fold.ids, fold.encodings, strict=True):
            without[a], with_[a] = plain.spans_from(e), second.spans_from(e)
    gold = {a: everything.gold[a] for a in without}
    return {"flc_without": round(metrics.flc_score(without, gold).overall.f1, 4),
            "flc_with": round(metrics.flc_score(with_, gold).overall.f1, 4)}


if __name__ == "__main__":
    sys.exit(main())

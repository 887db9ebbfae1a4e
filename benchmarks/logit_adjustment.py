"""Logit adjustment against the training prior, cross-validated over folds.json.

Each row's technique probabilities (the encoder's span classifier, or the second stage fitted
on the other folds) are adjusted as ``log p - tau * log prior`` (the technique shares of all
out-of-fold rows), which favours rare techniques more as ``tau`` grows. TC micro-F1 (the
benchmark's measure), macro-F1 and three techniques the blind set has more of.

    python benchmarks/logit_adjustment.py --cv runs/cv-minilm
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from propscope import metrics
from propscope.corpus import load_split
from propscope.training.context_fit import (
    Rows,
    classify_rows,
    cross_validate,
    cv_rows,
    fit,
    gold_of,
)

WATCH = ("Repetition", "Slogans", "Flag-Waving")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--taus", default="0,0.1,0.2,0.3,0.5,0.75")
    args = ap.parse_args()
    data = Path(args.data)
    corpus = load_split(data)
    folds, techniques = cv_rows(data, corpus, args.cv)
    rows = Rows.concat(folds)
    gold = gold_of(rows, techniques)
    t = len(techniques)
    prior = np.bincount(rows.y, minlength=t) / len(rows.y)
    _, stage = cross_validate(folds, techniques,
                              lambda r: fit(r, t, {}, l2=30, balance=0.2))
    print("| probabilities | tau | TC micro-F1 | macro-F1 | " + " | ".join(WATCH) + " |")
    print("|---|---|---|---|" + "---|" * len(WATCH))
    for name, probs in (("encoder", np.exp(rows.x[:, :t])), ("second stage", stage)):
        for tau in (float(v) for v in args.taus.split(",")):
            q = np.log(np.clip(probs, 1e-6, 1.0)) - tau * np.log(prior)
            q = np.exp(q - q.max(axis=1, keepdims=True))
            q /= q.sum(axis=1, keepdims=True)
            s = metrics.tc_score(classify_rows(q, rows, techniques), gold)
            macro = np.mean([v.f1 for v in s.per_technique.values()])
            watch = " | ".join(f"{s.per_technique[w].f1:.3f}" for w in WATCH)
            print(f"| {name} | {tau} | {s.overall.f1:.4f} | {macro:.4f} | {watch} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

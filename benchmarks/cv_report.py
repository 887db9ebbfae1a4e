"""Five-fold CV figures of a recipe from its out-of-fold encodings (benchmarks/cv_folds.py).

    python benchmarks/cv_report.py --cv runs/cv-minilm [--context l2=30,balance=0.2]
    # the shipped model's floor: its span and labeller settings kept, the rest tuned
    python benchmarks/cv_report.py --cv runs/cv-minilm --keep-decode src/propscope/models/default

Decoding (span seed/extend thresholds by SI; labeller and technique-head thresholds, then
the second-name ratio and the score floor, by SI + FLC while SI and SLC stay within 0.005)
is tuned once on the pooled out-of-fold encodings of all folds (a handful of scalars on 371
articles), then every measure is computed per fold: mean, spread, pooled, and per technique
(TC, FLC). With ``--context``, the second stage of each fold is fitted on the other folds'
gold spans (lexicon without the fold) and the figures are given again.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from propscope import alignment, metrics
from propscope.core import classify_spans
from propscope.corpus import load_split
from propscope.evaluation import score_predictions
from propscope.spans import Span
from propscope.training.context_fit import Rows, article_rows, fit, fold_lexicon
from propscope.training.oof import oof_folds

#: how much SI and SLC the second-name ratio and the score floor may cost (for FLC)
SLACK = 0.005


#: the decoding settings the first two steps choose (``--keep-decode`` takes a model's)
SPANS_AND_LABELLER = ("span_threshold", "extend_threshold", "max_gap", "labeller",
                      "technique_threshold", "technique_extend")


def tune(folds, gold, texts, keep: dict | None = None) -> dict:
    """Decoding chosen on the pooled out-of-fold encodings (see module docstring); with
    ``keep``, the span and labeller settings are those and only the last step is tuned."""
    if keep:
        start = {k: keep[k] for k in SPANS_AND_LABELLER if k in keep}
    else:
        start = tune_labeller(folds, gold, tune_spans(folds, gold))
    return tune_floor(folds, gold, texts, {**start, "second_label_ratio": 0.5,
                                           "min_score": 0.0})


def tune_spans(folds, gold) -> dict:
    best, best_f1 = {}, -1.0
    for hi in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        for lo in (x for x in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35) if x <= hi):
            pred = {a: [Span(s, e) for s, e, _ in alignment.decode_runs(
                enc.text, enc.offsets, alignment.in_span(enc.probs), hi, 2, lo, 2)]
                for f in folds for a, enc in zip(f.ids, f.encodings, strict=True)}
            f1 = metrics.si_score(pred, gold).overall.f1
            if f1 > best_f1:
                best, best_f1 = {"span_threshold": hi, "extend_threshold": lo, "max_gap": 2}, f1
    print(f"span decoding {best}: pooled SI {best_f1:.4f}", file=sys.stderr)
    return best


def tune_labeller(folds, gold, best: dict) -> dict:
    chosen, chosen_f1 = {**best, "labeller": "span_head"}, -1.0
    grid = (0.2, 0.3, 0.4, 0.5)
    cands = [{**best, "labeller": "span_head"}] + [
        {**best, "labeller": lab, "technique_threshold": hi, "technique_extend": lo}
        for lab in ("token_head", "union") for hi in grid for lo in grid if lo <= hi]
    for cand in cands:
        pred = predictions(folds, cand)
        f1 = metrics.si_score(pred, gold).overall.f1 + metrics.flc_score(pred, gold).overall.f1
        if f1 > chosen_f1:
            chosen, chosen_f1 = cand, f1
    print(f"labeller {chosen}: pooled SI + FLC {chosen_f1:.4f}", file=sys.stderr)
    return chosen


def tune_floor(folds, gold, texts, start: dict) -> dict:
    """The second name of a BIO span (ratio 1: only on a tie) and the score floor, by SI +
    FLC among those that keep SI and SLC within SLACK of ``start``'s."""
    start_pred = predictions(folds, start)
    floor_si = metrics.si_score(start_pred, gold).overall.f1 - SLACK
    floor_slc = metrics.slc_score(start_pred, gold, texts).overall.f1 - SLACK
    chosen, chosen_f1 = start, -1.0
    for ratio in (0.5, 0.7, 1.0):
        for floor in (0.0, 0.1, 0.15, 0.2, 0.25, 0.3):
            cand = {**start, "second_label_ratio": ratio, "min_score": floor}
            pred = predictions(folds, cand)
            si = metrics.si_score(pred, gold).overall.f1
            slc = metrics.slc_score(pred, gold, texts).overall.f1
            f1 = si + metrics.flc_score(pred, gold).overall.f1
            print(f"  ratio {ratio} floor {floor}: SI {si:.4f} SLC {slc:.4f} SI + FLC {f1:.4f}",
                  file=sys.stderr)
            if f1 > chosen_f1 and si >= floor_si and slc >= floor_slc:
                chosen, chosen_f1 = cand, f1
    print(f"second names and floor {chosen}: pooled SI + FLC {chosen_f1:.4f}", file=sys.stderr)
    return chosen


def predictions(folds, decode: dict) -> dict[str, list[Span]]:
    out = {}
    for f in folds:
        d = replace(f.predictor.decode, **decode)
        for a, enc in zip(f.ids, f.encodings, strict=True):
            out[a] = f.predictor.spans_from(enc, d)
    return out


def figures(folds, corpus, decode: dict) -> dict:
    per_fold, pooled_pred, pooled_cls = [], {}, {}
    for f in folds:
        sub = type(corpus)({a: corpus.articles[a] for a in f.ids},
                           {a: corpus.gold[a] for a in f.ids})
        pred = predictions([f], decode)
        held = f.predictor.holding(f.encodings)
        cls = {a: classify_spans(held, corpus.articles[a].text, corpus.gold[a])
               for a in f.ids}
        scores = score_predictions(sub, pred, cls)
        per_fold.append({k: v.overall.f1 for k, v in scores.items()})
        pooled_pred.update(pred)
        pooled_cls.update(cls)
    texts = {a: corpus.articles[a].text for a in pooled_pred}
    gold = {a: corpus.gold[a] for a in pooled_pred}
    pooled = score_predictions(type(corpus)({a: corpus.articles[a] for a in texts}, gold),
                               pooled_pred, pooled_cls)
    out = {k: {"mean": round(float(np.mean([p[k] for p in per_fold])), 4),
               "sd": round(float(np.std([p[k] for p in per_fold])), 4),
               "pooled": round(pooled[k].overall.f1, 4),
               "folds": [round(p[k], 4) for p in per_fold]} for k in per_fold[0]}
    out["per_technique"] = {m: {t: round(v.f1, 3) for t, v in pooled[m].per_technique.items()}
                            for m in ("tc", "flc")}
    return out


def with_context(folds, corpus, data: Path, setting: str) -> list:
    """Each fold's predictor with a second stage fitted on the other folds."""
    l2, bal = (float(v.split("=")[1]) for v in setting.split(","))
    rows = []
    for f in folds:
        lex = fold_lexicon(corpus, data, f.k, f.predictor.techniques)
        parts = [article_rows(f.predictor, a, e, corpus.gold[a], lex)
                 for a, e in zip(f.ids, f.encodings, strict=True)]
        rows.append((lex, Rows.concat([p for p in parts if len(p.y)])))
    out = []
    for k, f in enumerate(folds):
        train = Rows.concat([r for j, (_, r) in enumerate(rows) if j != k])
        g = copy.copy(f)
        # in_predict: FLC shows what it does to predicted spans
        g.predictor = f.predictor.with_context(
            fit(train, len(f.predictor.techniques), rows[k][0], l2, bal), in_predict=True)
        out.append(g)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv", required=True)
    ap.add_argument("--context", help="second-stage setting, e.g. l2=30,balance=0.2")
    ap.add_argument("--keep-decode", metavar="MODEL",
                    help="keep MODEL's span and labeller settings; tune only the second-name "
                    "ratio and the score floor (how the shipped model's were chosen)")
    args = ap.parse_args()
    data = Path(args.data)
    corpus = load_split(data)
    folds = list(oof_folds(data, args.cv))
    gold = {a: corpus.gold[a] for f in folds for a in f.ids}
    keep = (json.loads((Path(args.keep_decode) / "manifest.json").read_text())["decode"]
            if args.keep_decode else None)
    decode = tune(folds, gold, {a: corpus.articles[a].text for a in gold}, keep)
    report = {"folds": [f.k for f in folds], "articles": len(gold), "decode": decode,
              "encoder only": figures(folds, corpus, decode)}
    if args.context and len(folds) < 2:
        print("--context needs at least two folds with encodings", file=sys.stderr)
    elif args.context:
        report[f"second stage {args.context}"] = figures(
            with_context(folds, corpus, data, args.context), corpus, decode)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Would the marker span classifier help FLC if it also named the spans ``predict`` finds?

Cross-validated over folds.json: each fold model (``runs/cv-minilm``) decodes its
out-of-fold articles with the shipped model's decoding, naming its BIO spans by its span
head alone (as shipped) or by the span head joined with the marker classifier that did not
train on the fold (``marker_cv.py train --keep``: ``runs/marker-cv/minilm-kept/fold<k>``).
SI, FLC and SLC pooled over the 371 articles (the score floor can drop or keep other spans
once their names' probabilities move, so SI and SLC may move too), and TC on the gold spans
(no second stage: the fold models have none). ``--folds`` takes some folds only, e.g. to
set the fold models of another recipe (``student_cv.py``) beside these fold by fold.

    python benchmarks/marker_flc.py [--kept runs/marker-cv/minilm-kept] [--cv DIR] [--folds 0]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from propscope import metrics
from propscope.config import DecodeConfig
from propscope.core import classify_spans
from propscope.corpus import load_split
from propscope.model_io import load_marker
from propscope.predictors.decoding import Namer, decode
from propscope.training.oof import oof_folds

DATA = Path("../shared/ptc")


def joined_decoding(fold, kept: Path, keep: dict) -> tuple[DecodeConfig, Namer, Any]:
    """A fold model's decoding with ``keep``'s settings (its own windows), the namer that
    joins its span head with the marker classifier that did not train on the fold, and the
    fold model with that classifier (a predictor)."""
    plain = fold.predictor
    marked = plain.with_marker(load_marker(kept / f"fold{fold.k}", list(plain.techniques)))
    joined = Namer(plain.techniques, marked.classifier_probs)
    config = replace(plain.decode, **{k: v for k, v in keep.items()
                                      if k not in ("window", "stride")})
    return config, joined, marked


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--kept", default="runs/marker-cv/minilm-kept")
    ap.add_argument("--keep-decode", default="src/propscope/models/default",
                    help="the model whose decoding settings the fold models use")
    ap.add_argument("--folds", default="0,1,2,3,4")
    args = ap.parse_args()
    wanted = {int(k) for k in args.folds.split(",")}
    corpus = load_split(DATA)
    keep = json.loads((Path(args.keep_decode) / "manifest.json").read_text())["decode"]
    pred: dict[str, dict] = {"span head": {}, "joined": {}}
    named: dict[str, dict] = {"span head": {}, "joined": {}}  # gold spans, named (TC)
    per_fold: dict[str, list[float]] = {"span head": [], "joined": []}
    for fold in oof_folds(DATA, args.cv):
        if fold.k not in wanted:
            continue
        plain = fold.predictor
        if not (Path(args.kept) / f"fold{fold.k}" / "head.npz").exists():
            print(f"fold {fold.k}: no kept classifier yet, left out", flush=True)
            continue
        config, joined, marked = joined_decoding(fold, Path(args.kept), keep)
        gold = {a: corpus.gold[a] for a in fold.ids}
        for name, namer, held in (("span head", plain.span_head(), plain),
                                  ("joined", joined, marked)):
            spans = {a: decode(e, config, namer) for a, e in zip(fold.ids, fold.encodings,
                                                                  strict=True)}
            pred[name].update(spans)
            held = held.holding(fold.encodings)
            named[name].update({a: classify_spans(held, corpus.articles[a].text, gold[a])
                                for a in fold.ids})
            per_fold[name].append(round(metrics.flc_score(spans, gold).overall.f1, 4))
        print(f"fold {fold.k}: FLC {per_fold['span head'][-1]} -> {per_fold['joined'][-1]}",
              flush=True)
    gold = {a: corpus.gold[a] for a in pred["joined"]}
    texts = {a: corpus.articles[a].text for a in gold}
    out = {}
    for name, spans in pred.items():
        flc = metrics.flc_score(spans, gold)
        out[name] = {"si": round(metrics.si_score(spans, gold).overall.f1, 4),
                     "tc": round(metrics.tc_score(named[name], gold).overall.f1, 4),
                     "flc": round(flc.overall.f1, 4),
                     "slc": round(metrics.slc_score(spans, gold, texts).overall.f1, 4),
                     "flc_folds": per_fold[name],
                     "flc_mean_sd": [round(float(np.mean(per_fold[name])), 4),
                                     round(float(np.std(per_fold[name])), 4)],
                     "flc_per_technique": {t: round(v.f1, 3)
                                           for t, v in flc.per_technique.items()},
                     "spans": sum(map(len, spans.values()))}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

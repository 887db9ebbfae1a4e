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
        [--save DIR] [--saved DIR ...]

A session's machine does not outlive it, and a fold of a slow recipe (the student: about
an hour) may be all a session can train. ``--save DIR`` writes each fold's decoded spans
and its named gold spans to ``DIR/fold<k>.json`` (offsets and labels only, a few hundred
KB), and ``--saved DIR`` scores such files, from any number of sessions, with no model:
the pooled figures of folds trained apart are the same as if they had run together.
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
from propscope.spans import Span
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


NAMES = ("span head", "joined")


def fold_results(args: argparse.Namespace, corpus) -> dict[int, dict]:
    """Each wanted fold's ``{name: {"spans": {id: [Span]}, "named": {id: [Span]}}}``,
    decoded by the fold models (``--cv``) or read back from ``--saved`` files."""
    wanted = {int(k) for k in args.folds.split(",")}
    out: dict[int, dict] = {}
    if args.saved:
        for folder in args.saved:
            for path in sorted(Path(folder).glob("fold*.json")):
                saved = json.loads(path.read_text())
                if saved["fold"] in wanted:
                    out[saved["fold"]] = {name: {kind: {a: [Span(*x) for x in spans]
                                                        for a, spans in saved[name][kind].items()}
                                                 for kind in ("spans", "named")}
                                          for name in NAMES}
        return out
    keep = json.loads((Path(args.keep_decode) / "manifest.json").read_text())["decode"]
    for fold in oof_folds(DATA, args.cv):
        if fold.k not in wanted:
            continue
        plain = fold.predictor
        if not (Path(args.kept) / f"fold{fold.k}" / "head.npz").exists():
            print(f"fold {fold.k}: no kept classifier yet, left out", flush=True)
            continue
        config, joined, marked = joined_decoding(fold, Path(args.kept), keep)
        gold = {a: corpus.gold[a] for a in fold.ids}
        out[fold.k] = {}
        for name, namer, held in (("span head", plain.span_head(), plain),
                                  ("joined", joined, marked)):
            spans = {a: decode(e, config, namer) for a, e in zip(fold.ids, fold.encodings,
                                                                  strict=True)}
            held = held.holding(fold.encodings)
            named = {a: classify_spans(held, corpus.articles[a].text, gold[a])
                     for a in fold.ids}
            out[fold.k][name] = {"spans": spans, "named": named}
        if args.save:
            folder = Path(args.save)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"fold{fold.k}.json").write_text(json.dumps(
                {"fold": fold.k, "cv": str(args.cv), "kept": str(args.kept),
                 **{name: {kind: {a: [[x.start, x.end, x.technique, round(float(x.score), 4)]
                                      for x in spans]
                                  for a, spans in out[fold.k][name][kind].items()}
                           for kind in ("spans", "named")} for name in NAMES}},
                separators=(",", ":")) + "\n")
    return out


def span_summary(spans: dict[str, list[Span]], corpus, per_fold: list[float]) -> dict:
    """SI, FLC and SLC of decoded ``spans`` pooled over their articles, FLC per fold (given)
    and per technique, and how many spans."""
    gold = {a: corpus.gold[a] for a in spans}
    texts = {a: corpus.articles[a].text for a in gold}
    flc = metrics.flc_score(spans, gold)
    return {"si": round(metrics.si_score(spans, gold).overall.f1, 4),
            "flc": round(flc.overall.f1, 4),
            "slc": round(metrics.slc_score(spans, gold, texts).overall.f1, 4),
            "flc_folds": per_fold,
            "flc_mean_sd": [round(float(np.mean(per_fold)), 4), round(float(np.std(per_fold)), 4)],
            "flc_per_technique": {t: round(v.f1, 3) for t, v in flc.per_technique.items()},
            "spans": sum(map(len, spans.values()))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--kept", default="runs/marker-cv/minilm-kept")
    ap.add_argument("--keep-decode", default="src/propscope/models/default",
                    help="the model whose decoding settings the fold models use")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--save", help="write each fold's spans to DIR/fold<k>.json")
    ap.add_argument("--saved", nargs="+",
                    help="score the folds saved in these folders (no models needed)")
    args = ap.parse_args()
    corpus = load_split(DATA)
    folds = fold_results(args, corpus)
    per_fold: dict[str, list[float]] = {name: [] for name in NAMES}
    for k in sorted(folds):
        for name in NAMES:
            gold = {a: corpus.gold[a] for a in folds[k][name]["spans"]}
            per_fold[name].append(round(metrics.flc_score(folds[k][name]["spans"], gold)
                                        .overall.f1, 4))
        print(f"fold {k}: FLC {per_fold['span head'][-1]} -> {per_fold['joined'][-1]}",
              flush=True)
    out = {"folds": sorted(folds)}
    for name in NAMES:
        spans = {a: x for k in folds for a, x in folds[k][name]["spans"].items()}
        named = {a: x for k in folds for a, x in folds[k][name]["named"].items()}
        gold = {a: corpus.gold[a] for a in spans}
        out[name] = {"tc": round(metrics.tc_score(named, gold).overall.f1, 4),
                     **span_summary(spans, corpus, per_fold[name])}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

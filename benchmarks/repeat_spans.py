"""Do a predicted span's other occurrences in its article carry techniques too? (FLC, CV)

Each fold model (``runs/cv-minilm``) decodes its out-of-fold articles as ``marker_flc.py``
does (span head joined with the marker classifier that did not train on the fold). Then,
per variant, every other occurrence of a predicted span's text (case-insensitive, whole
words, at least ``--min-words`` words) that no predicted span overlaps becomes a span too:
named as the span it repeats, as Repetition, or both. SI, FLC and SLC pooled over the 371
articles, FLC per fold.

    python benchmarks/repeat_spans.py [--min-words 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
from marker_flc import joined_decoding

from propscope import metrics
from propscope.corpus import load_split
from propscope.predictors.decoding import decode
from propscope.spans import Span
from propscope.training.oof import oof_folds

DATA = Path("../shared/ptc")


def repeats(text: str, spans: list[Span], min_words: int, how: str) -> list[Span]:
    taken = [(s.start, s.end) for s in spans]
    added: list[Span] = []
    for s in spans:
        phrase = text[s.start:s.end].strip()
        if len(re.findall(r"\w+", phrase)) < min_words:
            continue
        pat = re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)
        for m in pat.finditer(text):
            a, b = m.start(), m.end()
            if any(a < e and s0 < b for s0, e in taken):
                continue
            taken.append((a, b))
            names = {"same": [s.technique], "rep": ["Repetition"],
                     "both": [s.technique, "Repetition"]}[how]
            added += [Span(a, b, t, s.score) for t in dict.fromkeys(names)]
    return sorted(spans + added)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", default="runs/cv-minilm")
    ap.add_argument("--kept", default="runs/marker-cv/minilm-kept")
    ap.add_argument("--keep-decode", default="src/propscope/models/default")
    ap.add_argument("--min-words", default="1,2,3")
    args = ap.parse_args()
    corpus = load_split(DATA)
    keep = json.loads((Path(args.keep_decode) / "manifest.json").read_text())["decode"]
    base: dict[str, list[Span]] = {}
    fold_of: dict[str, int] = {}
    for fold in oof_folds(DATA, args.cv):
        config, joined, _ = joined_decoding(fold, Path(args.kept), keep)
        for a, e in zip(fold.ids, fold.encodings, strict=True):
            base[a] = decode(e, config, joined)
            fold_of[a] = fold.k
        print(f"fold {fold.k} decoded", flush=True)
    gold = {a: corpus.gold[a] for a in base}
    texts = {a: corpus.articles[a].text for a in base}
    variants = {"none": base}
    for n in map(int, args.min_words.split(",")):
        for how in ("same", "rep", "both"):
            variants[f"{how}, >= {n} words"] = {a: repeats(texts[a], s, n, how)
                                                  for a, s in base.items()}
    for name, spans in variants.items():
        folds = [metrics.flc_score({a: spans[a] for a in spans if fold_of[a] == k},
                                   {a: gold[a] for a in spans if fold_of[a] == k}).overall.f1
                 for k in range(5)]
        flc = metrics.flc_score(spans, gold)
        print(json.dumps({
            "variant": name, "si": round(metrics.si_score(spans, gold).overall.f1, 4),
            "flc": round(flc.overall.f1, 4),
            "slc": round(metrics.slc_score(spans, gold, texts).overall.f1, 4),
            "flc_folds": [round(f, 4) for f in folds],
            "flc_mean": round(float(np.mean(folds)), 4),
            "flc_repetition": round(flc.per_technique["Repetition"].f1, 3),
            "spans": sum(map(len, spans.values()))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

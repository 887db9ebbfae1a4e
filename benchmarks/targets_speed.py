"""What targets cost: ``analyze`` articles/s with targets off, and with the targets pass
added, side by side in one process.

Each run adds a trailing newline per run to every text (else the predictor's encoding
cache would answer a second analysis of the same texts), times
``analyze(texts, targets=False)`` (spans and voices), then times ``targets.annotate`` on
those results with targets on and off: the difference is what targets add (spaCy is
loaded before timing).

    python benchmarks/targets_speed.py [--data ../shared/ptc] [--split valid] [--runs 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from propscope import analyze
from propscope.corpus import load_split
from propscope.model_io import load_model
from propscope.targets import TARGETING, annotate, load_nlp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--split", default="valid")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    args = ap.parse_args()

    texts = list(load_split(Path(args.data), args.split).articles.values())
    texts = [t.text if hasattr(t, "text") else t for t in texts]
    t0 = time.perf_counter()
    load_nlp()
    load_s = time.perf_counter() - t0
    analysis, extra = [], []
    results: list = []
    predictor = load_model(args.model)
    for run in range(args.runs):
        # a trailing newline per run: the encoding cache cannot answer a later run
        batch = [t + "\n" * (run + 1) for t in texts]
        t0 = time.perf_counter()
        results = analyze(batch, predictor=predictor, targets=False)
        analysis.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        annotate(results, targets=False)
        voices = time.perf_counter() - t0
        t0 = time.perf_counter()
        annotate(results, targets=True)
        extra.append(time.perf_counter() - t0 - voices)
    spans = sum(len(r.spans) for r in results)
    targeting = sum(s.technique in TARGETING for r in results for s in r.spans)
    with_targets = sum(bool(role.targets) for r in results for role in r.roles)
    t_off, t_add = statistics.median(analysis), statistics.median(extra)
    a_off, a_on = len(texts) / t_off, len(texts) / (t_off + t_add)
    print(f"{len(texts)} articles ({args.split}), {spans} spans, {targeting} of targeting "
          f"techniques, {with_targets} with a target found; spaCy load {load_s:.2f} s")
    print(f"targets off: {a_off:.2f} articles/s (analysis runs "
          f"{', '.join(f'{x:.1f}' for x in analysis)} s)")
    print(f"targets on:  {a_on:.2f} articles/s (targets pass runs "
          f"{', '.join(f'{x:.2f}' for x in extra)} s)")
    print(f"cost of targets: {100 * (1 - a_on / a_off):.1f}% of articles/s")


if __name__ == "__main__":
    main()

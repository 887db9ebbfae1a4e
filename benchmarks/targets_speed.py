"""What voices and targets cost: ``analyze`` articles/s with targets off and on, side by
side in one process (runs interleaved, so a busy machine slows both alike).

Voices (pure text rules) are on in both; "on" adds spaCy targets (loaded before timing).

    python benchmarks/targets_speed.py [--data ../shared/ptc] [--split valid] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from propscope import analyze
from propscope.corpus import load_split
from propscope.model_io import load_model
from propscope.targets import TARGETING, load_nlp


def timed(texts: list[str], predictor, targets: bool) -> tuple[float, list]:
    t0 = time.perf_counter()
    results = analyze(texts, predictor=predictor, targets=targets)
    return time.perf_counter() - t0, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--split", default="valid")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    args = ap.parse_args()

    texts = list(load_split(Path(args.data), args.split).articles.values())
    predictor = load_model(args.model)
    t0 = time.perf_counter()
    load_nlp()
    load_s = time.perf_counter() - t0
    analyze(texts[:2], predictor=predictor, targets=True)  # warm both paths
    off, on = [], []
    results: list = []
    for _ in range(args.runs):
        off.append(timed(texts, predictor, False)[0])
        s, results = timed(texts, predictor, True)
        on.append(s)
    spans = sum(len(r.spans) for r in results)
    targeting = sum(s.technique in TARGETING for r in results for s in r.spans)
    with_targets = sum(bool(role.targets) for r in results for role in r.roles)
    a_off, a_on = len(texts) / statistics.median(off), len(texts) / statistics.median(on)
    print(f"{len(texts)} articles ({args.split}), {spans} spans, {targeting} of targeting "
          f"techniques, {with_targets} with a target found; spaCy load {load_s:.2f} s")
    print(f"targets off: {a_off:.2f} articles/s (runs {', '.join(f'{x:.1f}' for x in off)} s)")
    print(f"targets on:  {a_on:.2f} articles/s (runs {', '.join(f'{x:.1f}' for x in on)} s)")
    print(f"cost of targets: {100 * (1 - a_on / a_off):.1f}% of articles/s")


if __name__ == "__main__":
    main()

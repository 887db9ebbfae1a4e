"""How fast is ``classify`` (technique names for given spans), model against model?

Classifies the gold spans of the ``valid`` articles with each model in turn, ``--runs``
times, alternating, in one process (each article encoded afresh: no cache between runs):

    python benchmarks/classify_speed.py --model src/propscope/models/default --model runs/x2s-marker

Prints articles/s and spans/s per model (the best of its runs). ``--predict`` times
``predict`` in benchmark mode instead (the spans it finds, named), where a marker classifier
with ``in_predict`` names every BIO span.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from propscope.core import classify_spans
from propscope.corpus import load_split
from propscope.model_io import load_folder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--articles", type=int, default=88)
    ap.add_argument("--predict", action="store_true",
                    help="time predict (benchmark mode) instead of classify")
    args = ap.parse_args()
    corpus = load_split(Path(args.data), "valid")
    ids = list(corpus.articles)[: args.articles]
    spans = sum(len({(s.start, s.end) for s in corpus.gold[a]}) for a in ids)
    best: dict[str, float] = {}
    for run in range(args.runs):
        for folder in args.model:
            model = load_folder(folder)
            start = time.perf_counter()
            for aid in ids:
                if args.predict:
                    model.predict([corpus.articles[aid].text], mode="benchmark")
                else:
                    classify_spans(model, corpus.articles[aid].text, corpus.gold[aid])
            seconds = time.perf_counter() - start
            best[folder] = min(best.get(folder, seconds), seconds)
            print(f"run {run + 1} {folder}: {seconds:.1f} s", flush=True)
    for folder, seconds in best.items():
        rate = "" if args.predict else f", {spans / seconds:.1f} gold spans/s"
        print(f"{folder}: {len(ids) / seconds:.2f} articles/s{rate} ({len(ids)} articles; "
              f"best of {args.runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

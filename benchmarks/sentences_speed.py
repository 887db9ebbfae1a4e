"""Sentence splitting: pySBD as it comes against ``propscope.sentences``' sped-up
segmenter, on every line of the corpus that pySBD reads (a line that can hold two
sentences), side by side and checked to give the same sentences.

The sped-up segmenter patches pySBD's modules for the process, so each reading runs in
a process of its own; the two alternate (plain, sped up, plain, ...) so that load from
other work falls on both alike.

    python benchmarks/sentences_speed.py [--data ../shared/ptc] [--runs 2]
        [--news ../shared/unlabeled-news]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def corpus_lines(folders: list[Path]) -> list[str]:
    from propscope.corpus import read_articles
    from propscope.sentences import _CUTS

    out = []
    for folder in folders:
        for article in read_articles(folder).values():
            for line in article.text.split("\n"):
                core = line.strip()
                if core and _CUTS.search(core, 0, len(core) - 1):
                    out.append(line)
    return out


def one(kind: str, folders: list[Path]) -> None:
    """Split every line with ``kind`` (plain / fast); print seconds and a digest."""
    import pysbd

    from propscope import sentences

    lines = corpus_lines(folders)
    seg = pysbd.Segmenter(language="en", clean=False) if kind == "plain" \
        else sentences._segmenter()
    t0 = time.perf_counter()
    got = [seg.segment(line) for line in lines]
    seconds = time.perf_counter() - t0
    digest = hashlib.sha1(json.dumps(got).encode()).hexdigest()
    print(json.dumps({"kind": kind, "seconds": seconds, "lines": len(lines), "sha1": digest}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--news", default="../shared/unlabeled-news")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--one", choices=["plain", "fast"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    folders = [Path(args.data) / "train-articles", Path(args.news)]
    if args.one:
        one(args.one, folders)
        return
    got: dict[str, list[dict]] = {"plain": [], "fast": []}
    for _ in range(args.runs):
        for kind in got:
            out = subprocess.run([sys.executable, __file__, "--one", kind, "--data", args.data,
                                  "--news", args.news], check=True, capture_output=True,
                                 text=True).stdout
            got[kind].append(json.loads(out.strip().splitlines()[-1]))
    same = len({r["sha1"] for rs in got.values() for r in rs}) == 1
    lines = got["plain"][0]["lines"]
    best = {k: min(r["seconds"] for r in rs) for k, rs in got.items()}
    for kind, rs in got.items():
        runs = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        print(f"{kind:6s} best {best[kind]:.1f} s (runs {runs}), "
              f"{1000 * statistics.median(r['seconds'] for r in rs) / lines:.2f} ms a line")
    print(f"{lines} lines; same sentences: {same}; speed-up {best['plain'] / best['fast']:.2f}x")


if __name__ == "__main__":
    main()

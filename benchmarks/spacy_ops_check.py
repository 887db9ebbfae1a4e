"""Do spaCy's parses and entities stay the same when its layers multiply with numpy
(``target_rules.use_matmul``, as propscope loads it) instead of thinc's blis? And how much
faster is the pipeline? One process, the same pipeline, both ops in turn.

    python benchmarks/spacy_ops_check.py [--n-ptc 150] [--n-news 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from thinc.api import NumpyOps

from propscope import target_rules


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--news", default="../shared/unlabeled-news")
    ap.add_argument("--n-ptc", type=int, default=150)
    ap.add_argument("--n-news", type=int, default=100)
    args = ap.parse_args()
    files = (sorted(Path(args.data, "train-articles").glob("*.txt"))[:args.n_ptc]
             + sorted(Path(args.news).glob("article*.txt"))[:args.n_news])
    texts = [f.read_text(encoding="utf-8") for f in files]
    nlp = target_rules.load_nlp()  # numpy products, as shipped

    def parses() -> tuple[list, float]:
        t = time.perf_counter()
        out = [([(t.tag_, t.dep_, t.head.i) for t in d], [(e.start, e.end, e.label_)
                                                         for e in d.ents])
               for d in nlp.pipe(texts, batch_size=32)]
        return out, time.perf_counter() - t

    fast, t_fast = parses()
    target_rules.set_ops(nlp, NumpyOps())
    slow, t_slow = parses()
    target_rules.use_matmul(nlp)
    tokens = sum(len(p[0]) for p in fast)
    print(f"{len(texts)} texts, {tokens:,} tokens: docs whose parse differs "
          f"{sum(a[0] != b[0] for a, b in zip(fast, slow, strict=True))}, whose entities "
          f"differ {sum(a[1] != b[1] for a, b in zip(fast, slow, strict=True))}; "
          f"pipeline {t_slow:.2f} s with blis, {t_fast:.2f} s with numpy")


if __name__ == "__main__":
    main()

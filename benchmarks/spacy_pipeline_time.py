"""Cost of the spaCy pipeline the targets use (``PROPSCOPE_SPACY_MODEL``, default the
small English one): its load time and memory, and the targets pass over the
voice/targets gold set's articles (``targets.find_targets``, the shipped selector) and
the parse alone of the same texts. One pipeline a process: compare two by running it
under each, alternately.

    python benchmarks/spacy_pipeline_time.py [--gold data/voice-targets/gold.jsonl]
        [--data ../shared/ptc] [--news ../shared/unlabeled-news] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from voice_targets_eval import load_texts  # noqa: E402

from propscope import targets  # noqa: E402
from propscope.config import SPACY_MODEL_VAR  # noqa: E402
from propscope.results import Result, Sentence  # noqa: E402
from propscope.sentences import split_sentences  # noqa: E402
from propscope.spans import Article, Span  # noqa: E402
from propscope.target_rules import PIPELINE, load_nlp  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", default="data/voice-targets/gold.jsonl")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--news", default="../shared/unlabeled-news")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rows = [json.loads(line) for line in Path(args.gold).read_text().splitlines() if line]
    texts = load_texts(rows, Path(args.data), Path(args.news))
    by_article: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_article[r["article"]].append(r)
    results = [Result(Article(aid, texts[aid]),
                      [Span(r["start"], r["end"], r["techniques"][0]) for r in items],
                      [Sentence(a, b, []) for a, b in split_sentences(texts[aid])], {})
               for aid, items in by_article.items()]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    nlp = load_nlp()
    load_s = time.perf_counter() - t
    jobs = [(r, job) for r in results for job in targets._sentence_jobs(r)[0]]
    passes, parses = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        targets.find_targets(results)
        passes.append(round(time.perf_counter() - t, 2))
        t = time.perf_counter()
        list(nlp.pipe((r.text[a:b] for r, (a, b, _) in jobs), batch_size=64))
        parses.append(round(time.perf_counter() - t, 2))
    print(json.dumps({
        "pipeline": os.environ.get(SPACY_MODEL_VAR, PIPELINE),
        "version": f"{nlp.meta.get('name')} {nlp.meta.get('version')}",
        "load_s": round(load_s, 2),
        "max_rss_mb_before_after_load": [
            rss // 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024],
        "articles": len(results), "parsed_texts": len(jobs),
        "parsed_chars": sum(b - a for _, (a, b, _) in jobs),
        "targets_pass_s": passes, "parse_only_s": parses}))


if __name__ == "__main__":
    main()

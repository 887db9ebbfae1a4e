"""Would more span-set features help the second stage? Each candidate feature (the span's
share of its sentence, a whole sentence, at a sentence start, in the title line, log
length, a question mark, first-person-plural or nation words, at a line start) is added to
the out-of-fold rows of the five fold models (runs/cv-minilm), and the shipped setting
(l2 30, balance 0.2) is cross-validated over folds.json as for the shipped stage.

    python benchmarks/stage_features_study.py [VARIANT ...]   # default: each, then all

Prints CV TC micro-F1 and per-technique F1 for each variant ("base": today's features).
"""

from __future__ import annotations

import pickle
import re
import sys
from pathlib import Path

import numpy as np

from propscope.corpus import load_split
from propscope.sentences import split_sentences
from propscope.training.context_fit import Rows, cross_validate, cv_rows, fit

DATA = Path("../shared/ptc")
CACHE = Path("runs/cv-minilm/stage_rows.pkl")  # the fold rows, made once
NAMES = ["sent_share", "whole_sent", "sent_start", "title", "log_chars", "question", "we",
         "line_start"]
WE = re.compile(r"\b(we|our|us|nation|country|american?s?|people)\b", re.I)


def candidates(text: str, sentences: list[tuple[int, int]], a: int, b: int) -> list[float]:
    """The candidate features of the span ``text[a:b]``, in ``NAMES`` order."""
    body = text[a:b]
    start, end = next(((s, e) for s, e in sentences if s <= a < e), (a, b))
    share = (b - a) / max(1, end - start)
    line_start = text.rfind("\n", 0, a) + 1
    return [min(1.0, share), share > 0.8, a - start < 3, "\n" not in text[:a],
            float(np.log1p(b - a)), "?" in body, bool(WE.search(body)),
            text[line_start:a].strip() == ""]


def with_features(rows: Rows, which: list[int], corpus, n_techniques: int) -> Rows:
    """``rows`` with the chosen candidates appended to the span-set block (before the
    lexicon block, where ``fit`` expects span-set features)."""
    sents: dict[str, list[tuple[int, int]]] = {}
    extra = []
    for aid, (a, b) in zip(rows.article, rows.span, strict=True):
        text = corpus.articles[aid].text
        if aid not in sents:
            sents[aid] = list(split_sentences(text))
        feats = candidates(text, sents[aid], a, b)
        extra.append([feats[i] for i in which])
    cut = rows.x.shape[1] - n_techniques
    x = np.concatenate([rows.x[:, :cut], np.array(extra, np.float32), rows.x[:, cut:]], axis=1)
    return Rows(x, rows.y, rows.article, rows.span)


def main() -> int:
    corpus = load_split(DATA)
    if CACHE.exists():
        folds, techniques = pickle.loads(CACHE.read_bytes())
    else:
        folds, techniques = cv_rows(DATA, corpus, "runs/cv-minilm")
        CACHE.write_bytes(pickle.dumps((folds, techniques)))
    t = len(techniques)
    variants = {"base": [], **{n: [i] for i, n in enumerate(NAMES)},
                "all": list(range(len(NAMES)))}
    for name in sys.argv[1:] or variants:
        which = variants[name]
        fs = [with_features(f, which, corpus, t) if which else f for f in folds]
        score, _ = cross_validate(fs, techniques, lambda r: fit(r, t, {}, l2=30, balance=0.2))
        per = {k: round(v.f1, 3) for k, v in score.per_technique.items()}
        print(name, round(score.overall.f1, 4), per, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

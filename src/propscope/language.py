"""A small, dependency-free check that text is English (the model's training language)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_EN = frozenset(
    "the of and to a in is that for it on was with as he be by at have are this not but from "
    "his they i you or an her she we which were their has been had will would there all one "
    "said who more about if what when so can no its our them up out than do after also".split()
)


def english_score(text: str, sample: int = 20000) -> float:
    """Share of words (in a sample) that are common English function words."""
    words = _WORD.findall(text[:sample].lower())
    if not words:
        return 0.0
    return sum(w in _EN for w in words) / len(words)


def is_english(text: str) -> bool:
    words = _WORD.findall(text[:20000])
    if len(words) < 5:
        return True  # too short to tell: do not flag
    ascii_letters = sum(c.isascii() for w in words for c in w) / max(1, sum(map(len, words)))
    return english_score(text) >= 0.12 and ascii_letters > 0.8

"""A tiny deterministic predictor for tests and demos without model weights.

It marks a fixed list of words; it is not a propaganda model and is never the default.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..reader import ReaderConfig
from ..spans import Span
from ..techniques import TECHNIQUE_NAMES

KEYWORDS: dict[str, str] = {
    "outrageous": "Loaded_Language",
    "disastrous": "Loaded_Language",
    "radical": "Loaded_Language",
    "so-called": "Name_Calling,Labeling",
    "traitor": "Name_Calling,Labeling",
    "patriot": "Flag-Waving",
    "catastrophe": "Appeal_to_fear-prejudice",
    "everyone knows": "Bandwagon,Reductio_ad_hitlerum",
    "experts agree": "Appeal_to_Authority",
}
_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in KEYWORDS) + r")\w*", re.IGNORECASE)


class KeywordPredictor:
    name = "keywords"
    info: dict[str, Any] = {"name": "keywords", "version": "test", "kind": "keyword rules"}

    reader = ReaderConfig(threshold=0.0)  # no calibration: the reader view only cleans up

    def predict(self, texts: Sequence[str], mode: str = "benchmark") -> list[list[Span]]:
        out = []
        for text in texts:
            spans = []
            for m in _RE.finditer(text):
                tech = KEYWORDS[m.group(1).lower()]
                spans.append(Span(m.start(), m.end(), tech, 0.9 if len(m.group(0)) > 7 else 0.6))
            out.append(spans)
        return out

    def classify(self, text: str, spans: Sequence[Span]) -> list[list[tuple[str, float]]]:
        out = []
        for s in spans:
            m = _RE.search(text[s.start : s.end])
            top = KEYWORDS[m.group(1).lower()] if m else "Loaded_Language"
            rest = [t for t in TECHNIQUE_NAMES if t != top]
            share = 0.1 / len(rest)
            out.append([(top, 0.9)] + [(t, share) for t in rest])
        return out

"""The reader operating point: fewer, surer, cleaner spans for a person reading highlights.

``benchmark`` decoding is tuned for the SemEval F1 measures, which reward recall over long
spans; ``reader`` output starts from the same spans and then:

1. maps each span's score through the model's calibration (``Calibration``), so that the
   score is the probability that an annotator marks that technique on most of the passage;
2. trims spans that start or end on punctuation or a dangling article, preposition or
   conjunction, and drops spans that are only function words or punctuation;
3. merges fragments of one passage (same technique, separated by at most a few characters
   of space or punctuation on one line);
4. keeps a span only when its calibrated confidence reaches the threshold;
5. caps the labels of one passage at ``max_labels`` (more only when each is confident).

All of it is pure functions over ``Span``s and the text.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .spans import Span
from .words import DANGLING, is_function_words, words

MODES = ("reader", "benchmark")


@dataclass
class Calibration:
    """Per-technique monotone maps from raw span score to probability (isotonic fits kept
    as knots; linear in between, flat outside). A technique without its own map uses
    ``default``; no map at all leaves scores as they are."""

    maps: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    default: tuple[list[float], list[float]] | None = None

    def __call__(self, technique: str | None, score: float) -> float:
        knots = self.maps.get(technique or "", self.default)
        if knots is None:
            return score
        xs, ys = knots
        k = bisect.bisect_right(xs, score)
        if k == 0:
            return ys[0]
        if k == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
        return y0 + (y1 - y0) * (score - x0) / (x1 - x0) if x1 > x0 else y1

    def to_dict(self) -> dict[str, Any]:
        return {"maps": {t: [list(x), list(y)] for t, (x, y) in self.maps.items()},
                "default": [list(self.default[0]), list(self.default[1])]
                if self.default else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        maps = {t: (list(map(float, x)), list(map(float, y)))
                for t, (x, y) in data.get("maps", {}).items()}
        d = data.get("default")
        return cls(maps, (list(map(float, d[0])), list(map(float, d[1]))) if d else None)


@dataclass
class ReaderConfig:
    """The reader operating point; stored in the model manifest under ``reader``."""

    threshold: float = 0.5  # calibrated confidence a span needs to be shown
    max_labels: int = 2  # labels per passage ...
    confident: float = 0.8  # ... unless every further one is at least this confident
    merge_gap: int = 3  # fragments of one technique at most this many characters apart
    # DecodeConfig fields the reader's spans are decoded with instead of the benchmark's
    # (tighter spans: e.g. the per-token technique head alone, no gaps bridged)
    decode: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "max_labels": self.max_labels,
                "confident": self.confident, "merge_gap": self.merge_gap,
                "decode": dict(self.decode), "calibration": self.calibration.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReaderConfig:
        base = {k: data[k] for k in ("threshold", "max_labels", "confident", "merge_gap")
                if k in data}
        return cls(**base, decode=dict(data.get("decode", {})),
                   calibration=Calibration.from_dict(data.get("calibration", {})))


def _edge_word(text: str, start: int, end: int, last: bool) -> tuple[int, int] | None:
    """Character range of the first (or last) word-like run inside [start, end)."""
    k = end - 1 if last else start
    step = -1 if last else 1
    while start <= k < end and not (text[k].isalnum() or text[k] in "#@"):
        k += step
    if not start <= k < end:
        return None
    j = k
    while start <= j + step < end and (text[j + step].isalnum() or text[j + step] in "'’-"):
        j += step
    return (j, k + 1) if last else (k, j + 1)


def trim(text: str, span: Span) -> Span | None:
    """``span`` without leading/trailing punctuation, space and dangling function words
    (``the``, ``of``, ``and`` ...); None when nothing with meaning is left."""
    start, end = span.start, span.end
    for _ in range(8):  # a few dangling words at most
        first = _edge_word(text, start, end, last=False)
        if first is None:
            return None
        start = first[0]
        last = _edge_word(text, start, end, last=True)
        assert last is not None
        end = last[1]
        if text[start:first[1]].lower() in DANGLING and first[1] < end:
            start = first[1]
        elif text[last[0]:end].lower() in DANGLING and last[0] > start:
            end = last[0]
        else:
            break
    # keep a closing quote or bracket whose opening one is inside the span
    for o, c in ('"“”', "“”"), ("(", ")"), ("‘", "’"):
        if end < len(text) and text[end] in c and any(q in text[start:end] for q in o):
            end += 1
    if end <= start or is_function_words(text[start:end]):
        return None
    return Span(start, end, span.technique, span.score)


def merge_fragments(text: str, spans: Sequence[Span], gap: int) -> list[Span]:
    """Spans of one technique that overlap or sit at most ``gap`` characters apart on one
    line, with nothing but space and punctuation between them, become one (best score)."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.technique or "", s.start, s.end)):
        prev = out[-1] if out else None
        between = text[prev.end : s.start] if prev else ""
        if (prev is not None and prev.technique == s.technique and s.start - prev.end <= gap
                and "\n" not in between and not words(between)):
            out[-1] = Span(prev.start, max(prev.end, s.end), s.technique, max(prev.score, s.score))
        else:
            out.append(s)
    return out


def cap_labels(spans: Sequence[Span], max_labels: int, confident: float) -> list[Span]:
    """In each passage (overlapping spans of any technique), keep the ``max_labels`` most
    confident techniques, and others only when they reach ``confident``."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    groups: list[list[Span]] = []
    end = -1
    for s in ordered:
        if groups and s.start < end:
            groups[-1].append(s)
            end = max(end, s.end)
        else:
            groups.append([s])
            end = s.end
    out = []
    for group in groups:
        best: dict[str, float] = {}
        for s in group:
            best[s.technique or ""] = max(best.get(s.technique or "", 0.0), s.score)
        ranked = sorted(best, key=lambda t: -best[t])
        keep = {t for k, t in enumerate(ranked) if k < max_labels or best[t] >= confident}
        out += [s for s in group if (s.technique or "") in keep]
    return out


def calibrate(spans: Sequence[Span], calibration: Calibration) -> list[Span]:
    return [Span(s.start, s.end, s.technique, calibration(s.technique, s.score)) for s in spans]


def reader_spans(text: str, spans: Sequence[Span], config: ReaderConfig,
                 threshold: float | None = None) -> list[Span]:
    """The reader view of benchmark ``spans`` (see the module docstring); ``threshold``
    overrides the config's (a user may look below it)."""
    cut = config.threshold if threshold is None else threshold
    cleaned = [t for t in (trim(text, s) for s in calibrate(spans, config.calibration)) if t]
    merged = merge_fragments(text, cleaned, config.merge_gap)
    shown = [s for s in merged if s.score >= cut]
    return sorted(cap_labels(shown, config.max_labels, config.confident),
                  key=lambda s: (s.start, s.end, -s.score))

"""The one data type: a Span is a half-open character range of an article's text.

Model output, gold labels, JSON, HTML highlighting and metrics all use ``Span``.
Offsets are Python string indices into the article text exactly as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    technique: str | None = None
    score: float = 1.0

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span offsets [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def text_in(self, text: str) -> str:
        return text[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "technique": self.technique,
            "score": round(float(self.score), 4),
        }
        if text is not None:
            out["text"] = self.text_in(text)
        return out


@dataclass
class Article:
    """An article to analyse. ``text`` is what offsets refer to."""

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, {})}
        return out


def merge_ranges(spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Union of the spans' character ranges (overlapping ranges merged)."""
    out: list[list[int]] = []
    for s in sorted(spans, key=lambda s: (s.start, s.end)):
        if out and s.start < out[-1][1]:
            out[-1][1] = max(out[-1][1], s.end)
        else:
            out.append([s.start, s.end])
    return [(a, b) for a, b in out]

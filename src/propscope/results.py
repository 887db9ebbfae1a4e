"""The result types every face reads: ``Result`` (an analysed article with its spans and
sentences) and ``Sentence``. They sit in the types layer with ``Span`` and ``Article``, so
renderers, the web app and batch runs need not import the core."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .config import CONFIDENCE_LEVELS
from .spans import Article, Span, merge_ranges


def confidence_level(score: float) -> str:
    """``high``, ``medium`` or ``low`` for a span score (by ``config.CONFIDENCE_LEVELS``)."""
    for level, low in CONFIDENCE_LEVELS:
        if score >= low:
            return level
    return CONFIDENCE_LEVELS[-1][0]


@dataclass
class Sentence:
    start: int
    end: int
    techniques: list[str]

    @property
    def flagged(self) -> bool:
        return bool(self.techniques)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "flagged": self.flagged,
                "techniques": self.techniques}


@dataclass
class Result:
    article: Article
    spans: list[Span]
    sentences: list[Sentence]
    model: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.article.text

    def segments(self) -> list[tuple[int, int, list[Span]]]:
        """The text cut at every span edge: ``(start, end, spans covering it)``."""
        cuts = sorted({0, len(self.text)} | {p for s in self.spans for p in (s.start, s.end)})
        return [(a, b, [s for s in self.spans if s.start <= a and b <= s.end])
                for a, b in zip(cuts, cuts[1:], strict=False)]

    def summary(self) -> dict[str, Any]:
        """Count and share of text (characters covered) per technique, and sentence share."""
        per: dict[str, list[Span]] = defaultdict(list)
        for s in self.spans:
            per[s.technique or "?"].append(s)
        n = max(1, len(self.text))
        techniques = {
            t: {"count": len(v),
                "share": sum(b - a for a, b in merge_ranges(v)) / n}
            for t, v in sorted(per.items(), key=lambda kv: -len(kv[1]))
        }
        flagged = sum(s.flagged for s in self.sentences)
        return {
            "spans": len(self.spans),
            "techniques": techniques,
            "sentences": len(self.sentences),
            "flagged_sentences": flagged,
            "flagged_share": flagged / len(self.sentences) if self.sentences else 0.0,
            "propaganda_share": sum(b - a for a, b in merge_ranges(self.spans)) / n,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Rebuild a result from its ``to_dict()`` form (e.g. one saved by the web app)."""
        fields = ("id", "text", "title", "source", "url", "date", "meta")
        art = Article(**{k: v for k, v in data["article"].items() if k in fields})
        spans = [Span(s["start"], s["end"], s.get("technique"), s.get("score", 1.0))
                 for s in data.get("spans", [])]
        sentences = [Sentence(s["start"], s["end"], list(s.get("techniques", [])))
                     for s in data.get("sentences", [])]
        return cls(art, spans, sentences, dict(data.get("model", {})),
                   list(data.get("warnings", [])))

    def to_dict(self) -> dict[str, Any]:
        return {
            "article": self.article.to_dict(),
            "spans": [s.to_dict(self.text) for s in self.spans],
            "sentences": [s.to_dict() for s in self.sentences],
            "summary": self.summary(),
            "model": self.model,
            "warnings": self.warnings,
        }

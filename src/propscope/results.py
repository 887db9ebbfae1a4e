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


@dataclass(frozen=True)
class Target:
    """An entity a span describes or attacks: ``entity`` is its name merged over the
    article's mentions ("Trump", "Donald Trump" -> "Donald Trump"); ``text``, ``start``
    and ``end`` are the mention the span aims at, in the article text."""

    entity: str
    type: str  # person, organisation, place, group
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "type": self.type, "text": self.text,
                "start": self.start, "end": self.end}


@dataclass(frozen=True)
class SpanRole:
    """Whose voice a span is in (``quoted``, ``attributed`` or ``author``) and the speaker
    named; ``targets`` is None where targets were not looked for (not a targeting
    technique, or spaCy absent), else the entities found (perhaps none)."""

    voice: str
    speaker: str | None = None
    targets: tuple[Target, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"voice": self.voice, "speaker": self.speaker}
        if self.targets is not None:
            out["targets"] = [t.to_dict() for t in self.targets]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpanRole | None:
        if "voice" not in data:
            return None
        targets = data.get("targets")
        return cls(data["voice"], data.get("speaker"), None if targets is None else tuple(
            Target(t["entity"], t["type"], t["text"], t["start"], t["end"]) for t in targets))


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
    #: one per span (same order) once voices are found; empty before
    roles: list[SpanRole] = field(default_factory=list)
    #: what was not done and why (e.g. targets without spaCy)
    notes: list[str] = field(default_factory=list)

    def role(self, k: int) -> SpanRole | None:
        """The voice, speaker and targets of ``self.spans[k]`` (None if not found)."""
        return self.roles[k] if len(self.roles) == len(self.spans) else None

    def targets(self) -> dict[str, dict[str, Any]]:
        """Entity -> ``{"type", "count", "techniques": {technique: spans}, "voices":
        {voice: spans}, "spans": [span dicts], "mentions": [[start, end, text], ...]}``,
        most targeted first; empty where targets were not found."""
        out: dict[str, dict[str, Any]] = {}
        for k, span in enumerate(self.spans):
            role = self.role(k)
            for t in {t.entity: t for t in (role.targets or ())}.values() if role else ():
                e = out.setdefault(t.entity, {"type": t.type, "count": 0, "techniques": {},
                                              "voices": {}, "spans": [], "mentions": set()})
                e["count"] += 1
                tech = span.technique or "?"
                e["techniques"][tech] = e["techniques"].get(tech, 0) + 1
                e["voices"][role.voice] = e["voices"].get(role.voice, 0) + 1
                e["spans"].append({**span.to_dict(self.text), **role.to_dict()})
            for t in role.targets or () if role else ():
                out[t.entity]["mentions"].add((t.start, t.end, t.text))
        for e in out.values():
            e["mentions"] = [list(m) for m in sorted(e["mentions"])]
        return dict(sorted(out.items(), key=lambda kv: (-kv[1]["count"], kv[0])))

    def voice_counts(self) -> dict[str, int]:
        """Spans per voice (empty before voices are found)."""
        out: dict[str, int] = {}
        for k in range(len(self.spans)):
            role = self.role(k)
            if role:
                out[role.voice] = out.get(role.voice, 0) + 1
        return out

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
            **({"voices": self.voice_counts()} if self.roles else {}),
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
        roles = [SpanRole.from_dict(s) for s in data.get("spans", [])]
        return cls(art, spans, sentences, dict(data.get("model", {})),
                   list(data.get("warnings", [])),
                   [r for r in roles if r] if all(roles) else [],
                   list(data.get("notes", [])))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "article": self.article.to_dict(),
            "spans": [{**s.to_dict(self.text), **(r.to_dict() if (r := self.role(k)) else {})}
                      for k, s in enumerate(self.spans)],
            "sentences": [s.to_dict() for s in self.sentences],
            "summary": self.summary(),
            "model": self.model,
            "warnings": self.warnings,
        }
        if any(r.targets is not None for r in self.roles):
            out["targets"] = [{"entity": name, "type": e["type"], "count": e["count"],
                               "techniques": e["techniques"], "mentions": e["mentions"]}
                              for name, e in self.targets().items()]
        if self.notes:
            out["notes"] = self.notes
        return out

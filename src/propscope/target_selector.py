"""The learned target selector: which of a span's candidate entities it targets.

``targets.span_candidates`` lists, for each targeting span, the entities of its parsed
sentence and the one before (and a few full names further back, and the rules' own
picks) with features of their mentions. ``entity_rows`` turns them into one feature row
per entity; small boosted trees or a logistic regression (``target_selector.json``,
fitted by ``benchmarks/targets_study.py`` on ``data/voice-targets/gold.jsonl``) score
each, and
``Selector.pick`` keeps the best one or two whose probability reaches the threshold:
no target at all where none does. Plain Python: no numpy, no torch.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import TARGETS_PRECISE_VAR, env_flag
from .spans import Span

WEIGHTS = Path(__file__).with_name("target_selector.json")
TECHNIQUES = ("Name_Calling,Labeling", "Loaded_Language", "Appeal_to_fear-prejudice",
              "Bandwagon,Reductio_ad_hitlerum", "Doubt", "Whataboutism,Straw_Men,Red_Herring")
KINDS = ("person", "organisation", "place", "group")
#: features taken from the entity's nearest mention
NEAREST = ("inside", "cuts", "after", "before", "same_sent", "prev_sent", "far_sent",
           "next_sent")
#: features true where any of its mentions has them
ANY = ("verb_subj", "verb_obj", "climb", "attach", "dep_subj", "dep_obj", "dep_pobj",
       "dep_poss", "dep_nmod", "dep_conj", "rule", "headline", "common")
#: words of page furniture, not of a target ("Privacy Policy", "Free Sign Up")
FURNITURE = frozenset("privacy policy terms sign email subscribe newsletter share comments "
                      "cookie cookies click follow".split())
_HE = re.compile(r"\b(?:he|him|his|she|her|himself|herself)\b", re.I)
_THEY = re.compile(r"\b(?:they|them|their|themselves)\b", re.I)
_WORD = re.compile(r"[\w'’-]+")
_WHOLE_WORD = re.compile(r"\w+")
TYPE_KEYS = tuple(f"type_{k}" for k in KINDS)
TECH_KEYS = tuple(f"tech_{k}" for k in range(len(TECHNIQUES)))

Candidate = tuple[tuple[int, int, str, str], dict[str, float], str, str]


def _capitalised(name: str) -> list[str]:
    """The words of a name that start with a capital, in order."""
    return list(_capitalised_words(name))


@functools.lru_cache(maxsize=8192)
def _capitalised_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in _WORD.findall(name) if w[:1].isupper())


def _count(text: str, name: str) -> int:
    """How often the last capitalised word of ``name`` is written in ``text``."""
    words = _capitalised_words(name)
    if not words:
        return 0
    return len(re.findall(r"\b" + re.escape(words[-1]) + r"\b", text))


class NameCounts:
    """Each name's ``_count`` in one article and whether it is in its title too, for all
    its spans: the article's (and title's) words are counted once, and a name's last
    capitalised word made only of word characters is looked up there (``\\bW\\b``
    matches exactly the whole words W); any other ("O'Neil", "Trump’s") is counted with
    ``_count``. Each name's counts are remembered."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.title = _title(text)
        self._text_words: Counter[str] | None = None
        self._title_words: Counter[str] | None = None
        self._got: dict[str, tuple[int, bool]] = {}

    def __call__(self, name: str) -> tuple[int, bool]:
        got = self._got.get(name)
        if got is None:
            count = self._count(name, False)
            got = self._got[name] = (count, count > 0 and self._count(name, True) > 0)
        return got

    def _count(self, name: str, title: bool) -> int:
        words = _capitalised_words(name)
        if not words:
            return 0
        if not _WHOLE_WORD.fullmatch(words[-1]):
            return _count(self.title if title else self.text, name)
        if title:
            if self._title_words is None:
                self._title_words = Counter(_WHOLE_WORD.findall(self.title))
            return self._title_words[words[-1]]
        if self._text_words is None:
            self._text_words = Counter(_WHOLE_WORD.findall(self.text))
        return self._text_words[words[-1]]


def _title(text: str) -> str:
    return text[:max(text.find("\n"), 0) or 200]


@functools.lru_cache(maxsize=8192)
def _words(name: str) -> frozenset[str]:
    """The capitalised words of a name, lower-cased, less a possessive."""
    return frozenset(w.lower().replace("’", "'").removesuffix("'s")
                     for w in _capitalised_words(name))


def _near(c: Candidate) -> tuple[float, float, float]:
    f = c[1]
    return (f.get("dist", 0.0), -f.get("inside", 0.0), f.get("after", 0.0))


def entity_rows(text: str, span: Span, mentions: list[Candidate],
                voice: tuple[str, str | None] = ("author", None),
                counts: NameCounts | None = None) -> list[dict[str, Any]]:
    """One row per candidate entity of ``span`` (``voice``: its voice and speaker, as
    ``voice.span_voices`` gives them): ``entity``, ``type``, ``mention``
    (start, end, text: the rules' mention if they picked it, else the nearest inside the
    span, before it, after it) and ``row`` (feature name -> value). ``counts``: the
    article's ``NameCounts``, kept for all its spans (made here if not given)."""
    by_entity: dict[str, list[Candidate]] = {}
    for c in mentions:
        by_entity.setdefault(c[2], []).append(c)
    piece = text[span.start:span.end]
    he, they = bool(_HE.search(piece)), bool(_THEY.search(piece))
    if counts is None or counts.text is not text and counts.text != text:
        counts = NameCounts(text)
    any_rule = any(f.get("rule") for _, f, _, _ in mentions)
    speaker = _words(voice[1] or "")
    order = sorted(by_entity, key=lambda e: min(c[1].get("dist", 0.0) for c in by_entity[e]))
    rank = {e: min(i, 5) / 5 for i, e in enumerate(order)}
    # the same for every entity of the span
    techs = {key: float(span.technique == t) for key, t in zip(TECH_KEYS, TECHNIQUES,
                                                                strict=True)}
    voices = {"voice_quoted": float(voice[0] == "quoted"),
              "voice_attributed": float(voice[0] == "attributed")}
    n_cands = math.log1p(len(by_entity))
    out = []
    for entity, cs in by_entity.items():
        best = min(cs, key=_near) if len(cs) > 1 else cs[0]
        ruled = [c for c in cs if c[1].get("rule")]
        shown = ruled[0] if ruled else best
        kinds = [c[3] for c in cs]
        kind = max(KINDS, key=kinds.count)
        count, in_title = counts(entity)
        bf = best[1]
        row: dict[str, float] = {k: bf.get(k, 0.0) for k in NEAREST}
        if len(cs) == 1:
            row |= {k: bf.get(k, 0.0) for k in ANY}
        else:
            row |= {k: max(c[1].get(k, 0.0) for c in cs) for k in ANY}
        row["only_text"] = float(all(c[1].get("from_text") for c in cs))
        row["only_common"] = float(all(c[1].get("common") for c in cs))
        row["log_dist"] = math.log1p(bf.get("dist", 0.0)) / 5
        row["rank"] = rank[entity]
        row["mentions_near"] = math.log1p(len(cs))
        row["log_count"] = math.log1p(count)
        row["in_title"] = float(in_title)
        row |= {key: float(kind == k) for key, k in zip(TYPE_KEYS, KINDS, strict=True)}
        row |= techs
        row["he_person"] = float(he and kind == "person")
        row["they_group"] = float(they and kind in ("group", "organisation"))
        row["other_rule"] = float(any_rule and not row["rule"])
        row["n_cands"] = n_cands
        row["multiword"] = float(len(entity.split()) > 1)
        row["furniture"] = float(bool(set(entity.lower().split()) & FURNITURE))
        row["speaker"] = float(bool(speaker) and bool(speaker & _words(entity)
                                                      or speaker & _words(shown[0][2])))
        row |= voices
        row["inside_subj"] = max(c[1].get("inside", 0.0) * c[1].get("dep_subj", 0.0)
                                 for c in cs)
        out.append({"entity": entity, "type": kind, "mention": shown[0][:3], "row": row})
    _relative(out)
    return out


def _relative(out: list[dict[str, Any]]) -> None:
    """Add to each row the features relative to the span's other candidates."""
    top = max((r["row"]["log_count"] for r in out), default=0.0)
    any_inside = any(r["row"]["inside"] for r in out)
    befores = sorted((r["row"]["log_dist"], k) for k, r in enumerate(out)
                     if r["row"]["before"])
    for k, r in enumerate(out):
        row = r["row"]
        row["count_rel"] = row["log_count"] / top if top else 0.0
        row["top_count"] = float(top > 0 and row["log_count"] == top)
        row["nearest_before"] = float(bool(befores) and befores[0][1] == k)
        same = sorted(q["row"]["log_dist"] for q in out if q["type"] == r["type"])
        row["nearest_of_type"] = float(row["log_dist"] == same[0])
        row["other_inside"] = float(any_inside and not row["inside"])


@dataclass
class Selector:
    """A logistic regression or boosted trees (on the logistic loss) over
    ``entity_rows``' rows, the threshold and how many a span keeps."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    max_targets: int = 1
    meta: dict[str, Any] = field(default_factory=dict)
    #: boosted trees: ``[feature, threshold, left, right]`` nodes, numbers as leaves
    rate: float = 0.0
    trees: list[Any] = field(default_factory=list)
    rule_threshold: float = 1.0
    #: a precision-first setting (threshold, max_targets, rule_threshold), used under
    #: PROPSCOPE_TARGETS_PRECISE=1
    precise: dict[str, float] = field(default_factory=dict)
    _adder: tuple[Any, Any] | None = field(default=None, init=False, repr=False,
                                           compare=False)

    def prob(self, row: dict[str, float]) -> float:
        z = self.bias + sum(w * row.get(k, 0.0) for k, w in self.weights.items())
        z = self._trees_adder()(z, row.get)
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def _trees_adder(self) -> Any:
        """``add(z, row.get)``: ``z`` plus each tree's leaf times ``rate``, tree after
        tree, as a function made once per trees list: the trees written out as nested
        conditionals, their leaves already multiplied by ``rate`` (the same products,
        added in the same order: the same float)."""
        key = (id(self.trees), len(self.trees), self.rate)
        if self._adder is None or self._adder[0] != key:
            self._adder = (key, _compile_trees(self.trees, self.rate))
        return self._adder[1]

    def pick(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows kept: the ``max_targets`` most probable (ties by position in the
        text) at or over the threshold, or over ``rule_threshold`` where the rules
        picked them."""
        scored = sorted(((self.prob(r["row"]), -r["mention"][0], r) for r in rows),
                        key=lambda t: (t[0], t[1]), reverse=True)
        return [r for p, _, r in scored[:self.max_targets]
                if p >= (min(self.threshold, self.rule_threshold) if r["row"].get("rule")
                         else self.threshold)]

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "bias": self.bias, "threshold": self.threshold,
                "max_targets": self.max_targets, "meta": self.meta, "rate": self.rate,
                "trees": self.trees, "rule_threshold": self.rule_threshold,
                "precise": self.precise}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selector:
        return cls(dict(d["weights"]), float(d["bias"]), float(d["threshold"]),
                   int(d["max_targets"]), dict(d.get("meta", {})), float(d.get("rate", 0.0)),
                   list(d.get("trees", [])), float(d.get("rule_threshold", 1.0)),
                   dict(d.get("precise", {})))

    def precision_first(self) -> Selector:
        """The same model at its precision-first setting (itself if it has none)."""
        if not self.precise:
            return self
        return replace(self, threshold=float(self.precise["threshold"]),
                       max_targets=int(self.precise["max_targets"]),
                       rule_threshold=float(self.precise.get("rule_threshold", 1.0)))


def _compile_trees(trees: list[Any], rate: float) -> Any:
    """``add(z, get)`` for ``Selector.prob``: the trees as one function of nested
    conditionals (leaves times ``rate`` written as literals, exact for finite floats),
    else (a number not finite, or trees too deep to compile) walked as tuples."""
    def scale(node: Any) -> Any:
        if isinstance(node, list):
            return (node[0], node[1], scale(node[2]), scale(node[3]))
        return rate * node

    scaled = tuple(scale(t) for t in trees)

    def walk(z: float, get: Any) -> float:
        for node in scaled:
            while type(node) is tuple:
                node = node[2] if get(node[0], 0.0) <= node[1] else node[3]
            z += node
        return z

    def source(node: Any) -> str:
        if type(node) is not tuple:
            if not (type(node) in (int, float) and math.isfinite(node)):
                raise ValueError(node)
            return repr(node)
        if not (type(node[1]) in (int, float) and math.isfinite(node[1])
                and type(node[0]) is str):
            raise ValueError(node)
        return (f"({source(node[2])} if get({node[0]!r}, 0.0) <= {node[1]!r} "
                f"else {source(node[3])})")

    try:
        lines = [f"    z += {source(t)}" for t in scaled]
        code = "def add(z, get):\n" + "\n".join(lines) + "\n    return z\n"
        space: dict[str, Any] = {}
        exec(compile(code, "<target_selector trees>", "exec"), space)  # noqa: S102
        return space["add"]
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return walk


_LOADED: dict[Path, Selector | None] = {}


def load(path: Path = WEIGHTS) -> Selector | None:
    """The shipped selector (None where its weights file is absent: the rules decide), at
    its precision-first setting under PROPSCOPE_TARGETS_PRECISE=1."""
    if path not in _LOADED:
        _LOADED[path] = (Selector.from_dict(json.loads(path.read_text()))
                         if path.exists() else None)
    sel = _LOADED[path]
    if sel is not None and env_flag(TARGETS_PRECISE_VAR):
        return sel.precision_first()
    return sel

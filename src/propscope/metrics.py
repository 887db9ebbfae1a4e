"""SemEval-2020 Task 11 measures as pure functions over spans.

Counting (``*_counts``) is kept apart from the arithmetic (``PRF.from_counts``), as in
seqeval. Definitions: ``../shared/ptc/scorer-vectors/EXPECTED.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from .sentences import sentence_techniques as ranges_techniques
from .spans import Span, merge_ranges

Labels = Mapping[str, Sequence[Span]]


@dataclass
class Counts:
    """Partial-overlap sums: ``p_sum`` over predicted spans, ``r_sum`` over gold spans."""

    p_sum: float = 0.0
    n_pred: int = 0
    r_sum: float = 0.0
    n_gold: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.p_sum += other.p_sum
        self.n_pred += other.n_pred
        self.r_sum += other.r_sum
        self.n_gold += other.n_gold
        return self


@dataclass
class PRF:
    precision: float
    recall: float
    f1: float
    support: int = 0

    @classmethod
    def from_counts(cls, c: Counts) -> PRF:
        p = c.p_sum / c.n_pred if c.n_pred else 0.0
        r = c.r_sum / c.n_gold if c.n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return cls(p, r, f, c.n_gold)


@dataclass
class Score:
    measure: str
    overall: PRF
    per_technique: dict[str, PRF] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "measure": self.measure,
            **{k: v for k, v in asdict(self.overall).items()},
            "per_technique": {k: asdict(v) for k, v in self.per_technique.items()},
        }


def overlap_counts(pred: Sequence[tuple[int, int]], gold: Sequence[tuple[int, int]]) -> Counts:
    c = Counts(n_pred=len(pred), n_gold=len(gold))
    for ps, pe in pred:
        for gs, ge in gold:
            inter = min(pe, ge) - max(ps, gs)
            if inter > 0:
                c.p_sum += inter / (pe - ps)
                c.r_sum += inter / (ge - gs)
    return c


def _ids(pred: Labels, gold: Labels) -> list[str]:
    return sorted(set(pred) | set(gold))


def si_counts(pred: Labels, gold: Labels) -> Counts:
    total = Counts()
    for aid in _ids(pred, gold):
        total += overlap_counts(merge_ranges(pred.get(aid, [])), merge_ranges(gold.get(aid, [])))
    return total


def flc_counts(pred: Labels, gold: Labels) -> dict[str, Counts]:
    """Per technique: spans merged per technique, pairs count only with equal labels."""
    out: dict[str, Counts] = defaultdict(Counts)
    for aid in _ids(pred, gold):
        by_p: dict[str, list[Span]] = defaultdict(list)
        by_g: dict[str, list[Span]] = defaultdict(list)
        for s in pred.get(aid, []):
            by_p[s.technique or "?"].append(s)
        for s in gold.get(aid, []):
            by_g[s.technique or "?"].append(s)
        for tech in set(by_p) | set(by_g):
            out[tech] += overlap_counts(merge_ranges(by_p[tech]), merge_ranges(by_g[tech]))
    return dict(out)


def tc_pairs(pred: Labels, gold: Labels) -> list[tuple[str, str]]:
    """(gold, predicted) technique per gold row, pairing equal labels on shared spans."""
    pairs: list[tuple[str, str]] = []
    for aid in sorted(gold):
        g_rows = sorted(gold[aid], key=lambda s: s.start)
        p_rows = sorted(pred.get(aid, []), key=lambda s: s.start)
        p_by_span: dict[tuple[int, int], list[str]] = defaultdict(list)
        for s in p_rows:
            p_by_span[(s.start, s.end)].append(s.technique or "?")
        g_by_span: dict[tuple[int, int], list[str]] = defaultdict(list)
        for s in g_rows:
            g_by_span[(s.start, s.end)].append(s.technique or "?")
        for key, g_labels in g_by_span.items():
            p_labels = list(p_by_span.get(key, []))
            rest: list[str] = []
            for g in g_labels:  # equal labels face each other first
                if g in p_labels:
                    p_labels.remove(g)
                    pairs.append((g, g))
                else:
                    rest.append(g)
            for g in rest:
                pairs.append((g, p_labels.pop(0) if p_labels else "?"))
    return pairs


def tc_score(pred: Labels, gold: Labels) -> Score:
    pairs = tc_pairs(pred, gold)
    correct = sum(g == p for g, p in pairs)
    n_pred = sum(len(v) for v in pred.values())
    c = Counts(p_sum=correct, n_pred=n_pred, r_sum=correct, n_gold=len(pairs))
    per: dict[str, Counts] = defaultdict(Counts)
    for g, p in pairs:
        per[g].n_gold += 1
        per[g].r_sum += g == p
        if p != "?":
            per[p].n_pred += 1
            per[p].p_sum += g == p
    return Score("tc", PRF.from_counts(c), _per(per))


def confusion(pred: Labels, gold: Labels, labels: Sequence[str]) -> list[list[int]]:
    """Rows: gold technique; columns: predicted technique (TC pairing)."""
    index = {name: i for i, name in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for g, p in tc_pairs(pred, gold):
        if g in index and p in index:
            m[index[g]][index[p]] += 1
    return m


def sentences(text: str) -> list[tuple[int, int]]:
    """Lines with at least one non-space character, as ``(start, end)`` ranges."""
    out = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def sentence_techniques(text: str, spans: Iterable[Span]) -> list[tuple[int, int, set[str]]]:
    """Each line (the corpus's sentence) with the techniques of the spans overlapping it."""
    return ranges_techniques(sentences(text), spans)


def sentence_flags(text: str, spans: Iterable[Span]) -> list[tuple[int, int, bool]]:
    return [(a, b, bool(t)) for a, b, t in sentence_techniques(text, spans)]


def slc_counts(pred: Labels, gold: Labels, texts: Mapping[str, str]) -> Counts:
    tp = n_pred = n_gold = 0
    for aid, text in texts.items():
        p = sentence_flags(text, pred.get(aid, []))
        g = sentence_flags(text, gold.get(aid, []))
        for (_, _, fp), (_, _, fg) in zip(p, g, strict=True):
            tp += fp and fg
            n_pred += fp
            n_gold += fg
    return Counts(p_sum=tp, n_pred=n_pred, r_sum=tp, n_gold=n_gold)


def _per(counts: Mapping[str, Counts]) -> dict[str, PRF]:
    return {k: PRF.from_counts(v) for k, v in sorted(counts.items()) if k != "?"}


def si_score(pred: Labels, gold: Labels) -> Score:
    return Score("si", PRF.from_counts(si_counts(pred, gold)))


def flc_score(pred: Labels, gold: Labels) -> Score:
    per = flc_counts(pred, gold)
    total = Counts()
    for c in per.values():
        total += c
    return Score("flc", PRF.from_counts(total), _per(per))


def slc_score(pred: Labels, gold: Labels, texts: Mapping[str, str]) -> Score:
    return Score("slc", PRF.from_counts(slc_counts(pred, gold, texts)))

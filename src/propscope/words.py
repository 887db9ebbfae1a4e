"""Words that carry no technique on their own, and the one text normalisation for span keys.

Used by the span-set features (which spans of an article say the same thing) and by the
reader mode (spans that are only function words are dropped, dangling ones trimmed).
"""

from __future__ import annotations

import re

#: English function words: articles, pronouns, prepositions, conjunctions, auxiliaries,
#: and a few discourse words. A span made only of these (and punctuation) names nothing.
FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every no
i me my mine we us our ours you your yours he him his she her hers it its they them their
theirs one ones who whom whose which what there here
of in on at by for with from to into onto upon about above below over under between among
through during before after against without within across along around behind beyond near
off out up down than as like via per
and or but nor so yet if then because while although though unless since whether when
where how why until once also too very just only even still
is am are was were be been being do does did done have has had having will would shall
should can could may might must not n't 's 're 've 'll 'd 'm
it's that's there's he's she's they're we're you're i'm don't doesn't didn't isn't aren't
wasn't weren't won't can't
""".split())

#: Words a span should not start or end on (a dangling article, preposition or conjunction).
DANGLING = frozenset("""
a an the of in on at by for with from to into as and or but nor so if than that which who
whose whom because while
""".split())

_WORD = re.compile(r"[#@]?[\w'’-]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words (hashtags keep their #), apostrophes made straight."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def is_function_words(text: str) -> bool:
    """True when ``text`` has no word outside ``FUNCTION_WORDS`` (punctuation only counts
    as nothing)."""
    return all(w in FUNCTION_WORDS for w in words(text))


def stem(word: str) -> str:
    """A light suffix-stripping stem (plural, -ing, -ed, -ly): enough to tell that two
    spans repeat the same phrase, not a linguistic analysis."""
    for suffix, keep in (("'s", 3), ("ies", 4), ("ing", 5), ("ed", 4), ("ly", 5), ("es", 4),
                         ("s", 4)):
        if word.endswith(suffix) and len(word) >= keep + len(suffix) - 1:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def span_key(text: str) -> str:
    """What two spans must share to count as the same phrase: lower-cased, stemmed, function
    words, hyphens and punctuation dropped (the plain lower-cased words when nothing else is
    left)."""
    ws = words(text.replace("-", " "))
    content = [stem(w) for w in ws if w not in FUNCTION_WORDS]
    return " ".join(content or ws)

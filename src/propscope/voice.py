"""Whose voice a span is in: ``quoted``, ``attributed`` or the ``author``'s own, and the
speaker where one is named. Pure text rules (no model, no spaCy), in the char offsets of
the article text exactly as given (CRLF and non-ASCII text included).

- **quoted**: inside quotation marks of any kind (straight, curly, low-high, guillemets in
  either direction, single quotes; nested quotes count as the outer quote). An unclosed
  quote runs to the end of its line (the convention for quotes over several paragraphs).
- **attributed**: reported speech without quotation marks: "X said (that) ...", "..., X
  said.", "..., said X.", "According to X, ...", "..., according to X.", "X, ..., saying
  ..."; or the text after a paragraph's speaker label ("Name – Title: ...", "Name, title:
  ...", "Full Name: ...", and interview labels that recur, "Q:", "HELMS:"); or the
  paragraphs after a line introducing a block quote ("According to the petition by X:", "X
  writes:", "X said in a statement Tuesday,", "A statement from X read as follows:", "X
  sent out the following tweet:"), up to a later paragraph in the first person singular
  ("I agree ..."), a signature line ("— Name"), a quotation of its own or a blank line (at
  most ``BLOCK_LINES`` lines; blank lines right after the introduction and a poll box of
  the web page are passed over); "Here's the crux of X's argument:" introduces one too;
  the lines of an embedded tweet (above a signature line "— Name (@handle) date", or
  before the signature on its own line) are the signer's; "As X concludes, ..." covers the
  rest of its sentence. Verbs of attack and comparison report speech too ("X derided Y for
  ...", "X compared Y to ..."), and so does the progressive ("health officials are now
  warning ..."), "X asserted / vowed / hinted that ...", "are calling on / sounding the
  alarm", an adverb before the verb ("X correctly said") and sources given by number,
  possessive or medium ("one lawmaker is hinting", "Karadima's victims reported", "Turkish
  media reports have said"); the speaker may follow an opening phrase ("During the debate,
  X said ..."); "..., as X reported, ...", "..., explained the cardinal, ..." and "X, the
  bishops said in the profession." (a phrase of when or where after the verb, or a
  quotation just before the attribution) cover their sentence, "were urged by X to ..."
  what follows; "X says A; B" stops at the semicolon and "..., he added, amid ..." at the
  attribution (what follows is the author's).
- **author**: everything else.

A quote's speaker is found after it (``," he said``, ``," said Maria Lopez``, ``," the
lawmakers stated``), before it (``Smith told reporters: "``), in its paragraph's label or
attribution, or, for a quote that follows another in the same paragraph, that quote's
speaker. He / she / they name a person named before them in their sentence, else the last
named speaker of the same or the previous paragraph, else the most recent name. A span
crossing a voice boundary takes the voice covering most of its characters (a tie goes to
quoted, then attributed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .quote_marks import MARKS, mask_quotes, quotes, text_lines
from .spans import Span
from .speech_patterns import (
    ACCORDING_END,
    ACCORDING_START,
    AFTER_QUOTE,
    AND_SAID,
    AND_SAID_CHARS,
    APPOSITION,
    AS_START,
    AUX,
    BEFORE_QUOTE,
    BLOCK_INTRO,
    BLOCK_LINES,
    CALLED_START,
    CALLING,
    DASH_LABEL,
    DESC,
    FIRST_PERSON,
    FUNCTION,
    IMPERSONAL_THAT,
    IMPERSONAL_TO,
    ING,
    INLINE_SIGNATURE,
    LABEL,
    LEAD,
    NAME,
    NOT_SPEAKERS,
    OPENING,
    PERSON,
    PRONOUN,
    PRONOUNS,
    SAID_END,
    SAID_MID,
    SAYING,
    SENT_START,
    SIGNATURE,
    TITLES,
    TWEET_LINES,
    TWITTER,
    VERBS,
    VIEW_START,
    WHO,
    said_by,
)

VOICES = ("quoted", "attributed", "author")


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    speaker: str | None


#: titles before a name: ``TITLES``, those of churches, and jobs a story names people by
#: ("ICE Deputy Director Thomas Homan", "Actor Kevin Bacon")
TITLE_WORDS = TITLES | {"Cardinal", "Bishop", "Archbishop", "Rabbi", "Imam", "Pastor",
                        "Reverend", "Patriarch", "Cleric", "Shaykh", "Deputy", "Executive",
                        "Attorney", "Editor", "Chief", "Actor", "Actress", "Spokesperson",
                        "Chairwoman", "Chair", "CEO", "Founder", "Host", "Anchor"}


def is_title(word: str) -> bool:
    """Whether a word is a title before a name (its parts too: "Director-General")."""
    return word in TITLE_WORDS or any(w in TITLE_WORDS for w in word.split("-"))


def clean_speaker(phrase: str | None) -> str | None:
    """The name in a speaker phrase: its last run of capitalised words (leading function
    words dropped), else the phrase itself; None for nothing."""
    if not phrase:
        return None
    phrase = " ".join(phrase.replace("\x00", " ").split()).strip(" ,.;:—–-")
    runs, cur = [], []
    for w in phrase.split():
        if w[:1].isupper() and w not in FUNCTION or (cur and w in {"al", "bin", "de", "van",
                                                                      "von", "der", "la"}):
            cur.append(w)
        else:
            if cur:
                runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    if runs:
        full = next((k for k, r in enumerate(runs) if len(r) >= 2), len(runs) - 1)
        for k, run in enumerate(runs):
            while len(run) > 1 and run[0] in TITLES:
                run = run[1:]
            titled = [j for j, w in enumerate(run[:-1]) if is_title(w)]
            if titled:  # "ICE Deputy Director Thomas Homan" -> "Thomas Homan"
                run = run[titled[-1] + 1:]
            owners = [j for j, w in enumerate(run[:-1]) if w.endswith(("’s", "'s"))]
            if owners:  # "The American Mirror’s Kyle Olsen" -> "Kyle Olsen"
                run = run[owners[-1] + 1:]
            runs[k] = run
        run = runs[full]  # the first name of two words or more, titles dropped
        return " ".join(run).strip(" ,.;:’'") or None
    words = phrase.split()
    if words and words[0] in FUNCTION and len(words) > 1:
        words[0] = words[0].lower()
    return " ".join(words) or None


#: words that cannot begin a speaker: a preposition or conjunction read as a name ("As
#: noted above, ...", "From reports of ...")
NOT_NAMES = {"As", "From", "In", "On", "At", "For", "If", "When", "While", "With", "By",
             "After", "Before", "Like", "Unlike", "Since", "Because", "Although", "Though",
             "Despite", "To", "Of", "Thus", "So", "Then", "Now"}
#: a speaker phrase that opens with one of these is a subordinate clause ("Whether
#: Benedict actually wrote this letter or not, ..."), not an attribution
SUBORDINATORS = {"If", "When", "While", "Although", "Though", "Because", "Since", "Unless",
                 "Once", "Whether", "After", "Before", "Until"}
#: a described speaker holds no finite verb ("A spam website is reposting alleged ...")
FINITE = re.compile(r"\b(?:is|are|was|were)\b")


def is_speaker(phrase: str | None) -> bool:
    """Whether a speaker phrase can name one: more than a preposition or conjunction ("As
    Paul Sperry" can, "As" cannot), not a subordinate clause, and no verb in it."""
    if not phrase:
        return False
    words = phrase.split()
    return (any(w not in NOT_NAMES for w in words) and words[0] not in SUBORDINATORS
            and not FINITE.search(phrase))


def _labels(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Paragraph speaker labels: ``(text start, line end, speaker)``."""
    found = []
    first = next((k for k, (ls, le) in enumerate(lines) if text[ls:le].strip()), 0)
    for k, (ls, le) in enumerate(lines):
        m = LABEL.match(text, ls, le)
        if m:
            found.append((m.end(), le, m.group("label").strip(), k == first))
    counts: dict[str, int] = {}
    for *_, label, _ in found:
        counts[label] = counts.get(label, 0) + 1
    out = []
    for start, end, label, headline in found:
        if label.lower().rstrip(".") in NOT_SPEAKERS:
            continue
        dash = DASH_LABEL.match(label)
        words = label.split()
        plain = (re.fullmatch(NAME, label) is not None and len(words) >= 2
                 and (not headline or text[start:start + 1] in MARKS
                      or words[0] in TITLE_WORDS))  # "Cardinal Müller: ..." heads a story
        if dash:
            out.append((start, end, dash.group("name")))
        elif counts[label] >= 2 and len(words) <= 4 or plain:
            out.append((start, end, label))
    return out


#: verbs that put out a text: "A statement from X read as follows:", "X sent out the
#: following tweet:"
PUBLISHING = (rf"(?:{VERBS}|reads?|read|sent(?:\s+out)?|sends(?:\s+out)?|issued|issues|"
              r"released|releases|published|publishes|shared|shares|put\s+out|puts\s+out)")
#: a line that introduces what follows as someone's text: "... X read as follows:",
#: "X posted the following statement on Facebook:"
FOLLOWING = re.compile(
    rf"^(?P<who>[^:\x00]{{1,200}}?)\s+{AUX}{PUBLISHING}\s+"
    r"(?:as\s+follows|the\s+following(?:\s+[\w-]+){0,4}?)\s*:\s*$")
#: a line that is an attribution and nothing else, ending in a colon or a comma, with a
#: short phrase after the verb: "X said in a statement Tuesday,"
SAID_LINE = re.compile(
    rf"^\s*{OPENING}?{said_by('who')}\b(?:\s+(?!that\b)[^,:;\x00]{{1,50}}?)?\s*[:,]\s*$")


def _subject(phrase: str) -> str | None:
    """The speaker in a long subject: its last full name once asides ("(D)", ", who ...,")
    and opening phrases ("On November 16, 2012,") are dropped ("A statement from the
    White House" -> "White House")."""
    phrase = re.sub(r"\([^)]*\)|,\s*(?:who|which)\b[^,]*,", " ", phrase)
    phrase = phrase.rsplit(",", 1)[-1]
    names = PERSON.findall(phrase)
    return clean_speaker(names[-1] if names else phrase)


#: a reposted piece's byline ending its introduction: "“Title,” by Joshua Gill, Daily Caller
#: News Foundation, May 17, 2018:" (the text that follows is the byline's writer's)
BYLINE = re.compile(rf"(?:[”\"’'\x00],?\s+by|(?<![\w,])By)\s+(?P<who>{NAME})"
                    r"(?=\s*(?:,|\s[A-Z(]|:?$))")
#: the same byline with the piece's first words on its line: "HEADLINE By Rachel Crosby
#: Las Vegas Review-Journal, October 26, 2017: Fifty-eight people killed."
INLINE_BYLINE = re.compile(
    rf"(?<![\w,])By\s+(?P<who>{NAME})[^:\x00]{{0,60}}?\b\d{{4}}\s*:[ \t]+(?=\S)")


def _intro_speaker(line: str) -> str | None:
    """The speaker a line introducing a block quote names, or None where it is none."""
    if line.rstrip().endswith(":") and (m := BLOCK_INTRO.search(line)):
        who = m.group("who") or m.group("who2") or m.group("who3")
        if " by " in who and who.rsplit(" by ", 1)[1][:1].isupper():
            return who.rsplit(" by ", 1)[1].strip()  # "the petition ... by Protect The Harvest"
        return clean_speaker(who)
    if m := SAID_LINE.match(line):
        return clean_speaker(m.group("who"))
    if m := FOLLOWING.match(line):
        return _subject(m.group("who"))
    if line.rstrip().endswith(":") and ((m := ACCORDING_START.match(line))
                                        or (m := AS_START.match(line))
                                        or (m := SENT_START.match(line))
                                        or (m := SENT_START_MORE.match(line))):
        return clean_speaker(m.group("who"))  # "According to X, lawyers are ...:"
    return None


#: a poll box the web page put inside the article: from its opening line ("take our poll
#: - story continues below") to the line of its terms ("... Privacy Policy and Terms of
#: Use.")
POLL_START = re.compile(r"(?i)\btake our poll\b")
POLL_END = re.compile(r"(?i)\bterms of (?:use|service)\b")
POLL_LINES = 15


def furniture(text: str, lines: list[tuple[int, int]]) -> set[int]:
    """The lines of the poll boxes in ``text``, from their first line to their last: page
    furniture, not the article's text (a block quote runs on past one)."""
    out: set[int] = set()
    for k, (ls, le) in enumerate(lines):
        if POLL_START.match(text, ls, le) or POLL_START.search(text, ls, le) and not text[
                ls:le].split("take our poll")[0].strip():
            ends = [j for j in range(k + 1, min(len(lines), k + POLL_LINES))
                    if POLL_END.search(text, *lines[j])]
            if ends:
                out.update(range(k, ends[0] + 1))
    return out


def _block_quotes(text: str, masked: str, lines: list[tuple[int, int]]
                  ) -> list[tuple[int, int, str, bool]]:
    """Paragraphs after a line introducing a block quote: ``(start, end, speaker, byline)``
    (``byline``: a reposted piece introduced by its byline, inside which sentences with an
    attribution of their own keep it). Blank lines right after the introduction are skipped
    (paragraphs set apart by blank lines): the quote then runs to the next blank line."""
    out = []
    skip: set[int] | None = None
    for k, (ls, le) in enumerate(lines):
        line = masked[ls:le]
        by = INLINE_BYLINE.search(line) if len(line) > 40 else None
        if by:
            speaker, first, begin = clean_speaker(by.group("who")), k, ls + by.end()
        elif len(line) > 250 or not line.rstrip().endswith((":", ",")):
            continue
        else:
            by = BYLINE.search(line) if line.rstrip().endswith(":") else None
            speaker = clean_speaker(by.group("who")) if by else _intro_speaker(line)
            first, begin = k + 1, None
        byline = by is not None
        if not speaker or speaker.lower() in PRONOUNS or not is_speaker(speaker):
            continue
        while first < min(len(lines), k + 3) and not text[slice(*lines[first])].strip():
            first += 1
        if skip is None:
            skip = furniture(text, lines)
        end, n = None, 0
        for j in range(first, len(lines)):
            if j in skip:
                continue
            ms, me = lines[j]
            body = text[ms:me]
            if (n == BLOCK_LINES or not body.strip() or FIRST_PERSON.match(body) and j > first
                    or body.lstrip()[:1] in "—–" or "\x00" in masked[ms:me]):
                break
            end, n = me, n + 1
        if end is not None:
            out.append((begin if begin is not None else lines[first][0], end, speaker, byline))
    return out


def _in_tweet(line: str) -> bool:
    """Whether a line above a signature may be the tweet's: not blank, no signature, no
    line introducing it ("Trump tweeted:", "... on Twitter.")."""
    return bool(line.strip()) and not SIGNATURE.match(line) and not (
        line.rstrip().endswith(":") or TWITTER.search(line))


def _tweets(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Embedded tweets: the lines above each signature line, ``(start, end, name)``, or
    the text before a signature that ends its line."""
    out = []
    for k, (ls, le) in enumerate(lines):
        m = SIGNATURE.match(text[ls:le])
        if m is None:
            inline = INLINE_SIGNATURE.search(text, ls, le)
            if inline is not None:
                name = inline.group("name")
                out.append((ls, inline.start(), clean_speaker(name) or name))
            continue
        first = k
        while first > max(0, k - TWEET_LINES) and _in_tweet(text[slice(*lines[first - 1])]):
            first -= 1
        if first < k:
            out.append((lines[first][0], lines[k - 1][1], clean_speaker(m.group("name"))
                        or m.group("name")))
    return out


#: a phrase that says when or why something was said, not what: after ", he added,"
#: ("..., he added, amid mounting concern that ...") the words are the author's again
ADVERBIAL = re.compile(r"(?:amid|after|before|during|following|despite|as|while|when|in|on|"
                       r"at|with|without|because|since|citing|referring|speaking)\b")


#: a phrase of when or where after a closing attribution's verb ("..., the bishops said in
#: the profession.", "..., she told reporters on Monday."), not a clause ("that ...")
WHEN = (r"(?:\s+(?:in|on|at|during|to|from|via|through|after|before|last|this|earlier|"
        r"later|yesterday|today|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
        r"(?:(?!\bthat\b)[^,.;:!?\x00]){0,50})?(?=\s*(?:[.!?;:]|$))")
SAID_END_WHEN = re.compile(rf",\s*(?P<a>{NAME}|{PRONOUN}|{DESC})\s+{AUX}{VERBS}{WHEN}")
#: a closing attribution right after a quotation ('... a "real Muslim Army," the
#: documents said.'): the sentence before the quotation is the source's too
QUOTE_SAID_END = re.compile(
    rf"\x00\s*(?:(?P<a>{NAME}|{PRONOUN}|{DESC})\s+{AUX}{VERBS}|"
    rf"{VERBS}\s+(?:[a-z][\w-]*\s+){{0,3}}(?P<b>{NAME}|{DESC})){WHEN}")


def _quote_said_end(s: str) -> re.Match | None:
    """``QUOTE_SAID_END`` in a sentence, where its quotation opens inside the sentence
    (after words of it, not after the end of another sentence or quotation)."""
    m = QUOTE_SAID_END.search(s)
    if m is None:
        return None
    i = m.start()
    while i > 0 and s[i - 1] == "\x00":
        i -= 1
    before = s[:i].rstrip()
    return m if before and before[-1] not in ".!?\x00" else None


#: more verbs of speech, and an adverb before the verb ("Arnold correctly asserted that
#: ...", "the mayor vowed that ...", "the senator hinted that ...")
EXTRA_VERBS = (r"(?:asserts|asserted|vows|vowed|hints|hinted|promised|promises|joked|jokes|"
               r"testified|testifies|comments|voiced\s+(?:alarm|concern|fears?)|"
               r"(?:is|are|was|were)\s+(?:hinting|calling\s+(?:on|for)|"
               r"sounding\s+(?:the\s+)?(?:warnings?|alarm)))")
MORE_VERBS = rf"(?:[a-z]+ly\s+)?(?:{VERBS}|{EXTRA_VERBS})"
#: a quote's speaker after or before it with one of the verbs above ('," Dan Barker
#: comments.', 'Fox promised that ... and explained, "')
AFTER_QUOTE_MORE = re.compile(
    rf"^[,.!?…]?\s*(?:[—–-]\s*)?(?:(?P<a>{NAME}|{PRONOUN}|{DESC})\s+{AUX}{MORE_VERBS}\b|"
    rf"{EXTRA_VERBS}\s+(?:[a-z][\w-]*\s+){{0,3}}(?P<b>{NAME}|{PRONOUN}))")
BEFORE_QUOTE_MORE = re.compile(rf"{said_by('a', MORE_VERBS)}\b(?:\s+that)?\s*[:,]?\s*$")
#: more sources: a number or quantity of people ("one lawmaker", "nine countries"), a
#: possessive ("Karadima's victims"), media ("Turkish media reports")
NOUN = (r"(?!(?:to|of|in|on|at|for|the|a|an|and|or|that|who|which|is|are|was|were|has|have|"
        r"had|be|been|will|would|can|could|may|might|must|should)\b)[a-z][\w-]*")
QUANTITIES = (r"(?:[Oo]ne|[Tt]wo|[Tt]hree|[Ff]our|[Ff]ive|[Ss]ix|[Ss]even|[Ee]ight|[Nn]ine|"
              r"[Tt]en|[Ss]everal|[Mm]any|[Ss]ome|[Oo]ther)")
QUANTITY = re.compile(rf"{QUANTITIES}\s")
MORE_WHO = (rf"(?:{WHO}|{QUANTITIES}\s+(?:{NOUN}\s+)?{NOUN}|"
            rf"[A-Z][\w-]*[’']s\s+(?:{NOUN}\s+)?{NOUN}|"
            r"(?:[A-Z][\w.-]*\s+)?(?:media|press|news)\s+reports)")
#: someone named speaking (or naming) anywhere in a sentence, maybe at the end of an
#: apposition ("one of Lew's deputies, Adam Szubin, testified"): a quotation later in it
#: is theirs
SPEAKS = re.compile(rf"\b(?P<a>{NAME}|{PRONOUN})(?:{APPOSITION}|,)\s+{AUX}"
                    rf"(?:{MORE_VERBS}|{CALLING})\b")
#: a name right after a preposition is no subject ("... Office for Africa, said")
PREPOSITION_END = re.compile(r"\b(?:for|of|at|in|from|to|with|on|by)\s+$")
OWNER = re.compile(r"[A-Z][\w-]*[’']s\s+(?=[a-z])")
SENT_START_MORE = re.compile(
    rf"{LEAD}(?P<who>{MORE_WHO}){APPOSITION}\s+{AUX}{MORE_VERBS}\b(?:\s+that\b)?[\s:,]*")
#: an attribution set in the sentence: "..., as Breitbart News reported, ..." or "...,
#: explained the cardinal, ...": the whole sentence is the source's
AS_MID = re.compile(rf",\s*as\s+(?P<a>{NAME}|{DESC})\s+{AUX}{VERBS}\s*(?:,|[.!?]?\s*$)")
SAID_MID_INVERTED = re.compile(rf",\s*{VERBS}\s+(?P<a>{NAME}|{DESC}),\s+\S")
#: passive speech: "Nine countries were urged by the WHO to prepare ...": what follows
#: "to" or "that" is the speaker's (an order is an action, not speech)
PASSIVE = re.compile(
    rf"\b(?:is|are|was|were|been|being)\s+(?:urged|warned|told|advised|asked|encouraged)"
    rf"\s+by\s+(?P<a>{NAME}|{DESC})(?:\s*\([^)\x00]*\))?\s+(?:to|that)\s+")


FIRST_PERSONS = {"i", "we"}
#: a relative clause of speech: "..., O'Malley, who said Francis had caused ..." or "...
#: immigration hardliners, who argued that ...": what follows the verb is the antecedent's
WHO_SAID = re.compile(
    rf"(?P<a>{NAME}|(?:[a-z][\w-]*\s+)?[a-z][\w-]*s)\s*,\s*who\s+{AUX}{MORE_VERBS}\b"
    r"(?:\s+that\b)?\s*(?=[\w\x00])")


def _joined(text: str, sentences: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences, a piece that starts in lower case joined to the one before: a
    sentence does not start so ("... told the hosts of Democracy Now!" / "that it was
    ridiculous.")."""
    out: list[tuple[int, int]] = []
    for a, b in sentences:
        first = text[a:b].lstrip()[:1]
        if out and first.islower():
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _said_before(a: int, start: int, m: re.Match) -> tuple[int, int, str, int]:
    """The region from ``start`` to a closing attribution ``m`` (``SAID_END``, matched in
    a sentence starting at ``a``), its speaker phrase and where that is."""
    g = "a" if m.group("a") else "b"
    return (start, a + m.start(), m.group(g), a + m.start(g))


#: a dateline before an article's first sentence: "WASHINGTON — ", "LONDON (Reuters) - "
DATELINE = re.compile(r"^[A-Z][A-Z .,'-]+(?:\([^)]*\))?\s*[—–-]\s*")


def _subject_name(head: str) -> str | None:
    """The name a clause opens with, its subject: "McCormack however was not so sure" ->
    McCormack, "The Guardian has painted ..." -> Guardian, "He praised ..." -> He; None
    where it opens with none (not a name further on: "A borough has voted to ban President
    Trump")."""
    words = DATELINE.sub("", head).split()
    if words and words[0].lower() in PRONOUNS - FIRST_PERSONS:
        return words[0]
    k = 1 if words and (words[0] in FUNCTION or QUANTITY.match(words[0] + " ")) else 0
    run = []
    for w in words[k: k + 5]:
        if not w[:1].isupper():
            break
        run.append(w)
    if run:
        return clean_speaker(" ".join(run))
    # no name first: the first one of its opening words ("Ten other African countries")
    who = clean_speaker(head)
    return who if who and who[:1].isupper() and who.split()[0] in words[:4] else None


def _sentence_regions(masked: str, sentences: Sequence[tuple[int, int]]
                      ) -> list[tuple[int, int, str, int]]:
    """Reported speech without quotation marks: ``(start, end, speaker phrase, where the
    phrase is)``; none whose phrase is no speaker (``is_speaker``)."""
    out = []
    for a, b in _joined(masked, sentences):
        s = masked[a:b]
        if QUESTION.match(s):  # "Does Archbishop Hebda believe it is time ...?": the author's
            continue
        if (m := ACCORDING_START.match(s)) or (m := AS_START.match(s)) or (
                m := VIEW_START.match(s)):
            k = m.end()
            if n := SENT_START.match(s[k:]):  # "According to the report, Müller said ...":
                out.append((a + k + n.end(), b, n.group("who"), a + k + n.start("who")))
            else:  # Müller's words
                out.append((a + k, b, m.group("who"), a + m.start("who")))
        elif (((m := SENT_START.match(s)) or (m := SENT_START_MORE.match(s)))
              and m.end() < len(s.rstrip(" .\x00"))):  # else a closing attribution below
            semi = s.find(";", m.end())  # "X says A; B": B is the author's
            owner = OWNER.match(m.group("who"))  # "Karadima's victims" -> "victims"
            who = m.group("who")[owner.end() if owner else 0:]
            if QUANTITY.match(who):  # "Several governors": no name
                who = who[0].lower() + who[1:]
            out.append((a + m.end(), a + semi if semi > 0 else b, who,
                        a + m.start("who") + (owner.end() if owner else 0)))
        elif "\x00" not in s and (m := CALLED_START.match(s)):
            out.append((a + m.end(), b, m.group("who"), a + m.start("who")))
        elif m := ACCORDING_END.search(s):
            out.append((a, a + m.start(), m.group("who"), a + m.start("who")))
            # "X is high, according to A, and Y, B has warned.": Y is B's
            if (n := SAID_END.search(s, m.end())) and n.start() > m.end():
                out.append(_said_before(a, a + m.end(), n))
        elif ((m := SAID_END.search(s) or SAID_END_WHEN.search(s) or _quote_said_end(s))
              and len(s[: m.start()].split()) >= 3):
            out.append(_said_before(a, a, m))
        elif (m := AS_MID.search(s)) or (m := SAID_MID_INVERTED.search(s)):
            out.append((a, b, m.group("a"), a + m.start("a")))
        elif m := PASSIVE.search(s):
            out.append((a + m.end(), b, m.group("a"), a + m.start("a")))
        elif m := SAID_MID.search(s):
            # "X is watching, he added, amid concern that ...": what follows is the author's
            end = a + m.start() if ADVERBIAL.match(s, m.end() - 1) else b
            out.append((a, end, m.group("a"), a + m.start("a")))
        elif ", who " in s and (m := WHO_SAID.search(s)):
            out.append((a + m.end(), b, m.group("a"), a + m.start("a")))
        elif m := SAYING.search(s):
            who = _subject_name(s[: m.start()].split(",")[0])
            if who:
                out.append((a + m.end(), b, who, a))
    # "I said to this woman that ...": the author speaking is the author's voice
    kept = [r for r in out if is_speaker(r[2]) and r[2].lower() not in FIRST_PERSONS]
    return [piece for r in kept + _impersonal(masked, sentences, kept)
            for piece in _without_asides(masked, r)]


#: a question the author asks ("Does X believe ...?", "Did she say ...?"): no report
QUESTION = re.compile(r"^\W*(?:Does|Do|Did|Is|Are|Was|Were|Has|Have|Had|Can|Could|Would|"
                      r"Will|Should|Shall|May|Might|Must)\s[^\x00]*\?\W*$")


def _impersonal(masked: str, sentences: Sequence[tuple[int, int]],
                regions: list[tuple[int, int, str, int]]) -> list[tuple[int, int, None, int]]:
    """Speech with no source, outside ``regions``: what follows "It is said that", and a
    sentence with "... is said to be ...": attributed, to nobody."""
    out: list[tuple[int, int, None, int]] = []
    for a, b in _joined(masked, sentences):
        if any(r[0] < b and a < r[1] for r in regions):
            continue
        s = masked[a:b]
        if m := IMPERSONAL_THAT.search(s):
            out.append((a + m.end(), b, None, a + m.start()))
        elif m := IMPERSONAL_TO.search(s):
            out.append((a, b, None, a + m.start()))
    return out


#: an aside in brackets of three words or more ("(evidently to assist in ...)"): the
#: author's, inside reported speech too ("(D-NM)" or "(WHO)" stay as they are)
ASIDE = re.compile(r"\((?:[^()\x00\s]+\s+){2,}[^()\x00]*\)")


def _without_asides(masked: str, region: tuple[int, int, str, int]
                    ) -> list[tuple[int, int, str, int]]:
    """A reported-speech region less the author's asides in brackets in it."""
    a, b, who, at = region
    out, pos = [], a
    for m in ASIDE.finditer(masked, a, b):
        if m.start() > pos:
            out.append((pos, m.start(), who, at))
        pos = m.end()
    if pos < b:
        out.append((pos, b, who, at))
    return out


def _quote_phrases(masked: str, spans: list[tuple[int, int]], lines: list[tuple[int, int]],
                   text: str | None = None) -> list[tuple[str | None, int]]:
    """The speaker phrase named next to each quotation, and where it is (``text``: the
    text ``masked`` hides the quotations of, for where sentences start)."""
    out: list[tuple[str | None, int]] = []
    for a, b in spans:
        ls = next(ls for ls, le in lines if ls <= a <= le)
        le = next(le for ls, le in lines if ls <= b - 1 <= le)  # the closing mark's line
        after = masked[b : min(le, b + 120)]
        before = masked[max(ls, a - 160) : a]
        if (m := AFTER_QUOTE.match(after)) or (m := AFTER_QUOTE_MORE.match(after)):
            g = next(g for g in "abcd" if g in m.re.groupindex and m.group(g))
            out.append((m.group(g), b + m.start(g)))
        elif (m := BEFORE_QUOTE.search(before)) or (m := BEFORE_QUOTE_MORE.search(before)):
            lo = max(ls, a - 160)
            # "Nation of Islam leader ... Louis Farrakhan chanted": the name before the verb
            named = [n for n in PERSON.finditer(masked, lo + m.end("a"), lo + m.end())
                     if re.match(rf"\s+{AUX}{VERBS}", masked[n.end():lo + m.end()])]
            if named:
                out.append((named[-1].group(), named[-1].start()))
            else:
                out.append((m.group("a"), lo + m.start("a")))
        elif (not masked[ls:a].strip() and ls > 0 and masked[:ls - 1].rstrip().endswith(":")
              and (m := BEFORE_QUOTE.search(masked[max(0, ls - 161) : ls - 1]))):
            # "as Swisher asked:" closing the line before the one the quote opens
            out.append((m.group("a"), max(0, ls - 161) + m.start("a")))
        elif (ING.search(masked[ls:a]) or AND_SAID.search(masked[max(ls, a - AND_SAID_CHARS):a])
              ) and (p := PERSON.search(masked, ls, a)):
            out.append((p.group(), p.start()))
        elif said := [m for m in SPEAKS.finditer(
                masked, max(ls, _sentence_start(masked if text is None else text, a)), a)
                if is_speaker(m.group("a")) and not m.group("a").endswith("ly")
                and not PREPOSITION_END.search(masked, max(0, m.start() - 8), m.start())]:
            # "Szubin testified that despite the deal "...": the one who speaks in its sentence
            out.append((said[-1].group("a"), said[-1].start("a")))
        else:
            out.append((None, a))
    return out


def _resolve(text: str, phrases: list[tuple[str | None, int]], masked: str | None = None
             ) -> list[str | None]:
    """Names for speaker phrases; he / she / they name the person named last before them
    in their own sentence, else the last named speaker if that spoke in the same paragraph
    or the one before ("Page told Fox News' Sean Hannity ... He added": Page), else the
    most recent named speaker or person named in the text (outside quotations, where
    ``masked`` hides them), before them."""
    names: list[str | None] = [None] * len(phrases)
    last: str | None = None
    people = [(m.start(), n) for m in PERSON.finditer(text if masked is None else masked)
              if (n := clean_speaker(m.group())) and (" " in n or is_title(m.group().split()[0]))]
    last_at = -1
    for k in sorted(range(len(phrases)), key=lambda k: phrases[k][1]):
        name = clean_speaker(phrases[k][0])
        if name is not None and name.lower() in PRONOUNS:
            at = phrases[k][1]
            own = [(p, n) for p, n in people if _sentence_start(text, at) <= p < at]
            if own:  # "X admitted Shaykh Hamza Sodagar, though he has said": Sodagar
                name = own[-1][1]
            elif last and _paragraphs_between(text, last_at, at) <= 1:
                name = last  # "Page told Fox News' Sean Hannity ... He added, ...": Page
            else:
                cands = [(p, n) for p, n in people if p < at]
                if last:
                    cands.append((_last_pos(text, last, at), last))
                name = max(cands)[1] if cands else None
        elif name is not None and name[:1].isupper() and not WRITINGS.search(phrases[k][0]):
            last, last_at = name, phrases[k][1]  # he / she is no report
        names[k] = name
    return names


#: sources that are writings, not people: he / she does not name them
WRITINGS = re.compile(r"(?i)\b(?:report|reports|newspaper|paper|magazine|website|site|"
                      r"agency|statement|study|documents?|article|book|letter|petition)\b")
SENTENCE_END = re.compile(r"[.!?][”\"’']?\s+|\n")


def _sentence_start(text: str, at: int) -> int:
    """Roughly where the sentence holding ``at`` starts (after ". ", "? ", "! " or a line
    break)."""
    lo = max(0, at - 400)
    ends = [m.end() for m in SENTENCE_END.finditer(text, lo, at)]
    return ends[-1] if ends else lo


def _paragraphs_between(text: str, a: int, b: int) -> int:
    """How many paragraph breaks (line breaks, blank lines not counted) lie between."""
    return sum(1 for line in text[a:b].split("\n")[1:] if line.strip())


def _last_pos(text: str, name: str | None, before: int) -> int:
    return text.rfind(name, 0, before) if name else -1


def voice_regions(text: str, sentences: Sequence[tuple[int, int]]
                  ) -> tuple[list[Region], list[Region]]:
    """The quoted and the attributed stretches of ``text``, with their speakers."""
    lines = text_lines(text)
    spans = quotes(text)
    masked = mask_quotes(text, spans)
    labelled = [Region(a, b, s) for a, b, s in _labels(text, lines)]
    blocks = _block_quotes(text, masked, lines)
    bylined = [Region(a, b, s) for a, b, s, by in blocks if by]
    labelled += [Region(a, b, s) for a, b, s in
                 [(a, b, s) for a, b, s, by in blocks if not by] + _tweets(text, lines)
                 if not any(a < x.end and x.start < b for x in labelled)]
    said = [r for r in _sentence_regions(masked, sentences)
            if not any(r[0] < x.end and x.start < r[1] for x in labelled)]
    quoted_by = _quote_phrases(masked, spans, lines, text)
    names = _resolve(text, [(p, at) for *_, p, at in said] + quoted_by, masked)
    attributed = sorted(labelled + bylined + [Region(a, b, n) for (a, b, *_), n in
                                              zip(said, names, strict=False)],
                        key=lambda r: r.start)
    quoted: list[Region] = []
    for (a, b), name in zip(spans, names[len(said):], strict=True):
        line = next(k for k, (ls, le) in enumerate(lines) if ls <= a <= le)
        ls, le = lines[line]
        if name is None:  # the label or attribution around it, or before it in its line
            around = [r for r in attributed if r.start <= b and a <= r.end and r.speaker]
            before = [r for r in attributed if ls <= r.start < a and r.speaker]
            name = (around[0].speaker if around else before[-1].speaker if before else None)
        if name is None and quoted and (quoted[-1].start >= ls or a == ls + len(
                text[ls:le]) - len(text[ls:le].lstrip()) and quoted[-1].end >= (
                lines[line - 1][0] if line else 0)):
            name = quoted[-1].speaker  # a quote going on after another (same or last line)
        quoted.append(Region(a, b, name))
    return quoted, attributed


def _overlap(span: Span, regions: Sequence[Region]) -> list[tuple[int, Region]]:
    return [(min(span.end, r.end) - max(span.start, r.start), r) for r in regions
            if r.start < span.end and span.start < r.end]


def span_voice(span: Span, quoted: Sequence[Region], attributed: Sequence[Region]
               ) -> tuple[str, str | None]:
    """``(voice, speaker)`` of one span: the voice covering most of its characters."""
    if span.end == span.start:
        span = Span(span.start, span.start + 1)
    q = _overlap(span, quoted)
    a = _overlap(span, attributed)
    n_q = sum(n for n, _ in q)
    # attributed characters outside quotes
    n_a = sum(n for n, _ in a) - sum(
        n for _, r in a for n, _ in _overlap(Span(max(span.start, r.start),
                                                  min(span.end, r.end)), quoted))
    n_author = len(span) - n_q - n_a
    if n_q and n_q >= n_a and n_q >= n_author:
        return "quoted", max(q, key=lambda x: x[0])[1].speaker
    if n_a and n_a >= n_author:  # the region covering most of it; the innermost of those
        return "attributed", max(a, key=lambda x: (x[0], x[1].start - x[1].end))[1].speaker
    return "author", None


def span_voices(text: str, spans: Sequence[Span], sentences: Sequence[tuple[int, int]]
                ) -> list[tuple[str, str | None]]:
    """``(voice, speaker)`` for each span of ``text`` (``sentences``: its sentence ranges,
    as ``sentences.split_sentences`` gives them)."""
    if not spans:
        return []
    quoted, attributed = voice_regions(text, sentences)
    people: list[tuple[int, str]] | None = None  # found on the first one-word speaker
    out = []
    for s in spans:
        voice, speaker = span_voice(s, quoted, attributed)
        if speaker and len(speaker.split()) <= 2:
            people = _full_names(text) if people is None else people
            speaker = _full_name(speaker, s.start, people)
        out.append((voice, speaker))
    return out


def _full_names(text: str) -> list[tuple[int, str]]:
    """Where each person is named in full (two words or more, titles dropped)."""
    out = []
    for m in PERSON.finditer(text):
        name = clean_speaker(m.group())
        if name and len(name.split()) >= 2:
            out.append((m.start(), name))
    return out


def _full_name(speaker: str | None, at: int, people: list[tuple[int, str]]) -> str | None:
    """A speaker named by one word ("Gowdy", "Mr Cruz") as the article names that person in
    full ("Trey Gowdy", "Juan Carlos Cruz"): the last full name before ``at`` that ends in
    that word, else the first after it; the speaker as it is where there is none."""
    if not speaker:
        return speaker
    words = [w for w in speaker.split() if not is_title(w) and w.rstrip(".") not in
             {"Mr", "Mrs", "Ms", "Dr"}]
    if len(words) != 1 or not words[0][:1].isupper():
        return speaker
    last = words[0].removesuffix("’s").removesuffix("'s")
    named = [(p, n) for p, n in people if n.split()[-1] == last]
    before = [n for p, n in named if p < at]
    return before[-1] if before else named[0][1] if named else speaker

"""The words and patterns of reported speech that ``voice`` reads: speech verbs, names,
descriptions of sources, and the regular expressions built from them (a quote's speaker
after or before it, "X said ..." sentences, "according to X", block-quote introductions,
speaker labels, tweet signatures).
"""

from __future__ import annotations

import re

VERBS = (r"(?:said|says|say|tells|tell|wrote|writes|write|added|adds|stated|states|"
         r"warn|claim|insist|argue|note|chanted|shouted|screamed|yelled|"
         r"claimed|claims|declared|declares|insisted|insists|argued|argues|explained|"
         r"explains|noted|notes|warned|warns|tweeted|tweets|asked|asks|replied|replies|"
         r"continued|commented|announced|announces|stressed|stresses|emphasized|emphasised|"
         r"alleged|alleges|admitted|admits|suggested|suggests|posted|posts|remarked|"
         r"responded|concluded|charged|quipped|thundered|boasted|fumed|lamented|"
         r"complained|complains|predicted|concludes|concluded|reports|reported|believes|"
         r"maintains|maintained|contends|recalled|acknowledged|conceded|believe|"
         r"derided|derides|accused|accuses|slammed|slams|blasted|blasts|denounced|"
         r"denounces|mocked|mocks|ridiculed|ridicules|pointed\s+out|points\s+out|"
         r"made\s+(?:it\s+)?clear|makes\s+(?:it\s+)?clear|"
         r"told\s+(?:[\w.’'-]+\s*?){1,3}?(?=\s+that\b|\s*[:,])|"
         # "..., he told Guardian Australia.": the one told named, then the sentence ends
         r"told\s+(?:[A-Z][\w’'-]*\s+){1,2}[A-Z][\w’'-]*(?=[.!?]?\s*$)|told\s+[\w’'-]+|"
         # the progressive: "health officials are now warning the bacteria could mutate"
         r"(?:is|are|was|were)\s+(?:(?:now|also|still)\s+)?"
         r"(?:warning|saying|claiming|insisting|arguing|telling\s+[\w’'-]+))")
PARTICLE = r"(?:al|el|bin|ibn|de|da|del|van|von|der|den|la|le|du|di|ben|abu|of)"
CAP = r"(?:(?:Mr|Mrs|Ms|Dr|St|Jr|Sen|Rep|Gen|Gov|Col|Lt|Prof)\.|[A-Z]\.|[A-Z][\w’'-]*)"
NAME = rf"(?:{CAP}(?:\s+(?:{PARTICLE}[\s-])?{CAP}){{0,4}})"
PRONOUN = r"(?:he|she|they|He|She|They|I|we|We)"
DESC = (r"\b(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir)\s+"
        r"(?:(?!(?:that|which|who|and|or)\b)[\w’'-]+\s+){0,3}?"
        r"(?!(?:that|which|who|and|or)\b)[\w’'-]+")
#: unnamed sources that report speech ("experts warn that ...")
BARE = (r"(?:(?:[A-Z][\w.-]*|[a-z][\w-]*)\s+)?"  # "health officials", "US officials"
        r"(?:[Ee]xperts|[Oo]fficials|[Cc]ritics|[Aa]nalysts|[Ss]cientists|[Rr]esearchers|"
        r"[Aa]uthorities|[Pp]olice|[Ww]itnesses|[Ss]ources|[Oo]bservers|[Aa]ctivists|"
        r"[Rr]esidents|[Dd]octors|[Pp]rosecutors|[Rr]eports?|[Ss]tudies|[Mm]embers|[Ll]awmakers|"
        r"[Ll]eaders|[Ss]upporters|[Oo]pponents|[Pp]rotesters|[Cc]onservatives|[Ll]iberals|"
        r"[Hh]ardliners|[Cc]ampaigners|[Aa]dvocates|[Ii]nvestigators|[Dd]iplomats|"
        r"[Ee]conomists|[Cc]ommentators)")
WHO = rf"(?:{NAME}|{PRONOUN}|{DESC}|{BARE})"
AUX = (r"(?:(?:has|have|had|also|then|later|reportedly|once|recently|publicly|now|still|"
       r"repeatedly|often)\s+){0,2}")
#: a quote introduced by a participle ("... Farrakhan was filmed in Tehran chanting "):
#: its speaker is the first full name of the sentence
ING = re.compile(r"\b(?:saying|stating|claiming|chanting|shouting|declaring|adding|"
                  r"writing|insisting|warning|calling|tweeting)\s*(?:that\s*)?[:,]?\s*$")
#: the same after a clause of the speaker's own: "Pamela Geller praised Orban for his
#: honesty and wrote, "" (searched in the last ``AND_SAID_CHARS`` before the quote)
AND_SAID = re.compile(rf"\s(?:and|but)\s+(?:also\s+)?{VERBS}\s*(?:that\s*)?[:,]?\s*$")
AND_SAID_CHARS = 60

#: what may stand between a speaker and the verb: ", the mayor of X," or "from the
#: University of Y"
APPOSITION = r"(?:\s*,[^,\x00]{1,80},|\s+(?:from|of|at|with)\s+[^,\x00]{1,60}?)?"


def said_by(group: str, verbs: str = VERBS) -> str:
    """A speaker (named group ``group``), what may stand after it, and a speech verb (or
    one of ``verbs``): "Smith, the mayor, has said"."""
    return rf"(?P<{group}>{WHO}){APPOSITION}\s+{AUX}{verbs}"


AFTER_QUOTE = re.compile(
    rf"^[,.!?…]?\s*(?:[—–-]\s*)?(?:(?P<a>{NAME}|{PRONOUN}|{DESC})\s+{AUX}{VERBS}\b|"
    rf"{VERBS}\s+(?:[a-z][\w-]*\s+){{0,3}}(?P<b>{NAME}|{PRONOUN})|"
    rf"according\s+to\s+(?P<c>{NAME}|{DESC})|"
    rf"[—–-]\s*(?P<d>{NAME})\s*(?:$|[,(\r]))")
BEFORE_QUOTE = re.compile(
    rf"{said_by('a')}\b(?:\s+that)?\s*[:,]?\s*$")
#: an opening phrase before the speaker: "During last month's debate, Warren derided ..."
OPENING = (r"(?:(?:In|On|At|During|After|Before|Speaking|Earlier|Later|Last|This|"
           r"Asked|Writing|As\s+well\s+as|Given|Despite|Since|Following|Amid|Beyond|"
           r"Apart\s+from|Besides|With|Without|Under|Over)\b[^,\x00]{0,60},\s+)")
#: how a sentence may open before its speaker: a conjunction, then an opening phrase
LEAD = (r"^[^\w\x00]*(?:(?:But|And|So|Yet|Now|Still|However|Meanwhile|Further|Furthermore|"
        rf"Moreover|Also|Indeed|Instead|Finally|Besides|Likewise|Similarly),?\s+)?{OPENING}?")
SENT_START = re.compile(rf"{LEAD}{said_by('who')}\b(?:\s+that\b)?[\s:,]*")
#: verbs of naming: what X calls something is X's
CALLING = (r"(?:called|calls|described|describes|branded|brands|dubbed|dubs|labell?ed|labels|"
           r"criticized|criticizes|criticised|criticises|compared|compares)")
#: "X called the report a whitewash": only in sentences without a quotation (there the
#: quoted words are X's and the rest the author's)
CALLED_START = re.compile(rf"{LEAD}{said_by('who', CALLING)}\s+(?!(?:for|off|up)\b)")
ACCORDING_START = re.compile(
    r"^\W*(?:[Aa]ccording\s+to|[Aa]s\s+reported\s+by|"
    r"[Ii]n\s+the\s+(?:words|view|opinion|eyes)\s+of)\s+"
    r"(?P<who>[^,\x00]{1,80}?)\s*,\s*")
AS_START = re.compile(
    rf"^[^\w\x00]*As\s+{said_by('who')}(?:\s+(?:so|very|quite|most|rather|[a-z]+ly)){{0,3}}\s*,\s*")
#: "In Gonzalez's view, ...": the rest of the sentence is the owner's
VIEW_START = re.compile(
    rf"^\W*[Ii]n\s+(?P<who>{NAME})[’']s?\s+(?:view|opinion|eyes|telling|account)\s*,\s*")
#: speech with no source: "It is said that ...", "... is said to be ...": no speaker
IMPERSONAL_THAT = re.compile(
    r"\b[Ii]t\s+(?:is|was|has\s+been|had\s+been)\s+(?:widely\s+)?(?:said|reported|claimed|"
    r"alleged|rumou?red|believed)\s+that\s+")
IMPERSONAL_TO = re.compile(
    r"\b(?:is|are|was|were)\s+(?:widely\s+)?(?:said|reported|alleged|rumou?red|believed)"
    r"\s+to\s+(?:be|have)\b")
#: what a possessive introduces ("Here's the crux of Greenwald's argument:")
SAYINGS = (r"argument|statement|words|remarks|comment|letter|tweet|post|response|reply|"
           r"explanation|message|testimony|speech|answer|view|position|thought|take")
#: a line introducing a block quote: "According to the petition by X:", "X writes:"
BLOCK_INTRO = re.compile(
    rf"(?:[Aa]ccording\s+to\s+(?P<who>[^:\x00]{{1,150}}?)|"
    rf"{said_by('who2')}|"
    rf"(?P<who3>{NAME})[’']s\s+(?:[\w-]+\s+){{0,2}}?(?:{SAYINGS})s?\b[^:\x00]{{0,40}})"
    r"\s*:\s*$")
#: an embedded tweet's signature line, "— Name (@handle) date": the lines above it are
#: the tweet (at most TWEET_LINES, up to a blank line or the previous signature)
SIGNATURE = re.compile(rf"^\s*[—–-]\s*(?P<name>{NAME})\s*\(@\w+\)")
#: the same signature after the tweet's text on its own line: "I am watching ... —
#: Donald J. Trump (@realDonaldTrump) October 18, 2018"
INLINE_SIGNATURE = re.compile(rf"(?<=\S)\s+[—–]\s*(?P<name>{NAME})\s*\(@\w+\)")
TWEET_LINES = 4
TWITTER = re.compile(r"(?i)\btwitter\b|\btweet")
#: a block quote runs over at most this many following lines
BLOCK_LINES = 15
FIRST_PERSON = re.compile(r"^\W*I(?:\s|[’']\w)")
ACCORDING_END = re.compile(r",?\s+according\s+to\s+(?P<who>[^,.;\x00]{1,80})")
SAID_END = re.compile(
    rf",\s*(?:(?P<a>{NAME}|{PRONOUN}|{DESC})\s+{AUX}{VERBS}|"
    rf"{VERBS}\s+(?:[a-z][\w-]*\s+){{0,3}}(?P<b>{NAME}|{DESC}))"
    r"(?=\s*(?:[.!?;:\x00]|,\s*(?:who|which|a|an|the|adding|according)\b|$))")
#: "Given his experience, Saviano said, he expects nothing": the whole sentence is his
SAID_MID = re.compile(rf",\s*(?P<a>{NAME}|{PRONOUN})\s+{AUX}{VERBS},\s+\S")
SAYING = re.compile(r",\s*(?:saying|adding|claiming|insisting|arguing|warning|stating|declaring|"
                    r"noting|alleging|asserting|explaining)\s+(?:that\s+)?|"
                    r"\s(?:but|and)\s+(?:also\s+)?(?:said|says|added|warned|claimed|insisted)"
                    r"\s+that\s+")
LABEL = re.compile(r"[ \t]*(?P<label>[^\s:\"“«][^:\n\"“«]{0,60}?)[ \t]*:[ \t]+(?=\S)")
DASH_LABEL = re.compile(rf"^(?P<name>{NAME})\s*(?:[–—]|\s-\s|,)\s*\S.{{0,60}}$")
NOT_SPEAKERS = {
    "watch", "update", "updated", "note", "editor's note", "editor’s note", "photo", "video",
    "source", "sources", "read more", "breaking", "related", "exclusive", "proof", "warning",
    "special report", "image", "credit", "tags", "share", "also read", "opinion", "analysis",
    "caption", "summary", "background", "transcript", "ps", "p.s", "nb", "bottom line",
    "breaking news", "see also", "more", "listen", "subscribe", "disclaimer", "follow",
}
FUNCTION = {"The", "A", "An", "This", "That", "These", "Those", "It", "In", "On", "But",
            "And", "So", "Yet", "Then", "Now", "As", "At", "For", "If", "When", "While",
            "According", "Meanwhile", "However", "His", "Her", "Their", "Its", "Our", "My",
            "Like", "Unlike", "With", "From", "By", "After", "Before", "Which", "Who"}
PRONOUNS = {"he", "she", "they", "i", "we"}
TITLES = {"Senator", "Sen.", "President", "Minister", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.",
          "Professor", "General", "Gen.", "Rep.", "Representative", "Governor", "Gov.",
          "Mayor", "Secretary", "Judge", "Sheikh", "Pope", "King", "Queen", "Prince",
          "Chancellor", "Ambassador", "Colonel", "Col.", "Lt.", "Captain", "Sir", "Lord",
          "Rev.", "Father", "Congressman", "Congresswoman", "Speaker", "Prime", "Foreign",
          "Defense", "Defence", "Former", "Council", "Commissioner", "Spokesman",
          "Spokeswoman", "Chairman", "Director", "Officer", "Sergeant", "Sgt."}
#: a person named in the text (two or more capitalised words): he / she may refer to it
PERSON = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+")

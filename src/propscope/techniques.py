"""The 14 techniques of the Propaganda Techniques Corpus, with plain-words help.

Names are exactly as in the corpus labels. Definitions and examples are our own words.
Colours are backgrounds on which black text passes WCAG AA (contrast >= 4.5), of clearly
different hues; each technique also has a short tag, so that none is told by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Technique:
    name: str
    label: str
    definition: str
    example: str
    colour: str
    tag: str  # a short inline tag, so that techniques differ without colour

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "label": self.label,
            "definition": self.definition,
            "example": self.example,
            "colour": self.colour,
            "tag": self.tag,
        }


TECHNIQUE_LIST: tuple[Technique, ...] = (
    Technique("Appeal_to_Authority", "Appeal to authority",
              "Claims something is true because an expert or leader says so, "
              "without other evidence.",
              "As every top economist agrees, this plan cannot fail.", "#d8b48a", "AUTH"),
    Technique("Appeal_to_fear-prejudice", "Appeal to fear / prejudice",
              "Builds support by stirring anxiety, panic or prejudice about an alternative.",
              "If this bill passes, your children will not be safe in their own beds.",
              "#ffa94d", "FEAR"),
    Technique("Bandwagon,Reductio_ad_hitlerum", "Bandwagon / Reductio ad Hitlerum",
              "Urges joining because everyone does, or rejects an idea because a hated "
              "group holds it.",
              "Millions have already signed up; only fools are left waiting.", "#e599f7", "BAND"),
    Technique("Black-and-White_Fallacy", "Black-and-white fallacy",
              "Presents two options as the only ones, when more exist.",
              "You either back the new tariff or you back our enemies.", "#b197fc", "B&W"),
    Technique("Causal_Oversimplification", "Causal oversimplification",
              "Blames a complex outcome on one cause.",
              "Crime went up the day the new mayor took office, so it is her fault.",
              "#91a7ff", "CAUSE"),
    Technique("Doubt", "Doubt",
              "Questions the credibility of someone or something without substance.",
              "Can we really trust a minister who once changed his mind?", "#74c0fc", "DOUBT"),
    Technique("Exaggeration,Minimisation", "Exaggeration / minimisation",
              "Makes something look much bigger or much smaller than it is.",
              "The protest was the greatest uprising in human history.", "#3bc9db", "EXAG"),
    Technique("Flag-Waving", "Flag-waving",
              "Appeals to patriotism or group identity to justify an idea.",
              "Any true patriot knows this border wall is what our nation needs.",
              "#69db7c", "FLAG"),
    Technique("Loaded_Language", "Loaded language",
              "Uses words with strong emotional charge to sway the reader.",
              "The senator's outrageous, disastrous scheme was unveiled today.", "#ffd43b", "LOAD"),
    Technique("Name_Calling,Labeling", "Name calling / labelling",
              "Attaches a label the audience fears, hates or admires to a person or group.",
              "The so-called experts of the globalist elite have spoken again.", "#ff8787", "NAME"),
    Technique("Repetition", "Repetition",
              "Repeats the same message over and over so the audience accepts it.",
              "We will win. We will win. Make no mistake: we will win.", "#c0eb75", "REP"),
    Technique("Slogans", "Slogans",
              "A brief, striking phrase, often with labelling or stereotyping.",
              "Jobs not mobs!", "#fcc2d7", "SLOGAN"),
    Technique("Thought-terminating_Cliches", "Thought-terminating cliché",
              "A stock phrase that discourages critical thought and ends the discussion.",
              "It is what it is.", "#ced4da", "CLICHE"),
    Technique("Whataboutism,Straw_Men,Red_Herring", "Whataboutism / straw man / red herring",
              "Deflects by charging the opponent with hypocrisy, distorting their position, "
              "or changing the subject.",
              "You complain about pollution, yet you drive a car.", "#f06595", "WHAT"),
)

TECHNIQUES: dict[str, Technique] = {t.name: t for t in TECHNIQUE_LIST}
TECHNIQUE_NAMES: tuple[str, ...] = tuple(t.name for t in TECHNIQUE_LIST)


def _folded(name: str) -> str:
    """Lower case, letters and digits only (for suggestions, not for matching)."""
    return "".join(c for c in name.lower() if c.isalnum()) if name.isascii() else name


_BY_LOWER: dict[str, str] = {t.name.lower(): t.name for t in TECHNIQUE_LIST}


def resolve_technique(name: str) -> str | None:
    """The technique ``name`` means, in any ASCII case (``loaded_language``,
    ``LOADED_LANGUAGE``); None when it names none."""
    if name in TECHNIQUES:
        return name
    return _BY_LOWER.get(name.lower()) if name.isascii() else None


def nearest_technique(name: str) -> str:
    """The technique name closest to ``name`` (for a "did you mean" hint)."""
    import difflib

    wanted = _folded(name)
    by_name = {_folded(t.name): t.name for t in TECHNIQUE_LIST}
    by_label = {_folded(t.label): t.name for t in TECHNIQUE_LIST}
    candidates = {**by_label, **by_name}
    close = difflib.get_close_matches(wanted, list(candidates), n=1, cutoff=0.0)
    prefix = [k for k in candidates if wanted and (k.startswith(wanted) or wanted in k)]
    return candidates[prefix[0] if prefix else close[0]]


def unknown_technique_message(name: str) -> str:
    return (f"unknown technique {name!r}; did you mean {nearest_technique(name)!r}? "
            f"(known: {', '.join(TECHNIQUE_NAMES)})")


def parse_technique_list(value: str | list[str] | None) -> list[str] | None:
    """Parse a ``--techniques`` value (names separated by ';' or a list). None means all.

    Technique names contain commas, so ';' separates them on the command line. Names are
    matched in any case; an unknown name raises ValueError suggesting the nearest one.
    """
    if value is None:
        return None
    names = [v.strip() for v in value.split(";")] if isinstance(value, str) else list(value)
    out = []
    for name in (n for n in names if n):
        found = resolve_technique(name)
        if found is None:
            raise ValueError(unknown_technique_message(name))
        out.append(found)
    return out

"""The 14 techniques of the Propaganda Techniques Corpus, with plain-words help.

Names are exactly as in the corpus labels. Definitions and examples are our own words.
Colours are light backgrounds on which black text passes WCAG AA (contrast >= 4.5).
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

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "label": self.label,
            "definition": self.definition,
            "example": self.example,
            "colour": self.colour,
        }


TECHNIQUE_LIST: tuple[Technique, ...] = (
    Technique("Appeal_to_Authority", "Appeal to authority",
              "Claims something is true because an expert or leader says so, "
              "without other evidence.",
              "As every top economist agrees, this plan cannot fail.", "#ffd8a8"),
    Technique("Appeal_to_fear-prejudice", "Appeal to fear / prejudice",
              "Builds support by stirring anxiety, panic or prejudice about an alternative.",
              "If this bill passes, your children will not be safe in their own beds.", "#ffc9c9"),
    Technique("Bandwagon,Reductio_ad_hitlerum", "Bandwagon / Reductio ad Hitlerum",
              "Urges joining because everyone does, or rejects an idea because a hated "
              "group holds it.",
              "Millions have already signed up; only fools are left waiting.", "#eebefa"),
    Technique("Black-and-White_Fallacy", "Black-and-white fallacy",
              "Presents two options as the only ones, when more exist.",
              "You either back the new tariff or you back our enemies.", "#d0bfff"),
    Technique("Causal_Oversimplification", "Causal oversimplification",
              "Blames a complex outcome on one cause.",
              "Crime went up the day the new mayor took office, so it is her fault.", "#bac8ff"),
    Technique("Doubt", "Doubt",
              "Questions the credibility of someone or something without substance.",
              "Can we really trust a minister who once changed his mind?", "#a5d8ff"),
    Technique("Exaggeration,Minimisation", "Exaggeration / minimisation",
              "Makes something look much bigger or much smaller than it is.",
              "The protest was the greatest uprising in human history.", "#99e9f2"),
    Technique("Flag-Waving", "Flag-waving",
              "Appeals to patriotism or group identity to justify an idea.",
              "Any true patriot knows this border wall is what our nation needs.", "#96f2d7"),
    Technique("Loaded_Language", "Loaded language",
              "Uses words with strong emotional charge to sway the reader.",
              "The senator's outrageous, disastrous scheme was unveiled today.", "#b2f2bb"),
    Technique("Name_Calling,Labeling", "Name calling / labelling",
              "Attaches a label the audience fears, hates or admires to a person or group.",
              "The so-called experts of the globalist elite have spoken again.", "#d8f5a2"),
    Technique("Repetition", "Repetition",
              "Repeats the same message over and over so the audience accepts it.",
              "We will win. We will win. Make no mistake: we will win.", "#ffec99"),
    Technique("Slogans", "Slogans",
              "A brief, striking phrase, often with labelling or stereotyping.",
              "Jobs not mobs!", "#ffe3e3"),
    Technique("Thought-terminating_Cliches", "Thought-terminating cliché",
              "A stock phrase that discourages critical thought and ends the discussion.",
              "It is what it is.", "#e9ecef"),
    Technique("Whataboutism,Straw_Men,Red_Herring", "Whataboutism / straw man / red herring",
              "Deflects by charging the opponent with hypocrisy, distorting their position, "
              "or changing the subject.",
              "You complain about pollution, yet you drive a car.", "#fcc2d7"),
)

TECHNIQUES: dict[str, Technique] = {t.name: t for t in TECHNIQUE_LIST}
TECHNIQUE_NAMES: tuple[str, ...] = tuple(t.name for t in TECHNIQUE_LIST)


def parse_technique_list(value: str | list[str] | None) -> list[str] | None:
    """Parse a ``--techniques`` value (names separated by ';' or a list). None means all.

    Technique names contain commas, so ';' separates them on the command line.
    Unknown names raise ValueError listing the known ones.
    """
    if value is None:
        return None
    names = [v.strip() for v in value.split(";")] if isinstance(value, str) else list(value)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in TECHNIQUES]
    if unknown:
        raise ValueError(
            f"unknown technique {unknown[0]!r}; known: {', '.join(TECHNIQUE_NAMES)}"
        )
    return names

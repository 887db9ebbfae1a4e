"""Coloured terminal highlighting with a legend (ANSI 256-colour backgrounds)."""

from __future__ import annotations

from ..results import Result, confidence_level
from ..techniques import TECHNIQUE_NAMES, TECHNIQUES
from .html import technique_counts

RESET = "\033[0m"


def _ansi_bg(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"\033[48;2;{r};{g};{b}m\033[38;2;0;0;0m"


def _role(result: Result, k: int) -> str:
    """`` [quoted: Maria Lopez -> Donald Trump]``: voice, speaker and targets of a span."""
    role = result.role(k)
    if role is None:
        return ""
    who = f"{role.voice}: {role.speaker}" if role.speaker else role.voice
    aims = sorted({t.entity for t in role.targets or ()})
    return f" [{who}" + (f" -> {', '.join(aims)}" if aims else "") + "]"


def _targets(result: Result) -> list[str]:
    """Who is targeted (most first) and the share of spans in the author's own voice."""
    lines = []
    voices = result.voice_counts()
    if voices:
        n = sum(voices.values())
        lines.append(f"voice: {voices.get('author', 0)} of {n} spans in the author's own "
                     f"voice, {voices.get('quoted', 0)} quoted, "
                     f"{voices.get('attributed', 0)} attributed")
    found = result.targets()
    if found:
        lines.append("targeted: " + "; ".join(
            f"{name} ({e['type']}, {e['count']}: {technique_counts(e['techniques'])})"
            for name, e in found.items()))
    lines += [f"note: {n}" for n in result.notes]
    return lines


def render_text(result: Result, colour: bool = True) -> str:
    art = result.article
    lines = [f"== {art.title or art.id} =="]
    lines += [f"! {w}" for w in result.warnings]
    if colour:
        parts = []
        for a, b, covering in result.segments():
            chunk = result.text[a:b]
            if covering and covering[0].technique in TECHNIQUES:
                colour_of = TECHNIQUES[covering[0].technique].colour
                parts.append(_ansi_bg(colour_of) + chunk + RESET)
            else:
                parts.append(chunk)
        lines.append("".join(parts))
    summary = result.summary()
    lines.append("")
    lines.append(f"{summary['spans']} spans; {summary['flagged_sentences']} of "
                 f"{summary['sentences']} sentences flagged")
    for k, s in enumerate(result.spans):
        snippet = result.text[s.start : s.end].replace("\r", " ").replace("\n", " ")
        if len(snippet) > 70:
            snippet = snippet[:67] + "..."
        mark = _ansi_bg(TECHNIQUES[s.technique].colour) + "  " + RESET + " " if (
            colour and s.technique in TECHNIQUES) else ""
        lines.append(f"  {mark}[{s.start}:{s.end}] {s.technique} "
                     f"({confidence_level(s.score)}, {s.score:.2f}){_role(result, k)}: "
                     f"{snippet}")
    lines += _targets(result)
    used = [t for t in TECHNIQUE_NAMES if t in summary["techniques"]]
    if colour and used:
        lines.append("legend: " + "  ".join(
            _ansi_bg(TECHNIQUES[t].colour) + f" {TECHNIQUES[t].label} " + RESET for t in used))
    return "\n".join(lines) + "\n"

"""Quotation marks: where the quotes of a text are (``quotes``), with the char offsets of
the text exactly as given. Every kind of mark counts (straight, curly, low-high,
guillemets in either direction, single quotes; a straight and a curly double quote close
each other); nested quotes count as the outer quote; an unclosed quote closes at the first
unmatched closing mark of the next ``CARRY_LINES`` lines, else at its line's end.
``voice`` builds speakers and voices on it.
"""

from __future__ import annotations

from collections.abc import Sequence

#: opening mark -> the marks that close it
#: (a straight double quote and a curly one close each other: articles pasted together
#: from several sources mix them, '“ ... ,"' and '" ... .”')
OPENERS = {"“": "”\"", "„": "“”", "«": "»", "»": "«", "‹": "›", "›": "‹", "‘": "’",
           "‚": "‘’", "「": "」", "『": "』", '"': '"”', "'": "'", "”": "”"}
CLOSERS = {c for v in OPENERS.values() for c in v}
MARKS = set(OPENERS) | CLOSERS
APOSTROPHE_LIKE = {"'", "’", "‘"}
SPACED = {"«", "»", "‹", "›"}  # French typography puts a space inside guillemets


def text_lines(text: str) -> list[tuple[int, int]]:
    """Each line's ``(start, end)``, its line break (and a CR before it) left out."""
    out, pos = [], 0
    for line in text.split("\n"):
        end = pos + len(line.rstrip("\r"))
        out.append((pos, end))
        pos += len(line) + 1
    return out


def _can_open(c: str, prev: str, nxt: str) -> bool:
    if nxt.isspace() and c not in SPACED:
        return False
    if c in APOSTROPHE_LIKE or c == '"':
        return not (prev.isalnum() or prev in ".,;!?")
    return True


def _can_close(c: str, prev: str, nxt: str) -> bool:
    if c in APOSTROPHE_LIKE:
        return not nxt.isalnum() and not prev.isspace()
    return c in SPACED or not prev.isspace()


#: an unclosed quote may close on one of this many following lines (one sentence a line,
#: as in the corpus, puts a quote of several sentences on several lines)
CARRY_LINES = 8


def _scan_line(text: str, ls: int, le: int
               ) -> tuple[list[tuple[int, int]], list[tuple[str, int]], list[tuple[str, int]]]:
    """One line: its closed outermost quotes, its unclosed openers ``(closers, pos)`` and
    its orphan closing marks ``(mark, pos)`` (a closer with nothing open before it)."""
    out, orphans = [], []
    stack: list[tuple[str, int]] = []
    for i in range(ls, le):
        c = text[i]
        if c not in MARKS:
            continue
        prev = text[i - 1] if i > ls else " "
        nxt = text[i + 1] if i + 1 < le else " "
        k = next((k for k in range(len(stack) - 1, -1, -1) if c in stack[k][0]), None)
        if k is not None and _can_close(c, prev, nxt):
            if k == 0:
                out.append((stack[0][1], i + 1))
            del stack[k:]
        elif c in OPENERS and _can_open(c, prev, nxt) and not (
                c == "”" and not (prev.isspace() and nxt.isalnum())):
            stack.append((OPENERS[c], i))
        elif not stack and c in CLOSERS and _can_close(c, prev, nxt) and c not in "'’":
            orphans.append((c, i))
    return out, stack, orphans


def quotes(text: str) -> list[tuple[int, int]]:
    """Outermost quotations ``[opening mark, after closing mark)``. An unclosed one closes
    at the first unmatched closing mark of the next few lines, else at its line's end."""
    lines = text_lines(text)
    scans = [_scan_line(text, ls, le) for ls, le in lines]
    out: list[tuple[int, int]] = []
    used: set[int] = set()
    skip_to = -1
    for n, ((_, le), (closed, stack, _)) in enumerate(zip(lines, scans, strict=True)):
        if n <= skip_to:  # inside a quote carried over from an earlier line
            out += [q for q in closed if q[0] > out[-1][1]] if out else closed
            continue
        out += closed
        if not stack:
            continue
        closers, pos = stack[0]
        end = le
        for m in range(n + 1, min(len(lines), n + 1 + CARRY_LINES)):
            hit = next(((c, i) for c, i in scans[m][2] if c in closers and i not in used), None)
            if hit is not None:
                used.add(hit[1])
                end, skip_to = hit[1] + 1, m
                break
            if scans[m][0] or scans[m][1]:  # a line with quotes of its own: not inside one
                break
        out.append((pos, end))
    return sorted(out)


def mask_quotes(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with quoted stretches replaced by NULs (offsets kept)."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = "\x00" * (b - a)
    return "".join(chars)

"""Sentences as a reader counts them: real sentences inside lines, with exact offsets.

``split_sentences(text)`` cuts every non-blank line into sentences with pySBD, which knows
abbreviations (Mr., U.S., e.g.) and closing quotes ("He said. Then left."). Offsets are
half-open character offsets into ``text``, surrounding whitespace left out, and a sentence
never crosses a line break. This is what ``Result.sentences`` and "N of M sentences" count;
the corpus's one-sentence-per-line convention (``metrics.sentences``) stays with the SLC
measure of ``evaluate``.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import PropscopeError
from .spans import Span

#: pySBD's time grows with the square of the text it is given, so a long line is read
#: through windows of about this many characters (each window's last sentence, which the
#: window edge may have cut, is read again at the start of the next one).
WINDOW = 1500

#: a line with none of these before its last character is one sentence: pySBD cuts only
#: after sentence-ending punctuation, a closing bracket or a closing quote (checked
#: against pySBD on every line of the 771 corpus and unlabelled-news articles)
_CUTS = re.compile(r"[.!?…)\]\"”»]")

_LOCAL = threading.local()  # a pySBD Segmenter keeps the text it works on: one per thread


def _segment(text: str) -> list[str]:
    seg = getattr(_LOCAL, "segmenter", None)
    if seg is None:
        seg = _LOCAL.segmenter = _segmenter()
    return [str(s) for s in seg.segment(text)]


class _Patterns:
    """``re`` for pySBD's modules, with a pattern cache of its own. pySBD builds a few
    hundred patterns by string formatting (one per abbreviation and use); with the
    sentences' own patterns they overflowed ``re``'s cache of 512, so that about half of
    pySBD's time went to compiling the same patterns again. Same patterns, same results."""

    LIMIT = 4096  # patterns kept (pySBD's English rules use about 750)

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], re.Pattern[str]] = {}

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        key = (pattern, int(flags))
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            found = self._cache[key] = re.compile(pattern, flags)
        return found

    def sub(self, pattern: str, repl: Any, string: str, count: int = 0, flags: int = 0) -> str:
        return self.compile(pattern, flags).sub(repl, string, count)

    def findall(self, pattern: str, string: str, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).findall(string)

    def finditer(self, pattern: str, string: str, flags: int = 0) -> Iterator[re.Match[str]]:
        return self.compile(pattern, flags).finditer(string)

    def search(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).search(string)

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).match(string)

    def split(self, pattern: str, string: str, maxsplit: int = 0, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).split(string, maxsplit)

    def __getattr__(self, name: str) -> Any:  # escape, IGNORECASE, ...
        return getattr(re, name)


_PATTERNS = _Patterns()


def _segmenter() -> Any:
    """pySBD's English segmenter, sped up without changing what it returns (one a
    thread: a segmenter keeps the text it works on)."""
    return _segmenter_class()(language="en", clean=False)


@functools.cache
def _segmenter_class() -> Any:
    """pySBD's Segmenter with each sentence located in the text by ``str.find`` instead
    of a regular expression compiled from the sentence; pySBD's modules are pointed at
    ``_PATTERNS`` once, here."""
    try:
        import pysbd
        from pysbd.utils import TextSpan
    except ImportError:
        raise PropscopeError("sentence splitting needs pySBD: pip install pysbd") from None
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(pysbd.__path__, "pysbd."):
        module = importlib.import_module(info.name)
        if getattr(module, "re", None) is re:
            module.re = _PATTERNS  # type: ignore[attr-defined]

    class Segmenter(pysbd.Segmenter):  # type: ignore[misc]
        def sentences_with_char_spans(self, sentences: list[str]) -> list[Any]:
            r"""As pySBD's: each sentence with the whitespace after it, at its first
            occurrence (as ``re.finditer`` walks them) that ends after the last one's
            end; ``re.finditer(re.escape(sent) + r"\s*", text)`` done with ``find``."""
            text = self.original_text
            out = []
            prior = 0
            for sent in sentences:
                if not sent:  # an empty pattern matches everywhere: pySBD's own way
                    out.extend(super().sentences_with_char_spans([sent]))
                    continue
                pos = text.find(sent)
                while pos >= 0:
                    end = pos + len(sent)
                    while end < len(text) and text[end].isspace():
                        end += 1
                    if end > prior:
                        out.append(TextSpan(text[pos:end], pos, end))
                        prior = end
                        break
                    pos = text.find(sent, end)
            return out

    return Segmenter


def _locate(line: str, pieces: list[str], start: int) -> list[tuple[int, int]]:
    """Offsets of ``pieces`` (in order) in ``line`` from ``start``, whitespace trimmed.
    A piece that cannot be found (a splitter that changed the text) ends the list; the
    caller then takes the rest of the line as one sentence."""
    out = []
    pos = start
    for piece in pieces:
        core = piece.strip()
        if not core:
            continue
        at = line.find(core, pos)
        if at < 0 or line[pos:at].strip():
            break
        out.append((at, at + len(core)))
        pos = at + len(core)
    return out


def split_line(line: str) -> list[tuple[int, int]]:
    """The sentences of one line, as ``(start, end)`` offsets into it."""
    core = line.strip()
    if core and not _CUTS.search(core, 0, len(core) - 1):  # one sentence: no pySBD
        a = len(line) - len(line.lstrip())
        return [(a, a + len(core))]
    return _split_pysbd(line)


def _split_pysbd(line: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    window = WINDOW
    while line[pos:].strip():
        end = min(len(line), pos + window)
        found = _locate(line, _segment(line[pos:end]), pos)
        last = end >= len(line)
        if not found:  # the splitter lost its place: the rest is one sentence
            a = pos + len(line[pos:]) - len(line[pos:].lstrip())
            out.append((a, len(line.rstrip())))
            break
        if last:
            out.extend(found)
            covered = found[-1][1]
            if line[covered:].strip():  # text after the last piece found
                a = covered + len(line[covered:]) - len(line[covered:].lstrip())
                out.append((a, len(line.rstrip())))
            break
        if len(found) == 1:  # one sentence longer than the window: widen it
            window *= 2
            continue
        out.extend(found[:-1])
        pos = found[-1][0]
        window = WINDOW
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Every sentence of ``text`` as half-open ``(start, end)`` offsets, in order."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            out.extend((pos + a, pos + b) for a, b in split_line(line))
        pos += len(line) + 1
    return out


def sentence_techniques(ranges: list[tuple[int, int]], spans: Iterable[Span]
                        ) -> list[tuple[int, int, set[str]]]:
    """Each sentence with the techniques of the spans overlapping it by a character or
    more (``ranges`` in order and not overlapping, as ``split_sentences`` gives them)."""
    starts = [a for a, _ in ranges]
    found: list[set[str]] = [set() for _ in ranges]
    for s in spans:  # each span visits only the sentences it can overlap
        k = max(0, bisect.bisect_right(starts, s.start) - 1)
        while k < len(ranges) and ranges[k][0] < s.end:
            if s.start < ranges[k][1]:
                found[k].add(s.technique or "?")
            k += 1
    return [(a, b, t) for (a, b), t in zip(ranges, found, strict=True)]

"""Token <-> character conversions: the only place that knows about tokens and BIO tags.

Offsets are ``(start, end)`` character ranges of word-piece tokens in the article text
(special tokens excluded). Tags: 0 = O (outside), 1 = B (begins a span), 2 = I (inside).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np

from .spans import Span, merge_ranges

O, B, I = 0, 1, 2  # noqa: E741
Offsets = Sequence[tuple[int, int]]


class TokenIndex:
    """Token start/end lists of one text, built once, for many character-range lookups."""

    def __init__(self, offsets: Offsets) -> None:
        self.starts = [s for s, _ in offsets]
        self.ends = [e for _, e in offsets]

    def range(self, start: int, end: int) -> tuple[int, int]:
        """Indices ``[i, j)`` of the tokens that overlap the character range ``[start, end)``."""
        i = bisect.bisect_right(self.ends, start)
        j = bisect.bisect_left(self.starts, end)
        return i, max(i, j)


def bio_tags(offsets: Offsets, spans: Sequence[Span]) -> np.ndarray:
    """BIO tag for every token; spans are merged first, as span identification scores them."""
    tags = np.zeros(len(offsets), dtype=np.int64)
    index = TokenIndex(offsets)
    for start, end in merge_ranges(spans):
        i, j = index.range(start, end)
        if j > i:
            tags[i] = B
            tags[i + 1 : j] = I
    return tags


#: the marker span classifier's input: at most this many tokens, this many of the span
MARKED_TOKENS, MARKED_SPAN = 128, 64


def marked_input(ids_of: Callable[[str], list[int]], text: str, start: int, end: int,
                 specials: tuple[int, int, int, int]) -> tuple[list[int], int, int]:
    """The span ``text[start:end]`` inside its line(s), between two marker tokens:
    ``[CLS] left [open] span [close] right [SEP]`` (``specials``: the ids of open, close,
    CLS and SEP). The span keeps at most ``MARKED_SPAN`` tokens; the context is cut to
    ``MARKED_TOKENS`` in all, evenly on both sides where both are long. Returns the ids and
    the positions of the two markers."""
    open_id, close_id, cls_id, sep_id = specials
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    left, right = ids_of(text[lo:start]), ids_of(text[end:hi])
    span = ids_of(text[start:end])[:MARKED_SPAN]
    room = MARKED_TOKENS - 4 - len(span)
    keep_left = min(len(left), max(room // 2, room - len(right)))
    keep_right = min(len(right), room - keep_left)
    left = left[len(left) - keep_left:] if keep_left else []
    ids = [cls_id, *left, open_id, *span, close_id, *right[:keep_right], sep_id]
    return ids, len(left) + 1, len(left) + 2 + len(span)


def windows(n_tokens: int, size: int, stride: int, shift: int = 0) -> list[tuple[int, int]]:
    """Token windows ``[lo, hi)`` of at most ``size`` tokens, starting every ``stride``;
    with ``shift`` (0 < shift < stride), the second window starts ``shift`` tokens in, so
    the window edges fall elsewhere (a second reading of the text for test-time averaging)."""
    if n_tokens <= size:
        return [(0, n_tokens)]
    out = []
    lo = 0
    while True:
        hi = min(lo + size, n_tokens)
        out.append((lo, hi))
        if hi == n_tokens:
            return out
        lo += shift if (lo == 0 and shift) else stride


def window_grids(n_tokens: int, size: int, stride: int, readings: int = 1
                 ) -> list[list[tuple[int, int]]]:
    """``readings`` window layouts with edges ``stride / readings`` apart (duplicates, as
    for a text that fits one window, are dropped)."""
    grids: list[list[tuple[int, int]]] = []
    for r in range(max(1, readings)):
        grid = windows(n_tokens, size, stride, r * stride // max(1, readings))
        if grid not in grids:
            grids.append(grid)
    return grids


def owner_window(wins: Sequence[tuple[int, int]], n_tokens: int) -> np.ndarray:
    """For each token, the window in which it sits furthest from an edge."""
    owner = np.zeros(n_tokens, dtype=np.int64)
    best = np.full(n_tokens, -1, dtype=np.int64)
    for w, (lo, hi) in enumerate(wins):
        idx = np.arange(lo, hi)
        margin = np.minimum(idx - lo, hi - 1 - idx)
        if lo == 0:
            margin = hi - 1 - idx  # the first window owns the start outright
        if hi == n_tokens:
            margin = np.maximum(margin, idx - lo)
        better = margin > best[lo:hi]
        owner[lo:hi][better] = w
        best[lo:hi][better] = margin[better]
    return owner


def _is_word(c: str) -> bool:
    return c.isalnum() or c in "'’-_"


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words and trim surrounding white space."""
    while start > 0 and _is_word(text[start - 1]) and _is_word(text[start]):
        start -= 1
    while end < len(text) and end > 0 and _is_word(text[end]) and _is_word(text[end - 1]):
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def technique_tags(offsets: Offsets, spans: Sequence[Span],
                   techniques: Sequence[str]) -> np.ndarray:
    """Multi-hot (tokens, techniques): 1 where a token overlaps a span of that technique."""
    index = {t: k for k, t in enumerate(techniques)}
    tags = np.zeros((len(offsets), len(techniques)), dtype=np.float32)
    lookup = TokenIndex(offsets)
    for s in spans:
        if s.technique in index:
            i, j = lookup.range(s.start, s.end)
            tags[i:j, index[s.technique]] = 1.0
    return tags


def in_span(probs: np.ndarray) -> np.ndarray:
    """Per-token probability of being inside a span, from BIO probabilities (tokens, 3)."""
    return 1.0 - probs[:, O]


def decode_runs(
    text: str,
    offsets: Offsets,
    p_in: np.ndarray,
    threshold: float,
    min_chars: int = 2,
    extend: float | None = None,
    max_gap: int = 0,
) -> list[tuple[int, int, float]]:
    """Spans from per-token in-span probabilities ``p_in`` of shape (tokens,).

    Hysteresis: a token is marked when its in-span probability is at least
    ``extend`` (default: ``threshold``); runs of marked tokens, bridging gaps of up to
    ``max_gap`` unmarked tokens, become a span when some token in them reaches
    ``threshold``. A span never crosses a newline and is snapped to whole words.
    Returns ``(start, end, score)`` with the run's mean in-span probability as score.
    """
    mark = p_in >= (threshold if extend is None else extend)
    n = len(offsets)

    def same_line(a: int, b: int) -> bool:
        return "\n" not in text[offsets[a][1] : offsets[b][0]]

    out: list[tuple[int, int, float]] = []
    k = 0
    while k < n:
        if not mark[k]:
            k += 1
            continue
        j = k
        while True:
            nxt = j + 1
            while nxt < n and not mark[nxt] and nxt - j - 1 < max_gap:
                nxt += 1
            if nxt < n and mark[nxt] and same_line(j, nxt):
                j = nxt
            else:
                break
        if p_in[k : j + 1].max() >= threshold:
            s, e = snap_to_words(text, offsets[k][0], offsets[j][1])
            if e - s >= min_chars:
                out.append((s, e, float(p_in[k : j + 1].mean())))
        k = j + 1
    return out


def project(src: Offsets, values: np.ndarray, dst: Offsets) -> np.ndarray:
    """Per-token ``values`` (tokens, D) of one tokenisation onto another's tokens ``dst``.

    Each destination token gets the mean of the source tokens it overlaps, weighted by the
    characters they share; one that overlaps none takes the nearest source token before it.
    """
    out = np.zeros((len(dst), values.shape[1]), dtype=np.float32)
    if not len(dst) or not len(src):
        return out
    s_start, s_end = (np.asarray(a) for a in zip(*src, strict=True))
    d_start, d_end = (np.asarray(a) for a in zip(*dst, strict=True))
    cuts = np.unique(np.concatenate([s_start, s_end, d_start, d_end]))
    lo, length = cuts[:-1], np.diff(cuts)  # elementary pieces [lo, lo + length)
    si = np.searchsorted(s_start, lo, side="right") - 1
    di = np.searchsorted(d_start, lo, side="right") - 1
    both = (si >= 0) & (di >= 0)
    both[both] &= (lo[both] < s_end[si[both]]) & (lo[both] < d_end[di[both]])
    si, di, w = si[both], di[both], length[both].astype(np.float32)
    np.add.at(out, di, w[:, None] * values[si])
    weight = np.bincount(di, weights=w, minlength=len(dst))
    hit = weight > 0
    out[hit] /= weight[hit, None]
    near = np.clip(np.searchsorted(s_start, d_start[~hit], side="right") - 1, 0, len(src) - 1)
    out[~hit] = values[near]
    return out

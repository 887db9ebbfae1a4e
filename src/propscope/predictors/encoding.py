"""Encoders: article texts -> ``Encoded`` outputs (word pieces with their BIO and technique
probabilities and encoder states), before any decoding into spans.

An ``Encoder`` owns how a text is read: its windows, readings and batching. Caching is
explicit: ``CachedEncoder`` wraps any encoder with an ``EncodingCache`` the caller may
build (say, holding a corpus encoded once, for tuning and scoring from the same outputs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from .. import alignment
from ..span_features import pool_states, softmax, surface_features
from ..spans import Span

#: (input_ids [B, T], attention_mask [B, T]) -> (BIO logits [B, T, 3], states [B, T, H]) and,
#: for models with a per-token technique head, technique logits [B, T, techniques]
Runner = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]


@dataclass
class Encoded:
    """One article's word pieces with their BIO probabilities and encoder states."""

    text: str
    offsets: list[tuple[int, int]]
    probs: np.ndarray  # (tokens, 3)
    hidden: np.ndarray  # (tokens, H), float16 to halve the memory of long articles
    tech: np.ndarray | None = None  # (tokens, techniques): sigmoid of the technique head

    def span_vectors(self, spans: Sequence[Span]) -> np.ndarray:
        lower = self.text.lower()
        index = alignment.TokenIndex(self.offsets)
        rows = []
        for s in spans:
            i, j = index.range(s.start, s.end)
            if j <= i:  # a span between tokens (e.g. white space): use the nearest token
                i = min(i, len(self.offsets) - 1)
                j = i + 1
            rows.append(np.concatenate([pool_states(self.hidden, i, j),
                                        surface_features(self.text, s.start, s.end, lower)]))
        return np.stack(rows).astype(np.float32)


class Encoder(Protocol):
    """Texts -> one ``Encoded`` each, in order. ``readings``: the window layouts each text
    is read through; ``with_readings`` gives the same encoder reading ``n`` times."""

    readings: int

    def encode(self, texts: Sequence[str]) -> list[Encoded]: ...

    def with_readings(self, n: int) -> Encoder: ...


class WordPieces:
    """A ``tokenizers`` tokenizer used without special tokens, truncation or padding."""

    def __init__(self, tokenizer_json: str) -> None:
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(tokenizer_json)
        self.tok.no_truncation()
        self.tok.no_padding()
        def first_id(*names: str) -> int:
            found = [self.tok.token_to_id(n) for n in names]
            return next(i for i in found + [0] if i is not None)

        self.cls_id = first_id("<s>", "[CLS]")  # BERT-style or RoBERTa/MPNet-style vocabularies
        self.sep_id = first_id("</s>", "[SEP]")
        self.pad_id = first_id("<pad>", "[PAD]")
        # the marker span classifier's two markers: unused ids of a BERT vocabulary, or
        # two tokens that never occur in text of a RoBERTa/MPNet one
        self.marker_ids = (first_id("[unused0]", "<unk>"), first_id("[unused1]", "<mask>"))

    def ids(self, text: str) -> list[int]:
        """The word-piece ids of ``text`` (as ``__call__``, without the offsets)."""
        return self(text)[0]

    def marked(self, text: str, start: int, end: int) -> tuple[list[int], int, int]:
        """``alignment.marked_input`` with this vocabulary's markers."""
        return alignment.marked_input(self.ids, text, start, end,
                                      (*self.marker_ids, self.cls_id, self.sep_id))

    def __call__(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tok.encode(text, add_special_tokens=False)
        ids, offsets = enc.ids, enc.offsets  # properties that build a new list on each access
        keep = [k for k, (s, e) in enumerate(offsets) if e > s]
        return [ids[k] for k in keep], [offsets[k] for k in keep]


@dataclass
class WindowEncoder:
    """One transformer encoder (``runner``) read through windows of ``window`` tokens (two
    of them special) every ``stride`` tokens.

    Each token takes its outputs from the window where it is most central; with
    ``readings`` > 1 the text is also read through windows whose edges fall elsewhere, and
    each token's outputs are averaged over those readings.

    ``batch_size``: windows per encoder call. 1 by default: INT8 encoders scale their
    activations per call (dynamic quantisation), so windows run together would change each
    other's outputs, and an article's spans would depend on what else was sent with it. On
    this CPU one window per call is as fast (BENCHMARKS.md). Static INT8 encoders (fixed
    activation scales, manifest ``quantization``) are read several windows per call, the
    windows sorted by length.
    """

    pieces: WordPieces
    runner: Runner
    window: int = 256
    stride: int = 192
    readings: int = 1
    batch_size: int = 1

    def with_readings(self, n: int) -> WindowEncoder:
        return replace(self, readings=n)

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Run every window of every text in batches and stitch the outputs per text. Each
        batch's rows are written straight into per-text arrays (states as float16), so
        memory grows with the texts' length, not with the number of windows."""
        tokenized = [self.pieces(t) for t in texts]
        grids = [alignment.window_grids(len(ids), self.window - 2, self.stride, self.readings)
                 if ids else [] for ids, _ in tokenized]
        owners = [[alignment.owner_window(g, len(ids)) for g in gs]
                  for gs, (ids, _) in zip(grids, tokenized, strict=True)]
        jobs = [(k, r, w, lo, hi) for k, gs in enumerate(grids) for r, g in enumerate(gs)
                for w, (lo, hi) in enumerate(g)]
        if self.batch_size > 1:  # windows of like length together: little padding
            jobs.sort(key=lambda job: job[4] - job[3])
        stitched: list[list[np.ndarray] | None] = [None] * len(texts)
        for b in range(0, len(jobs), self.batch_size):
            batch = jobs[b : b + self.batch_size]
            per_token = self._run([tokenized[k][0][lo:hi] for k, *_, lo, hi in batch])
            states = per_token[1]
            for row_k, (k, r, w, lo, hi) in enumerate(batch):
                n, single = len(tokenized[k][0]), len(grids[k]) == 1
                if stitched[k] is None:
                    stitched[k] = [np.zeros((n, a.shape[-1]), dtype=np.float16
                                            if a is states and single else np.float32)
                                   for a in per_token]
                sel = np.nonzero(owners[k][r][lo:hi] == w)[0]
                for dst, src in zip(stitched[k], per_token, strict=True):
                    dst[lo + sel] += src[row_k, 1 + sel]
        result = []
        for k, text in enumerate(texts):
            arrays = stitched[k] or [np.zeros((0, 3), np.float32), np.zeros((0, 1), np.float16)]
            if len(grids[k]) > 1:
                arrays = [a / len(grids[k]) for a in arrays]
                arrays[1] = arrays[1].astype(np.float16)
            result.append(Encoded(text, tokenized[k][1], *arrays))
        return result

    def _run(self, rows: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """One encoder call on these windows' word pieces: BIO probabilities, states and
        (for models with a technique head) technique probabilities, per row and token."""
        width = max(len(r) for r in rows) + 2
        ids = np.full((len(rows), width), self.pieces.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for row_k, pieces in enumerate(rows):
            row = [self.pieces.cls_id, *pieces, self.pieces.sep_id]
            ids[row_k, : len(row)] = row
            mask[row_k, : len(row)] = 1
        logits, states, *rest = self.runner(ids, mask)
        per_token = [softmax(logits.astype(np.float32)), states]
        if rest:
            per_token.append(1.0 / (1.0 + np.exp(-rest[0].astype(np.float32))))
        return per_token


class EncodingCache:
    """Encodings by text. Threads may share one: its mapping is only ever added to or
    replaced whole. With a ``limit``, fresh encodings that would take it past the limit
    replace what it held; ``EncodingCache(encodings, limit=None)`` holds a fixed set (say,
    a corpus encoded once) and keeps what else is encoded beside it."""

    def __init__(self, encodings: Iterable[Encoded] = (), limit: int | None = 64) -> None:
        self.limit = limit
        self._held: dict[str, Encoded] = {e.text: e for e in encodings}

    def through(self, texts: Sequence[str],
                encode: Callable[[Sequence[str]], list[Encoded]]) -> list[Encoded]:
        """Each text's encoding, from the cache or else from ``encode`` (once per distinct
        text not held), which is then held."""
        old = self._held
        todo = list(dict.fromkeys(t for t in texts if t not in old))
        fresh = dict(zip(todo, encode(todo), strict=True)) if todo else {}
        result = [fresh[t] if t in fresh else old[t] for t in texts]
        if fresh:
            keep = self.limit is None or len(old) + len(fresh) <= self.limit
            self._held = {**(old if keep else {}), **fresh}
        return result


@dataclass
class CachedEncoder:
    """An encoder with a cache in front: classify after predict on the same text is free."""

    inner: Encoder
    cache: EncodingCache

    @property
    def readings(self) -> int:
        return self.inner.readings

    def with_readings(self, n: int) -> CachedEncoder:
        return CachedEncoder(self.inner.with_readings(n), EncodingCache(limit=self.cache.limit))

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        return self.cache.through(texts, self.inner.encode)


def uncached(encoder: Encoder) -> Encoder:
    """``encoder`` without the cache in front of it, if it has one."""
    return encoder.inner if isinstance(encoder, CachedEncoder) else encoder


def window_encoders(encoder: Encoder) -> list[WindowEncoder]:
    """The transformer encoders ``encoder`` reads with: itself, or an ensemble's members."""
    if isinstance(encoder, CachedEncoder):
        return window_encoders(encoder.inner)
    if isinstance(encoder, WindowEncoder):
        return [encoder]
    return [w for m in getattr(encoder, "members", ()) for w in window_encoders(m)]

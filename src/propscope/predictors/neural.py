"""The neural predictor: word pieces -> encoder windows -> BIO tags and span techniques.

The encoder itself is a ``Runner`` (ONNX Runtime for users, torch while training), so the
same decoding code serves training-time evaluation and the shipped model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import alignment
from ..config import DecodeConfig
from ..context import ContextClassifier, token_means
from ..reader import ReaderConfig
from ..span_features import SpanHead, pool_states, softmax, surface_features
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

    def __call__(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tok.encode(text, add_special_tokens=False)
        ids, offsets = enc.ids, enc.offsets  # properties that build a new list on each access
        keep = [k for k, (s, e) in enumerate(offsets) if e > s]
        return [ids[k] for k in keep], [offsets[k] for k in keep]


class NeuralPredictor:
    def __init__(
        self,
        pieces: WordPieces,
        runner: Runner,
        head: SpanHead,
        techniques: Sequence[str],
        decode: DecodeConfig,
        info: dict[str, Any],
        batch_size: int = 1,
    ) -> None:
        self.pieces = pieces
        self.runner = runner
        self.head = head
        self.techniques = tuple(techniques)
        self.decode = decode
        self.info = info
        self.name = str(info.get("name", "model"))
        # Windows per encoder call. 1 by default: INT8 encoders scale their activations per
        # call (dynamic quantisation), so windows run together would change each other's
        # outputs, and an article's spans would depend on what else was sent with it. On
        # this CPU one window per call is as fast (BENCHMARKS.md).
        self.batch_size = batch_size
        self._cache: dict[str, Encoded] = {}  # recent encodings: classify after predict is free
        # the second stage: spans named again with the other spans of their article in view
        self.context: ContextClassifier | None = None
        # whether it also names the BIO spans predict finds (it was fitted on gold span sets;
        # in cross-validation it lifts TC and leaves FLC flat or slightly lower, so: no)
        self.context_in_predict = False
        # the reader operating point (its decoding, calibration and threshold)
        self.reader = ReaderConfig()

    # -- encoding -------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        # Threads may share this predictor: the cache is only ever added to or replaced whole.
        old = self._cache
        todo = list(dict.fromkeys(t for t in texts if t not in old))
        fresh = dict(zip(todo, self._encode(todo), strict=True)) if todo else {}
        result = [fresh[t] if t in fresh else old[t] for t in texts]
        if fresh:
            cache = old if len(old) + len(fresh) <= 64 else {}
            self._cache = {**cache, **fresh}
        return result

    def remember(self, encs: Sequence[Encoded]) -> None:
        """Hold these encodings (say a corpus encoded once for tuning, then scored) until
        text not among them is encoded."""
        self._cache = {e.text: e for e in encs}

    def _encode(self, texts: Sequence[str], readings: int | None = None) -> list[Encoded]:
        """Run every window of every text in batches and stitch the outputs per text.

        Each token takes its outputs from the window where it is most central; with
        ``readings`` (default ``decode.readings``) > 1 the text is also read through windows
        whose edges fall elsewhere, and each token's outputs are averaged over those
        readings. Each batch's rows are written straight into per-text arrays (states as
        float16), so memory grows with the texts' length, not with the number of windows.
        """
        size, stride = self.decode.window - 2, self.decode.stride
        readings = readings or self.decode.readings
        tokenized = [self.pieces(t) for t in texts]
        grids = [alignment.window_grids(len(ids), size, stride, readings)
                 if ids else [] for ids, _ in tokenized]
        owners = [[alignment.owner_window(g, len(ids)) for g in gs]
                  for gs, (ids, _) in zip(grids, tokenized, strict=True)]
        jobs = [(k, r, w, lo, hi) for k, gs in enumerate(grids) for r, g in enumerate(gs)
                for w, (lo, hi) in enumerate(g)]
        stitched: list[list[np.ndarray] | None] = [None] * len(texts)
        for b in range(0, len(jobs), self.batch_size):
            batch = jobs[b : b + self.batch_size]
            width = max(hi - lo for *_, lo, hi in batch) + 2
            ids = np.full((len(batch), width), self.pieces.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row_k, (k, *_, lo, hi) in enumerate(batch):
                row = [self.pieces.cls_id, *tokenized[k][0][lo:hi], self.pieces.sep_id]
                ids[row_k, : len(row)] = row
                mask[row_k, : len(row)] = 1
            logits, states, *rest = self.runner(ids, mask)
            per_token = [softmax(logits.astype(np.float32)), states]
            if rest:
                per_token.append(1.0 / (1.0 + np.exp(-rest[0].astype(np.float32))))
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

    # -- the protocol -----------------------------------------------------------------------
    def technique_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        if not spans or not enc.offsets:
            return np.zeros((len(spans), len(self.techniques)), dtype=np.float32)
        return self.head.probs(enc.span_vectors(spans))

    def named_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        """Technique probabilities of an article's distinct ``spans``: the span classifier's,
        read again by the second stage (``context``) with all of ``spans`` in view."""
        base = self.technique_probs(enc, spans)
        if self.context is None or not spans or not enc.offsets:
            return base
        return self.context.probs(enc.text, spans, base,
                                  token_means(enc.offsets, enc.tech, spans))

    def decode_for(self, mode: str = "benchmark") -> DecodeConfig:
        """The decoding of an operating point: ``benchmark`` (tuned for the SemEval
        measures) or ``reader`` (the benchmark's with the reader's overrides)."""
        if mode == "reader" and self.reader.decode:
            return replace(self.decode, **self.reader.decode)
        return self.decode

    def spans_from(self, enc: Encoded, decode: DecodeConfig | None = None) -> list[Span]:
        d = decode or self.decode
        if not enc.offsets:
            return []
        if enc.tech is None or d.labeller == "span_head":
            return self.labelled_spans(enc, d)
        if d.labeller == "token_head":
            return self.technique_spans(enc, d)
        # "union": technique-head spans and the classifier-named BIO spans, where spans of
        # one technique that overlap become one (their union, best score): the SemEval
        # measures merge them the same way, so this only removes duplicates for readers
        by_tech: dict[str | None, list[Span]] = {}
        for s in self.technique_spans(enc, d) + self.labelled_spans(enc, d):
            by_tech.setdefault(s.technique, []).append(s)
        out = []
        for tech, group in by_tech.items():
            for a, b in alignment.merge_ranges(group):
                best = max(s.score for s in group if a <= s.start and s.end <= b)
                out.append(Span(a, b, tech, best))
        return sorted(out)

    def technique_spans(self, enc: Encoded, decode: DecodeConfig | None = None) -> list[Span]:
        """Spans per technique from the per-token technique head."""
        d = decode or self.decode
        out = []
        for t, name in enumerate(self.techniques):
            for s, e, p in alignment.decode_runs(enc.text, enc.offsets, enc.tech[:, t],
                                                 d.technique_threshold, d.min_chars,
                                                 d.technique_extend, d.max_gap):
                out.append(Span(s, e, name, p))
        return out

    def labelled_spans(self, enc: Encoded, decode: DecodeConfig | None = None) -> list[Span]:
        """BIO spans, each named by the span classifier (a second name when nearly as likely)."""
        d = decode or self.decode
        found = alignment.decode_runs(enc.text, enc.offsets, alignment.in_span(enc.probs),
                                      d.span_threshold, d.min_chars, d.extend_threshold,
                                      d.max_gap)
        if not found:
            return []
        plain = [Span(s, e) for s, e, _ in found]
        probs = (self.named_probs(enc, plain) if self.context_in_predict
                 else self.technique_probs(enc, plain))
        out = []
        for (s, e, p_span), row in zip(found, probs, strict=True):
            order = np.argsort(-row)
            first, second = order[0], order[1]
            out.append(Span(s, e, self.techniques[first], p_span * float(row[first])))
            if row[second] >= d.second_label_ratio * row[first]:
                out.append(Span(s, e, self.techniques[second], p_span * float(row[second])))
        return out

    def predict(self, texts: Sequence[str], mode: str = "benchmark") -> list[list[Span]]:
        decode = self.decode_for(mode)
        return [self.spans_from(enc, decode) for enc in self.encode(texts)]

    def classify(self, text: str, spans: Sequence[Span]) -> list[list[tuple[str, float]]]:
        if not spans:
            return []
        probs = self.named_probs(self.encode([text])[0], spans)
        out = []
        for row in probs:
            order = np.argsort(-row)
            out.append([(self.techniques[i], float(row[i])) for i in order])
        return out

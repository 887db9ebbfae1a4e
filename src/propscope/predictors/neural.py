"""The neural predictor: an encoder (texts -> ``Encoded``) and decoding (``Encoded`` ->
spans) with a span classifier and, optionally, a second stage that names spans with the
other spans of their article in view.

The encoder's transformer is a ``Runner`` (ONNX Runtime for users, torch while training),
so the same decoding code serves training-time evaluation and the shipped model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..config import DecodeConfig
from ..context import ContextClassifier, token_means
from ..reader import ReaderConfig
from ..span_features import SpanHead
from ..spans import Span
from .decoding import Namer, decode, head_namer
from .encoding import (
    CachedEncoder,
    Encoded,
    Encoder,
    EncodingCache,
    Runner,
    WindowEncoder,
    WordPieces,
    uncached,
)
from .marker import MarkerClassifier, combine

# Encoded stays importable from here: pickled encodings (runs/*/oof.pkl) name this module
__all__ = ["Encoded", "NeuralPredictor", "Runner", "WordPieces", "neural_predictor"]


class NeuralPredictor:
    def __init__(self, encoder: Encoder, namer: Namer, decode: DecodeConfig,
                 info: dict[str, Any]) -> None:
        self.encoder = encoder
        self.namer = namer  # the span classifier
        self.techniques = namer.techniques
        self.decode = decode
        self.info = info
        self.name = str(info.get("name", "model"))
        # the second stage: spans named again with the other spans of their article in view
        self.context: ContextClassifier | None = None
        # whether it also names the BIO spans predict finds (it was fitted on gold span sets;
        # in cross-validation it lifts TC and leaves FLC flat or slightly lower, so: no)
        self.context_in_predict = False
        # the marker span classifier, a second reader of the techniques of given spans
        # (classify), and whether it also names the BIO spans predict finds
        self.marker: MarkerClassifier | None = None
        self.marker_in_predict = False
        # the reader operating point (its decoding, calibration and threshold)
        self.reader = ReaderConfig()

    def with_decode(self, decode: DecodeConfig) -> NeuralPredictor:
        """This predictor decoding with ``decode`` (reading texts ``decode.readings`` times)."""
        other = copy.copy(self)
        other.decode = decode
        if decode.readings != self.encoder.readings:
            other.encoder = self.encoder.with_readings(decode.readings)
        return other

    def with_context(self, context: ContextClassifier | None, in_predict: bool = False
                     ) -> NeuralPredictor:
        """This predictor with ``context`` as its second stage (None: none), also naming the
        spans predict finds when ``in_predict``."""
        other = copy.copy(self)
        other.context, other.context_in_predict = context, in_predict
        return other

    def with_marker(self, marker: MarkerClassifier | None) -> NeuralPredictor:
        """This predictor with ``marker`` as its marker span classifier (None: none)."""
        other = copy.copy(self)
        other.marker = marker
        return other

    def with_encoder(self, encoder: Encoder) -> NeuralPredictor:
        """This predictor reading texts with ``encoder`` (say, one with a cache holding a
        corpus's encodings)."""
        other = copy.copy(self)
        other.encoder = encoder
        return other

    def holding(self, encodings: Iterable[Encoded] = ()) -> NeuralPredictor:
        """This predictor with a fresh cache holding ``encodings`` (say, a corpus encoded
        once for tuning, then scored from the same outputs), until more new text is encoded
        than the cache keeps."""
        return self.with_encoder(CachedEncoder(uncached(self.encoder), EncodingCache(encodings)))

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        return self.encoder.encode(texts)

    # -- naming spans -----------------------------------------------------------------------
    def technique_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        return self.namer.probs(enc, spans)

    def classifier_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        """The span classifier's probabilities, joined with the marker span classifier's
        where the model has one."""
        base = self.technique_probs(enc, spans)
        if self.marker is None or not spans:
            return base
        return combine(base, self.marker.probs(enc.text, spans))

    def named_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        """Technique probabilities of an article's distinct ``spans``: the span classifiers',
        read again by the second stage (``context``) with all of ``spans`` in view."""
        base = self.classifier_probs(enc, spans)
        if self.context is None or not spans or not enc.offsets:
            return base
        return self.context.probs(enc.text, spans, base,
                                  token_means(enc.offsets, enc.tech, spans))

    def span_head(self) -> Namer:
        """What names the BIO spans ``predict`` finds: the span classifier, joined with the
        marker classifier with ``marker_in_predict``, read again by the second stage with
        ``context_in_predict``."""
        if self.context_in_predict:
            return Namer(self.techniques, self.named_probs)
        return Namer(self.techniques, self.classifier_probs if self.marker_in_predict
                     else self.technique_probs)

    # -- decoding ---------------------------------------------------------------------------
    def decode_for(self, mode: str = "benchmark") -> DecodeConfig:
        """The decoding of an operating point: ``benchmark`` (tuned for the SemEval
        measures) or ``reader`` (the benchmark's with the reader's overrides)."""
        if mode == "reader" and self.reader.decode:
            return replace(self.decode, **self.reader.decode)
        return self.decode

    def spans_from(self, enc: Encoded, decode_config: DecodeConfig | None = None
                   ) -> list[Span]:
        """``decode`` of one encoding with this predictor's head (and its decoding, unless
        another is given)."""
        return decode(enc, decode_config or self.decode, self.span_head())

    # -- the protocol -----------------------------------------------------------------------
    def predict(self, texts: Sequence[str], mode: str = "benchmark") -> list[list[Span]]:
        config, head = self.decode_for(mode), self.span_head()
        return [decode(enc, config, head) for enc in self.encoder.encode(texts)]

    def classify(self, text: str, spans: Sequence[Span]) -> list[list[tuple[str, float]]]:
        if not spans:
            return []
        probs = self.named_probs(self.encoder.encode([text])[0], spans)
        out = []
        for row in probs:
            order = np.argsort(-row)
            out.append([(self.techniques[i], float(row[i])) for i in order])
        return out


def neural_predictor(pieces: WordPieces, runner: Runner, head: SpanHead,
                     techniques: Sequence[str], decode: DecodeConfig, info: dict[str, Any],
                     batch_size: int = 1) -> NeuralPredictor:
    """One model as a predictor: its encoder read through ``decode``'s windows and readings,
    with a cache of recent encodings (classify after predict is free), and its span head."""
    encoder = WindowEncoder(pieces, runner, decode.window, decode.stride, decode.readings,
                            batch_size)
    return NeuralPredictor(CachedEncoder(encoder, EncodingCache()),
                           head_namer(head, techniques), decode, info)

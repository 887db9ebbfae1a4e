"""The marker span classifier: a second reader of each span's technique.

Each span is read inside its line, between two marker tokens (``[CLS] left [open] span
[close] right [SEP]``, ``alignment.marked_input``), by a small encoder fine-tuned for
naming techniques alone: the input of the winning SemEval-2020 TC systems. Its span
vector is the CLS state, the open marker's state and the mean of the span's tokens; a
linear layer names it. ``combine`` joins its probabilities with the tagger's span head.

One span per encoder call, so that a span's probabilities never depend on what else is
classified with it (dynamic INT8 scales are per call).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..span_features import softmax
from ..spans import Span
from .encoding import Runner, WordPieces


def pool(states: np.ndarray, open_at: int, close_at: int) -> np.ndarray:
    """The span vector of one marked input's states (tokens, H): CLS, open marker, mean of
    the tokens between the markers (zeros when there are none)."""
    inside = states[open_at + 1 : close_at]
    mean = inside.mean(axis=0) if len(inside) else np.zeros(states.shape[1], states.dtype)
    return np.concatenate([states[0], states[open_at], mean])


class MarkerClassifier:
    def __init__(self, pieces: WordPieces, runner: Runner, weights: np.ndarray,
                 bias: np.ndarray, techniques: Sequence[str]) -> None:
        self.pieces, self.runner = pieces, runner
        self.weights, self.bias = weights.astype(np.float32), bias.astype(np.float32)
        self.techniques = tuple(techniques)

    def probs(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        """Technique probabilities (spans, techniques) of ``spans`` of ``text``."""
        if not spans:
            return np.zeros((0, len(self.techniques)), np.float32)
        logits = []
        for s in spans:  # each span alone, down to the head (BLAS sums differ by batch size)
            ids, open_at, close_at = self.pieces.marked(text, s.start, s.end)
            batch = np.array([ids], dtype=np.int64)
            states = self.runner(batch, np.ones_like(batch))[0][0]
            logits.append(self.weights @ pool(states.astype(np.float32), open_at, close_at)
                          + self.bias)
        return softmax(np.stack(logits))


def combine(tagger: np.ndarray, marker: np.ndarray) -> np.ndarray:
    """The two classifiers as one: the normalised geometric mean of their probabilities
    (what the second stage reads as its encoder probabilities)."""
    g = np.sqrt(np.clip(tagger, 1e-6, 1.0) * np.clip(marker, 1e-6, 1.0))
    return (g / g.sum(axis=1, keepdims=True)).astype(np.float32)

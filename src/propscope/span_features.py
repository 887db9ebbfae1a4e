"""Span representation shared by training (torch) and inference (numpy).

A span is represented by its encoder states (mean, first token, last token) plus a few
honest surface features; ``surface_features`` is the single definition of the latter.
"""

from __future__ import annotations

import math

import numpy as np

N_SURFACE = 6
_QUOTES = "\"“”«»'‘’"


def surface_features(text: str, start: int, end: int, lower_text: str | None = None) -> np.ndarray:
    """Features of span ``[start, end)`` that the encoder window cannot see on its own.

    0: log of how often the span's words occur elsewhere in the article (Repetition)
    1, 2: log length in characters and in words
    3: share of its line the span covers
    4: span is quoted or contains a quote mark; 5: contains '!' or '?'
    """
    lower = lower_text if lower_text is not None else text.lower()
    s = text[start:end]
    norm = " ".join(s.lower().split())
    repeats = max(lower.count(norm) - 1, 0) if len(norm) >= 3 else 0
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_len = (len(text) if line_end < 0 else line_end) - line_start
    quoted = any(q in s for q in _QUOTES) or (start > 0 and text[start - 1] in _QUOTES)
    return np.array(
        [
            math.log1p(repeats),
            math.log1p(len(s)) / 5.0,
            math.log1p(len(s.split())) / 3.0,
            min(1.0, len(s) / max(1, line_len)),
            float(quoted),
            float("!" in s or "?" in s),
        ],
        dtype=np.float32,
    )


def softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def pool_states(hidden: np.ndarray, i: int, j: int) -> np.ndarray:
    """Mean, first and last encoder state of tokens ``[i, j)`` (j > i)."""
    return np.concatenate([hidden[i:j].mean(axis=0), hidden[i], hidden[j - 1]])


class SpanHead:
    """The technique classifier over a span vector: Linear -> GELU(tanh) -> Linear."""

    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> None:
        self.w1, self.b1, self.w2, self.b2 = (a.astype(np.float32) for a in (w1, b1, w2, b2))

    def probs(self, vectors: np.ndarray) -> np.ndarray:
        h = gelu_tanh(vectors @ self.w1.T + self.b1)
        return softmax(h @ self.w2.T + self.b2)

    @classmethod
    def load(cls, path: str) -> SpanHead:
        with np.load(path) as z:
            return cls(z["w1"], z["b1"], z["w2"], z["b2"])

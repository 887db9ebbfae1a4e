"""The second stage of technique classification: a span read with the other spans of its
article.

The encoder names a span from its own window. The published systems also use the set of
spans an article has: a phrase marked three times is Repetition, a span that opens with
``#`` is a Slogan, a span nested inside another tends to carry another technique, and a
phrase seen in training with a label is evidence for that label. ``span_set_features``
computes those features for every span of one article; ``ContextClassifier`` (multinomial
logistic regression, numpy only) turns them, with the encoder's technique probabilities,
into new ones. It is fitted on out-of-fold predictions (``training/context_fit.py``) and
stored in the model folder as ``context.npz`` with the training lexicon.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from . import alignment
from .span_features import softmax
from .spans import Span
from .words import span_key, words

#: lexicon: span key -> label counts (one per technique, in the model's order)
Lexicon = Mapping[str, Sequence[float]]

#: names of the span-set features, in order (after the 2 x techniques probability blocks)
SET_FEATURES = (
    "same_key_1", "same_key_2", "same_key_3plus", "log_same_key",
    "log_key_in_text", "one_word", "log_words", "hashtag", "nested", "contains",
    "quoted", "exclaim", "caps_share", "lexicon_seen",
)


def build_lexicon(rows: Iterable[tuple[str, Span]], techniques: Sequence[str]) -> dict:
    """Label counts per span key over labelled rows ``(article text, span)``."""
    index = {t: k for k, t in enumerate(techniques)}
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(techniques))
    for text, s in rows:
        if s.technique in index:
            counts[span_key(text[s.start : s.end])][index[s.technique]] += 1
    return dict(counts)


def _key_in_text(text_keys: list[str], key: str) -> int:
    """How often the sequence of ``key``'s words occurs in the article's key words."""
    parts = key.split()
    if not parts:
        return 0
    n = len(parts)
    return sum(text_keys[i : i + n] == parts for i in range(len(text_keys) - n + 1))


def span_set_features(text: str, spans: Sequence[Span], lexicon: Lexicon,
                      n_techniques: int) -> np.ndarray:
    """(spans, len(SET_FEATURES) + techniques) features of each span given all of them.

    ``spans`` are the article's distinct spans (ranges); the last block is the log of the
    training lexicon's label counts for the span's key.
    """
    keys = [span_key(text[s.start : s.end]) for s in spans]
    same = Counter(keys)
    text_keys = span_key(text).split()
    out = np.zeros((len(spans), len(SET_FEATURES) + n_techniques), dtype=np.float32)
    for k, (s, key) in enumerate(zip(spans, keys, strict=True)):
        body = text[s.start : s.end]
        n = same[key]
        ws = words(body)
        letters = [c for c in body if c.isalpha()]
        others = [o for o in spans if (o.start, o.end) != (s.start, s.end)]
        nested = any(o.start <= s.start and s.end <= o.end for o in others)
        contains = any(s.start <= o.start and o.end <= s.end for o in others)
        lex = lexicon.get(key)
        before = text[s.start - 1] if s.start > 0 else ""
        out[k, : len(SET_FEATURES)] = [
            n == 1, n == 2, n >= 3, np.log1p(n - 1),
            np.log1p(_key_in_text(text_keys, key)), len(ws) <= 1, np.log1p(len(ws)),
            body.lstrip().startswith("#"), nested, contains,
            any(q in body or q == before for q in "\"“”«»"), "!" in body or "?" in body,
            sum(c.isupper() for c in letters) / max(1, len(letters)), lex is not None,
        ]
        if lex is not None:
            out[k, len(SET_FEATURES):] = np.log1p(np.asarray(lex, dtype=np.float32))
    return out


def token_means(offsets: alignment.Offsets, tech: np.ndarray | None, spans: Sequence[Span]
                ) -> np.ndarray | None:
    """Mean per-token technique probability over each span's tokens (None without a
    per-token technique head)."""
    if tech is None:
        return None
    index = alignment.TokenIndex(offsets)
    out = np.zeros((len(spans), tech.shape[1]), dtype=np.float32)
    for k, s in enumerate(spans):
        i, j = index.range(s.start, s.end)
        if j > i:
            out[k] = tech[i:j].mean(axis=0)
    return out


def feature_matrix(base: np.ndarray, token: np.ndarray | None, set_feats: np.ndarray
                   ) -> np.ndarray:
    """The classifier's input: log of the encoder's span-classifier probabilities, the mean
    per-token technique probabilities over the span (zeros without a technique head) and
    the span-set features."""
    token = token if token is not None else np.zeros_like(base)
    return np.concatenate([np.log(np.clip(base, 1e-4, 1.0)), token, set_feats], axis=1
                          ).astype(np.float32)


class ContextClassifier:
    """Softmax over techniques of standardised features: ``softmax(((x - mu) / sd) W^T + b)``."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, mean: np.ndarray,
                 scale: np.ndarray, lexicon: Lexicon) -> None:
        self.weights, self.bias = weights.astype(np.float32), bias.astype(np.float32)
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)
        self.lexicon = lexicon

    @property
    def n_techniques(self) -> int:
        return int(self.bias.shape[0])

    def probs_from_features(self, x: np.ndarray) -> np.ndarray:
        return softmax(((x - self.mean) / self.scale) @ self.weights.T + self.bias)

    def probs(self, text: str, spans: Sequence[Span], base: np.ndarray,
              token: np.ndarray | None) -> np.ndarray:
        """Technique probabilities of each of an article's distinct ``spans``."""
        if not len(spans):
            return base
        feats = span_set_features(text, spans, self.lexicon, self.n_techniques)
        return self.probs_from_features(feature_matrix(base, token, feats))

    def save(self, folder: Path) -> None:
        np.savez_compressed(folder / "context.npz", weights=self.weights, bias=self.bias,
                            mean=self.mean, scale=self.scale,
                            lexicon=np.frombuffer(json.dumps(self.lexicon).encode(), np.uint8))

    @classmethod
    def load(cls, path: Path) -> ContextClassifier:
        with np.load(path) as z:
            lexicon = json.loads(z["lexicon"].tobytes().decode())
            return cls(z["weights"], z["bias"], z["mean"], z["scale"], lexicon)

"""Decoding: one article's ``Encoded`` outputs -> spans with techniques, for a given
``DecodeConfig``. Pure functions: the same encodings decode the same way under any number
of candidate configurations (tuning), with nothing cached or changed in between."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import alignment
from ..config import DecodeConfig
from ..span_features import SpanHead
from ..spans import Span
from .encoding import Encoded

#: technique probabilities (spans, techniques) of an article's spans, from its encoding
SpanProbs = Callable[[Encoded, Sequence[Span]], np.ndarray]


@dataclass(frozen=True)
class Namer:
    """What names the techniques of spans: the techniques in order, and their probabilities
    for given spans of an encoded article."""

    techniques: tuple[str, ...]
    probs: SpanProbs


def head_namer(head: SpanHead, techniques: Sequence[str]) -> Namer:
    """The span classifier of one model as a ``Namer``."""
    names = tuple(techniques)

    def probs(enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        if not spans or not enc.offsets:
            return np.zeros((len(spans), len(names)), dtype=np.float32)
        return head.probs(enc.span_vectors(spans))

    return Namer(names, probs)


def decode(enc: Encoded, config: DecodeConfig, head: Namer) -> list[Span]:
    """The spans of one article: BIO spans named by ``head``, spans per technique from the
    per-token technique head, or both (``config.labeller``); those scoring at least
    ``config.min_score``."""
    if not enc.offsets:
        return []
    if enc.tech is None or config.labeller == "span_head":
        found = labelled_spans(enc, config, head)
    elif config.labeller == "token_head":
        found = technique_spans(enc, config, head.techniques)
    else:
        found = union(technique_spans(enc, config, head.techniques)
                      + labelled_spans(enc, config, head))
    return [s for s in found if s.score >= config.min_score]


def union(spans: Sequence[Span]) -> list[Span]:
    """Technique-head spans and classifier-named BIO spans together, where spans of one
    technique that overlap become one (their union, best score): the SemEval measures
    merge them the same way, so this only removes duplicates for readers."""
    by_tech: dict[str | None, list[Span]] = {}
    for s in spans:
        by_tech.setdefault(s.technique, []).append(s)
    out = []
    for tech, group in by_tech.items():
        for a, b in alignment.merge_ranges(group):
            best = max(s.score for s in group if a <= s.start and s.end <= b)
            out.append(Span(a, b, tech, best))
    return sorted(out)


def bio_runs(enc: Encoded, config: DecodeConfig) -> list[tuple[int, int, float]]:
    """``(start, end, p_span)`` of the spans the BIO probabilities mark, without techniques."""
    return alignment.decode_runs(enc.text, enc.offsets, alignment.in_span(enc.probs),
                                 config.span_threshold, config.min_chars,
                                 config.extend_threshold, config.max_gap)


def technique_spans(enc: Encoded, config: DecodeConfig,
                    techniques: Sequence[str]) -> list[Span]:
    """Spans per technique from the per-token technique head."""
    assert enc.tech is not None
    out = []
    for t, name in enumerate(techniques):
        for s, e, p in alignment.decode_runs(enc.text, enc.offsets, enc.tech[:, t],
                                             config.technique_threshold, config.min_chars,
                                             config.technique_extend, config.max_gap):
            out.append(Span(s, e, name, p))
    return out


def labelled_spans(enc: Encoded, config: DecodeConfig, head: Namer) -> list[Span]:
    """BIO spans, each named by ``head`` (a second name when nearly as likely)."""
    found = bio_runs(enc, config)
    if not found:
        return []
    probs = head.probs(enc, [Span(s, e) for s, e, _ in found])
    out = []
    for (s, e, p_span), row in zip(found, probs, strict=True):
        order = np.argsort(-row)
        first, second = order[0], order[1]
        out.append(Span(s, e, head.techniques[first], p_span * float(row[first])))
        if row[second] >= config.second_label_ratio * row[first]:
            out.append(Span(s, e, head.techniques[second], p_span * float(row[second])))
    return out

"""Several neural models as one predictor: their token probabilities and span classifiers
averaged (each model reads the text with its own tokenizer; the first model's word pieces
are the grid the averaged probabilities are decoded on)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import alignment
from ..config import DecodeConfig
from ..spans import Span
from .neural import Encoded, NeuralPredictor


@dataclass
class EnsembleEncoded(Encoded):
    """The averaged probabilities on the first model's tokens, with each model's encoding."""

    members: list[Encoded] = field(default_factory=list)


class EnsemblePredictor(NeuralPredictor):
    def __init__(self, members: Sequence[NeuralPredictor], decode: DecodeConfig,
                 info: dict[str, Any]) -> None:
        first = members[0]
        if any(m.techniques != first.techniques for m in members):
            raise ValueError("ensemble members must name the same techniques in the same order")
        super().__init__(first.pieces, first.runner, first.head, first.techniques, decode, info)
        self.members = list(members)

    def _encode(self, texts: Sequence[str], readings: int | None = None) -> list[Encoded]:
        # the ensemble's number of readings applies to every member
        readings = readings or self.decode.readings
        per_model = [m._encode(texts, readings) for m in self.members]
        out: list[Encoded] = []
        for k, text in enumerate(texts):
            encs = [encoded[k] for encoded in per_model]
            probs = _mean_on_grid([e.probs for e in encs], [e.offsets for e in encs])
            tech = _mean_on_grid([e.tech for e in encs], [e.offsets for e in encs])
            out.append(EnsembleEncoded(text, encs[0].offsets, probs, encs[0].hidden, tech,
                                       members=encs))
        return out

    def technique_probs(self, enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        if not isinstance(enc, EnsembleEncoded):
            raise TypeError("an ensemble classifies spans on its own encodings")
        return np.mean([m.technique_probs(e, spans)
                        for m, e in zip(self.members, enc.members, strict=True)], axis=0)


def _mean_on_grid(arrays: Sequence[np.ndarray | None], offsets: Sequence) -> np.ndarray | None:
    """Mean of per-token arrays, each projected onto the first model's tokens; members
    without such an output (e.g. no technique head) are left out, None if none has one."""
    grid = offsets[0]
    have = [a if k == 0 else alignment.project(o, a, grid)
            for k, (o, a) in enumerate(zip(offsets, arrays, strict=True)) if a is not None]
    return np.mean(have, axis=0) if have else None

"""Several neural models as one: an encoder that averages its members' token probabilities
(each member reads the text with its own tokenizer; the first member's word pieces are the
grid the averaged probabilities are decoded on), and a namer that averages their span
classifiers, each on its own member's encoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import alignment
from ..config import DecodeConfig
from ..spans import Span
from .decoding import Namer
from .encoding import CachedEncoder, Encoded, Encoder, EncodingCache, uncached
from .neural import NeuralPredictor


@dataclass
class EnsembleEncoded(Encoded):
    """The averaged probabilities on the first model's tokens, with each model's encoding."""

    members: list[Encoded] = field(default_factory=list)


@dataclass
class EnsembleEncoder:
    """Encodes with every member (each reading the text ``readings`` times) and averages."""

    members: list[Encoder]

    @property
    def readings(self) -> int:
        return self.members[0].readings

    def with_readings(self, n: int) -> EnsembleEncoder:
        return EnsembleEncoder([m.with_readings(n) for m in self.members])

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        per_model = [m.encode(texts) for m in self.members]
        out: list[Encoded] = []
        for k, text in enumerate(texts):
            encs = [encoded[k] for encoded in per_model]
            probs = _mean_on_grid([e.probs for e in encs], [e.offsets for e in encs])
            tech = _mean_on_grid([e.tech for e in encs], [e.offsets for e in encs])
            out.append(EnsembleEncoded(text, encs[0].offsets, probs, encs[0].hidden, tech,
                                       members=encs))
        return out


def ensemble_namer(members: Sequence[Namer]) -> Namer:
    """The mean of the members' span classifiers, each on its own member's encoding."""
    first = members[0]
    if any(m.techniques != first.techniques for m in members):
        raise ValueError("ensemble members must name the same techniques in the same order")

    def probs(enc: Encoded, spans: Sequence[Span]) -> np.ndarray:
        if not isinstance(enc, EnsembleEncoded):
            raise TypeError("an ensemble classifies spans on its own encodings")
        return np.mean([m.probs(e, spans)
                        for m, e in zip(members, enc.members, strict=True)], axis=0)

    return Namer(first.techniques, probs)


class EnsemblePredictor(NeuralPredictor):
    """A ``NeuralPredictor`` over its members' encoders and span classifiers (the members'
    own decoding, caches and second stages are not used)."""

    def __init__(self, members: Sequence[NeuralPredictor], decode: DecodeConfig,
                 info: dict[str, Any]) -> None:
        # the ensemble's number of readings applies to every member
        encoders = [uncached(m.encoder).with_readings(decode.readings) for m in members]
        super().__init__(CachedEncoder(EnsembleEncoder(encoders), EncodingCache()),
                         ensemble_namer([m.namer for m in members]), decode, info)
        self.members = list(members)


def _mean_on_grid(arrays: Sequence[np.ndarray | None], offsets: Sequence) -> np.ndarray | None:
    """Mean of per-token arrays, each projected onto the first model's tokens; members
    without such an output (e.g. no technique head) are left out, None if none has one."""
    grid = offsets[0]
    have = [a if k == 0 else alignment.project(o, a, grid)
            for k, (o, a) in enumerate(zip(offsets, arrays, strict=True)) if a is not None]
    return np.mean(have, axis=0) if have else None

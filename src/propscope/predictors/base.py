"""The predictor protocol every model (and the test predictor) follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..reader import ReaderConfig
from ..spans import Span


@runtime_checkable
class Predictor(Protocol):
    """``predict`` finds spans with techniques; ``classify`` names techniques of given spans."""

    name: str
    info: dict[str, Any]
    reader: ReaderConfig  # the reader operating point (calibration, threshold, decoding)

    def predict(self, texts: Sequence[str], mode: str = "benchmark") -> list[list[Span]]:
        """Spans (with technique and score) for each text, decoded for ``mode``
        (``benchmark`` or ``reader``; the reader view itself is ``reader.reader_spans``)."""
        ...

    def classify(self, text: str, spans: Sequence[Span]) -> list[list[tuple[str, float]]]:
        """For each span, every technique with its probability, most likely first."""
        ...

"""The predictor protocol every model (and the test predictor) follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..spans import Span


@runtime_checkable
class Predictor(Protocol):
    """``predict`` finds spans with techniques; ``classify`` names techniques of given spans."""

    name: str
    info: dict[str, Any]

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans (with technique and score) for each text."""
        ...

    def classify(self, text: str, spans: Sequence[Span]) -> list[list[tuple[str, float]]]:
        """For each span, every technique with its probability, most likely first."""
        ...

"""Scoring a predictor on a corpus split with all four SemEval measures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import metrics
from .core import classify_spans, iter_spans
from .corpus import Corpus
from .files import write_text_whole
from .manifest import update_manifest
from .predictors.base import Predictor
from .spans import Span


@dataclass
class Evaluation:
    scores: dict[str, metrics.Score]
    predicted: dict[str, list[Span]]
    classified: dict[str, list[Span]]

    def summary(self) -> dict[str, Any]:
        return {k: round(v.overall.f1, 6) for k, v in self.scores.items()}

    def to_dict(self) -> dict[str, Any]:
        return {k: v.to_dict() for k, v in self.scores.items()}


def score_predictions(corpus: Corpus, predicted: dict[str, list[Span]],
                      classified: dict[str, list[Span]]) -> dict[str, metrics.Score]:
    texts = {aid: a.text for aid, a in corpus.articles.items()}
    return {
        "si": metrics.si_score(predicted, corpus.gold),
        "tc": metrics.tc_score(classified, corpus.gold),
        "flc": metrics.flc_score(predicted, corpus.gold),
        "slc": metrics.slc_score(predicted, corpus.gold, texts),
    }


def evaluate_predictor(
    predictor: Predictor,
    corpus: Corpus,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 8,
) -> Evaluation:
    """The benchmark spans ``predict`` finds and the techniques ``classify`` gives the gold
    spans, scored; each article is classified right after its batch is predicted."""
    predicted: dict[str, list[Span]] = {}
    classified: dict[str, list[Span]] = {}
    arts = list(corpus.articles.values())
    for art, spans in iter_spans(arts, predictor, "benchmark", batch=batch):
        predicted[art.id] = spans
        classified[art.id] = classify_spans(predictor, art.text, corpus.gold.get(art.id, []))
        if progress:
            progress(len(predicted), len(arts))
    return Evaluation(score_predictions(corpus, predicted, classified), predicted, classified)


def record_scores(folder: Path, ev: Evaluation, log: Callable[[str], Any] = print
                  ) -> dict[str, Any]:
    """Record a model's valid evaluation in its folder (the manifest's ``metrics_valid`` and
    ``metrics_valid.json``); returns the F1 figures."""
    figures = {k: round(v.overall.f1, 6) for k, v in ev.scores.items()}
    update_manifest(folder, metrics_valid=figures)
    write_text_whole(folder / "metrics_valid.json", json.dumps(ev.to_dict(), indent=2) + "\n")
    log(f"exported model valid: {figures}")
    return figures

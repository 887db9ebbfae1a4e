"""``propscope predict ARTICLES_DIR --out FILE``: spans with techniques, in the corpus TSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import iter_spans
from ..corpus import format_labels, read_articles
from ..progress import Progress
from ..spans import Span
from .common import add_model_argument, check_output, write_output

NAME = "predict"
HELP = "write ID<TAB>TECHNIQUE<TAB>START<TAB>END for every span found in article<ID>.txt files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("articles", metavar="ARTICLES_DIR",
                   help="folder of article<ID>.txt files (PTC layout)")
    p.add_argument("--out", "-o", required=True,
                   help="labels file to write (PTC TSV: id, technique, start, end)")
    p.add_argument("--threshold", type=float, default=0.0,
                   help="leave out spans scoring below this (default: 0, all)")
    add_model_argument(p)


def predict_folder(folder: Path, model: str | None = None, threshold: float = 0.0,
                   batch: int = 8) -> list[tuple[str, Span]]:
    """The benchmark spans of every article in ``folder`` from ``threshold`` up, in order."""
    from ..model_io import load_model

    predictor = load_model(model)
    articles = list(read_articles(folder).values())
    bar = Progress("predict")
    rows: list[tuple[str, Span]] = []
    for k, (art, spans) in enumerate(iter_spans(articles, predictor, "benchmark", threshold,
                                                batch=batch)):
        rows += [(art.id, s) for s in sorted(spans)]
        bar(k + 1, len(articles))
    return rows


def run(args: argparse.Namespace) -> int:
    check_output(args.out, [args.articles])
    rows = predict_folder(Path(args.articles), args.model, args.threshold)
    write_output(format_labels(rows), args.out)
    return 0

"""``propscope predict ARTICLES_DIR --out FILE``: spans with techniques, in the corpus TSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..corpus import format_labels, read_articles
from ..progress import Progress
from ..spans import Span
from .common import add_model_argument, write_output

NAME = "predict"
HELP = "write ID<TAB>TECHNIQUE<TAB>START<TAB>END for every span found in article<ID>.txt files"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("articles", metavar="ARTICLES_DIR")
    p.add_argument("--out", "-o", required=True)
    p.add_argument("--threshold", type=float, default=0.0)
    add_model_argument(p)


def predict_folder(folder: Path, model: str | None = None, threshold: float = 0.0,
                   batch: int = 8) -> list[tuple[str, Span]]:
    from ..model_io import load_model

    predictor = load_model(model)
    articles = read_articles(folder)
    ids = list(articles)
    bar = Progress("predict")
    rows: list[tuple[str, Span]] = []
    for k in range(0, len(ids), batch):
        chunk = ids[k : k + batch]
        for aid, spans in zip(chunk, predictor.predict([articles[a].text for a in chunk]),
                              strict=True):
            rows += [(aid, s) for s in sorted(spans) if s.score >= threshold]
        bar(min(k + batch, len(ids)), len(ids))
    return rows


def run(args: argparse.Namespace) -> int:
    rows = predict_folder(Path(args.articles), args.model, args.threshold)
    write_output(format_labels(rows), args.out)
    return 0

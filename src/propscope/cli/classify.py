"""``propscope classify ARTICLES_DIR SPANS_FILE --out FILE``: name the technique of given spans."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core import classify_spans
from ..corpus import check_labels, format_labels, parse_labels, read_articles, read_text_file
from ..progress import Progress
from ..spans import Span
from .common import add_model_argument, check_output, write_output

NAME = "classify"
HELP = "fill in the technique column of a SemEval TC file (ID<TAB>?<TAB>START<TAB>END)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("articles", metavar="ARTICLES_DIR",
                   help="folder of article<ID>.txt files (PTC layout)")
    p.add_argument("spans", metavar="SPANS_FILE",
                   help="PTC TSV of spans to name (id, start, end; a technique column is "
                   "ignored)")
    p.add_argument("--out", "-o", required=True,
                   help="labels file to write (PTC TSV: id, technique, start, end)")
    add_model_argument(p)


def classify_file(folder: Path, spans_file: Path, model: str | None = None
                  ) -> list[tuple[str, Span]]:
    """Rows in the file's order, each with its predicted technique."""
    from ..model_io import load_model

    text = read_text_file(spans_file, allow_empty=True)
    order: list[tuple[str, int]] = []  # (article id, index within that article's rows)
    seen: dict[str, int] = {}
    for line in text.splitlines():
        if line.strip():
            aid = line.split("\t")[0].strip()
            order.append((aid, seen.get(aid, 0)))
            seen[aid] = seen.get(aid, 0) + 1
    labels = parse_labels(text, where=str(spans_file))
    articles = read_articles(folder, list(labels))
    check_labels(labels, articles, where=str(spans_file))
    predictor = load_model(model)
    bar = Progress("classify")
    named: dict[str, list[Span]] = {}
    for k, aid in enumerate(labels):
        named[aid] = classify_spans(predictor, articles[aid].text, labels[aid])
        bar(k + 1, len(labels))
    return [(aid, named[aid][i]) for aid, i in order]


def run(args: argparse.Namespace) -> int:
    check_output(args.out, [args.articles, args.spans])
    rows = classify_file(Path(args.articles), Path(args.spans), args.model)
    write_output(format_labels(rows), args.out)
    return 0

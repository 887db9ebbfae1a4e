"""``propscope report DIR``: compare outlets from a batch folder (HTML or JSON).

Written to a file, the HTML report gets a folder beside it (``NAME_articles/``) with a
highlighted page for each article listed in its table. An earlier report's pages there are
replaced; a folder of that name holding other files is refused before any work.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .common import at_least, check_output, write_output

NAME = "report"
HELP = "aggregate a `propscope batch` folder by outlet and month (self-contained HTML or JSON)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="the --out folder of `propscope batch`")
    p.add_argument("--out", "-o", help="write here instead of standard output (HTML: "
                   "with a highlighted page per listed article in NAME_articles/ beside it)")
    p.add_argument("--format", choices=("html", "json"), default=None,
                   help="html (default) or json: the same aggregates as data")
    p.add_argument("--top", type=at_least(0), default=10, help="phrases listed per technique")
    p.add_argument("--articles", type=at_least(0), default=200,
                   help="articles listed in the per-article table, most flagged first "
                   "(default 200)")


def pages_folder(out: str) -> Path:
    """Where the article pages of a report written to ``out`` go."""
    path = Path(out)
    return path.with_name(f"{path.stem}_articles")


def run(args: argparse.Namespace) -> int:
    from ..batch.report import article_views, build_report
    from ..batch.report_html import check_pages_folder, render_report_html, write_article_pages

    # the outputs are checked before the work: a folder as --out, or a pages folder holding
    # other files, is refused with nothing written
    check_output(args.out, [args.folder], folder_reads=("run.json", "*.parquet"))
    fmt = args.format or ("json" if (args.out or "").endswith(".json") else "html")
    if fmt == "html" and args.out and args.out != "-":
        check_pages_folder(pages_folder(args.out))
    data = build_report(args.folder, top=args.top, articles=args.articles)
    if fmt == "json":
        text = json.dumps(data, indent=2, default=str) + "\n"
    else:
        links = {}
        if args.out and args.out != "-":
            views = article_views(args.folder, [a["id"] for a in data["articles"]],
                                  data["model"] or {})
            links = write_article_pages(views, pages_folder(args.out), Path(args.out).name)
        text = render_report_html(data, links)
    write_output(text, args.out)
    return 0

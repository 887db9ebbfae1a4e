"""``propscope report DIR``: compare outlets from a batch folder (HTML or JSON)."""

from __future__ import annotations

import argparse
import json

from .common import at_least, write_output

NAME = "report"
HELP = "aggregate a `propscope batch` folder by outlet and month (self-contained HTML or JSON)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="the --out folder of `propscope batch`")
    p.add_argument("--out", "-o", help="write here instead of standard output")
    p.add_argument("--format", choices=("html", "json"), default=None,
                   help="html (default) or json: the same aggregates as data")
    p.add_argument("--top", type=at_least(0), default=10, help="phrases listed per technique")


def run(args: argparse.Namespace) -> int:
    from ..batch.report import build_report, render_report_html

    fmt = args.format or ("json" if (args.out or "").endswith(".json") else "html")
    data = build_report(args.folder, top=args.top)
    if fmt == "json":
        text = json.dumps(data, indent=2, default=str) + "\n"
    else:
        text = render_report_html(data)
    write_output(text, args.out)
    return 0

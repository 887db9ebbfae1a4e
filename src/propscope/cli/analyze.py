"""``propscope analyze PATH...``: highlight propaganda spans in articles."""

from __future__ import annotations

import argparse
import sys

from .. import config
from ..core import Result, analyze
from ..errors import InputError, PropscopeError
from ..inputs import iter_inputs
from ..render.html import render_html
from ..render.tabular import render_json, render_jsonl, render_ptc
from ..render.terminal import render_text
from ..techniques import parse_technique_list
from .common import add_model_argument, write_output

NAME = "analyze"
HELP = "find propaganda techniques in articles (.txt, .html, .jsonl, folders, or - for stdin)"
FORMATS = ("text", "json", "jsonl", "ptc", "html")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=FORMATS,
                   help="output format (default: text on a terminal, else json)")
    p.add_argument("--out", "-o", help="write here instead of standard output")
    p.add_argument("--threshold", type=float, default=config.DEFAULT_THRESHOLD,
                   help="drop spans whose confidence is below this (0..1)")
    p.add_argument("--techniques",
                   help="only these techniques, separated by ';' (see `propscope techniques`)")
    p.add_argument("--max-bytes", type=int, default=config.MAX_INPUT_BYTES,
                   help="refuse inputs this large or larger")
    p.add_argument("--no-colour", action="store_true", help="plain text output")
    add_model_argument(p)


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold must be between 0 and 1, got {args.threshold}")
    try:
        wanted = parse_technique_list(args.techniques)
    except ValueError as e:
        raise InputError(str(e), where="--techniques") from None
    from ..model_io import load_model

    predictor = load_model(args.model)
    fmt = args.format or ("text" if sys.stdout.isatty() and not args.out else "json")
    items: list[Result | PropscopeError] = []
    failed = 0
    for item in iter_inputs(args.paths, args.max_bytes):
        if isinstance(item, PropscopeError):
            print(f"propscope: error: {item}", file=sys.stderr)
            failed += 1
            if fmt in ("json", "jsonl"):
                items.append(item)
            continue
        items.append(analyze(item, predictor=predictor, threshold=args.threshold,
                             techniques=wanted))
    results = [r for r in items if isinstance(r, Result)]
    if fmt == "text":
        colour = not args.no_colour and not args.out and sys.stdout.isatty()
        text = "".join(render_text(r, colour=colour) for r in results)
    elif fmt == "json":
        text = render_json(items) if items else "[]\n"
    elif fmt == "jsonl":
        text = render_jsonl(items)
    elif fmt == "ptc":
        text = render_ptc(results)
    else:
        text = render_html(results)
    if results or fmt in ("json", "jsonl"):
        write_output(text, args.out)
    return 1 if failed else 0

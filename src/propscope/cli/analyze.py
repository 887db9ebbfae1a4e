"""``propscope analyze PATH...``: highlight propaganda spans in articles."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from .. import config, fetch
from ..core import Result, analyze
from ..errors import InputError, PropscopeError, unexpected
from ..fetch import fetch_article, looks_like_url
from ..ids import IdRegistry, check_tsv_id, text_digest
from ..inputs import Item, Located, iter_located
from ..predictors import Predictor
from ..progress import Progress
from ..render.html import render_html
from ..render.tabular import render_json, render_jsonl, render_ptc
from ..render.terminal import render_text
from ..spans import Article
from .common import (
    add_duplicate_argument,
    add_mode_arguments,
    add_model_argument,
    at_least,
    check_output,
    technique_list,
    write_output,
)

NAME = "analyze"
HELP = ("find propaganda techniques in articles (.txt, .html, .jsonl, folders, http(s) URLs, "
        "or - for stdin)")
FORMATS = ("text", "json", "jsonl", "ptc", "html")
#: More articles than this show progress on stderr even when it is not a terminal.
PROGRESS_ABOVE = 5


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a file, a folder, - for standard input, or an http(s) URL (the page "
                   "is fetched; its title, date and site become the article's metadata)")
    p.add_argument("--format", choices=FORMATS,
                   help="output format (default: text on a terminal, else json)")
    p.add_argument("--out", "-o", help="write here instead of standard output")
    add_mode_arguments(p)
    p.add_argument("--techniques", type=technique_list,
                   help="only these techniques, separated by ';' (see `propscope techniques`)")
    p.add_argument("--max-bytes", type=at_least(1), default=config.MAX_INPUT_BYTES,
                   help="refuse inputs this large or larger")
    p.add_argument("--no-colour", action="store_true", help="plain text output")
    p.add_argument("--allow-private", action="store_true",
                   help="let URLs reach private, loopback and link-local addresses (refused "
                   "by default)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress on stderr (shown for several articles on a terminal, "
                   f"and for more than {PROGRESS_ABOVE} articles anywhere)")
    add_duplicate_argument(p)
    add_model_argument(p)


def run(args: argparse.Namespace) -> int:
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold must be between 0 and 1, got {args.threshold}")
    check_output(args.out, args.paths)
    from ..model_io import load_model

    predictor = load_model(args.model)
    fmt = args.format or ("text" if sys.stdout.isatty() and not args.out else "json")
    registry = IdRegistry(args.on_duplicate)
    items: list[Result | PropscopeError] = []
    failed = 0
    located = list(locate(args.paths, args.max_bytes, args.allow_private))
    progress = None if args.quiet else progress_for(len(located))
    for k, (where, item) in enumerate(located):
        if progress:
            progress(k, len(located))
        admitted = _admit(where, item, registry, fmt)
        if admitted is None:
            continue
        outcome = (admitted if isinstance(admitted, PropscopeError) else
                   _analyse(admitted, where, predictor, args.threshold, args.techniques,
                            args.mode))
        if isinstance(outcome, PropscopeError):
            print(f"propscope: error: {outcome}", file=sys.stderr)
            failed += 1
            if fmt not in ("json", "jsonl"):
                continue
        items.append(outcome)
    if progress:
        progress(len(located), len(located), f"{failed} errors")
    if registry.identical:
        print(f"propscope: {registry.identical} identical repeats (same id and text) left out",
              file=sys.stderr)
    _write(items, fmt, args)
    return 1 if failed else 0


def locate(paths: list[str], max_bytes: int, allow_private: bool) -> Iterator[Located]:
    """``iter_located`` with http(s) URLs among the paths fetched (in the order given)."""
    for p in paths:
        if not looks_like_url(p):
            yield from iter_located([p], max_bytes)
            continue
        try:
            yield p, fetch_article(p, allow_private=allow_private,
                                   max_bytes=min(max_bytes, fetch.MAX_BYTES))
        except PropscopeError as e:
            yield p, e


def progress_for(n: int) -> Progress | None:
    """Progress on stderr for ``n`` articles: on a terminal when there are several, and
    anywhere when there are more than a few (a log then shows the run is moving)."""
    if n > PROGRESS_ABOVE or (n > 1 and sys.stderr.isatty()):
        return Progress("analyze")
    return None


def _admit(where: str, item: Item, registry: IdRegistry, fmt: str
           ) -> Article | PropscopeError | None:
    """The article to analyse (renamed if need be), its error, or None to leave it out."""
    if isinstance(item, PropscopeError):
        return item
    adm = registry.admit(item.id, where, text_digest(item.text))
    if adm.action == "error":
        return adm.error
    if adm.action in ("rename", "skip"):
        print(f"propscope: warning: {adm.error}", file=sys.stderr)
    if adm.action not in ("keep", "rename"):
        return None
    item.id = adm.id
    if fmt == "ptc":
        try:
            check_tsv_id(item.id, where=where)
        except InputError as e:
            return e
    return item


def _analyse(art: Article, where: str, predictor: Predictor, threshold: float | None,
             techniques: list[str] | None, mode: str) -> Result | PropscopeError:
    """One article's result, or its failure as its error: one never stops the others."""
    try:
        result = analyze(art, predictor=predictor, threshold=threshold, techniques=techniques,
                         mode=mode)
    except PropscopeError as e:
        return e
    except Exception as e:
        return unexpected(e, "analysis failed", where, art.id)
    assert isinstance(result, Result)
    return result


def _write(items: list[Result | PropscopeError], fmt: str, args: argparse.Namespace) -> None:
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
    if not results and args.out and args.out != "-":
        # only errors (a typo in an input path, say): an earlier --out file, perhaps good
        # results, is not replaced by a file of error records
        print(f"propscope: no article analysed: nothing written to {args.out}",
              file=sys.stderr)
        return
    if results or fmt in ("json", "jsonl"):
        write_output(text, args.out)

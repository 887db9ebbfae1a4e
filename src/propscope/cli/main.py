"""``propscope`` entry point: parse, dispatch, turn PropscopeErrors into one-line messages."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import config
from ..errors import PropscopeError
from . import (
    analyze,
    batch,
    classify,
    ensemble,
    evaluate,
    export,
    import_cmd,
    models,
    predict,
    report,
    serve,
    techniques,
    train,
)
from .common import ArgumentParser

COMMANDS = (analyze, predict, classify, evaluate, train, ensemble, techniques, models, batch,
            report, serve, export, import_cmd)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = ArgumentParser(
        prog="propscope", description="Find and explain propaganda techniques in news articles.")
    parser.add_argument("--version", action="version", version=f"propscope {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def os_error_line(e: OSError) -> str:
    """``PATH: No such file or directory`` (both paths for a rename or copy)."""
    reason = e.strerror or (str(e).splitlines() or [""])[0] or type(e).__name__
    paths = [str(p) for p in (e.filename, e.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion where argcomplete is installed (``pip install argcomplete``, then
    ``eval "$(register-python-argcomplete propscope)"``); nothing otherwise."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    _complete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a usage error (one line, already printed), --help, --version
        return e.code if isinstance(e.code, int) else 2
    try:
        return int(args.run(args) or 0)
    except PropscopeError as e:
        print(f"propscope: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("propscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # a path that cannot be read or written: the user's to fix
        print(f"propscope: error: {os_error_line(e)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("propscope: error: out of memory", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: one line for users, the traceback on request
        if config.debug():
            raise
        print(f"propscope: internal error: {type(e).__name__}: {e} "
              "(set PROPSCOPE_DEBUG=1 for the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

"""``propscope batch INPUT... --out DIR``: analyse a corpus into Parquet tables, resumably."""

from __future__ import annotations

import argparse
import sys

from .. import config
from ..progress import Progress
from .common import (
    add_duplicate_argument,
    add_mode_arguments,
    add_model_argument,
    at_least,
    technique_list,
)

NAME = "batch"
HELP = ("analyse a corpus (folders, globs, JSONL, CSV, Parquet) into Parquet tables; "
        "re-run to resume")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="folders of .txt/.html, .jsonl, .csv or .parquet files, or globs")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="output folder (articles/, spans/, run.json); the same DIR resumes")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: worker processes on this machine; dask: a Dask cluster "
                   "(default: local)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: one per CPU; 0 = in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address for --engine dask, e.g. tcp://host:8786")
    add_mode_arguments(p)
    p.add_argument("--techniques", type=technique_list,
                   help="only these techniques, separated by ';' (see `propscope techniques`)")
    p.add_argument("--part-size", type=int, default=None,
                   help="articles per part file (the most an interruption can lose per "
                   "worker; default: at most 16, and about 4 parts per worker)")
    p.add_argument("--max-bytes", type=at_least(1), default=config.MAX_INPUT_BYTES,
                   help="articles this large or larger become error rows")
    p.add_argument("--source", help="outlet name for articles that carry none "
                   "(default for files: their folder's name)")
    p.add_argument("--outlet-from", type=outlet_from, metavar="folder|domain|field:NAME",
                   help="where each article's outlet comes from: the folder holding its file, "
                   "the domain of its url, or its record's field NAME (default: its source "
                   "field, else --source, else a file's folder name)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_duplicate_argument(p)
    add_model_argument(p)


def outlet_from(value: str) -> str:
    """argparse type of ``--outlet-from``."""
    from ..batch.outlets import CHOICES, parse_outlet_from
    from ..errors import InputError

    try:
        return parse_outlet_from(value) or value
    except InputError:
        raise argparse.ArgumentTypeError(f"must be {CHOICES}, got {value!r}") from None


def run(args: argparse.Namespace) -> int:
    from ..batch import run_batch, summary_line

    progress = None if args.quiet else Progress("batch")
    result = run_batch(args.inputs, args.out, model=args.model, engine=args.engine,
                       workers=args.workers, scheduler=args.scheduler,
                       threshold=args.threshold, mode=args.mode, techniques=args.techniques,
                       part_size=args.part_size, max_bytes=args.max_bytes, source=args.source,
                       outlet_from=args.outlet_from,
                       on_duplicate=args.on_duplicate, progress=progress)
    for failure in result["failures"]:
        print(f"propscope: warning: {failure}", file=sys.stderr)
    print(summary_line(result), file=sys.stderr)
    return 0 if result["status"] == "complete" else 1

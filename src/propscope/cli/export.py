"""``propscope export label-studio INPUT... --out tasks.json``: articles analysed, as Label
Studio tasks with the model's spans as predictions (and its labelling config)."""

from __future__ import annotations

import argparse
import json
import sys

from .. import config
from ..core import Result, analyze
from ..errors import InputError, PropscopeError
from ..labelstudio import labeling_config, tasks
from .analyze import locate
from .common import (
    add_mode_arguments,
    add_model_argument,
    at_least,
    check_output,
    check_two_outputs,
    technique_list,
    write_output,
)

NAME = "export"
HELP = "write analysed articles for an annotation tool (label-studio: tasks with predictions)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=("label-studio",), help="the tool: label-studio")
    p.add_argument("paths", nargs="+", metavar="INPUT",
                   help="files, folders, .jsonl, http(s) URLs or - (as for analyze)")
    p.add_argument("--out", "-o", required=True,
                   help="the tasks file to write (JSON: import it into a project)")
    p.add_argument("--config", metavar="XML",
                   help="also write the labelling config (the 14 techniques, with colours "
                   "and definitions) for the project's Labeling Interface")
    add_mode_arguments(p)
    p.add_argument("--techniques", type=technique_list,
                   help="only these techniques, separated by ';'")
    p.add_argument("--max-bytes", type=at_least(1), default=config.MAX_INPUT_BYTES,
                   help="refuse inputs this large or larger")
    p.add_argument("--allow-private", action="store_true",
                   help="let URLs reach private and loopback addresses (refused by default)")
    add_model_argument(p)


def run(args: argparse.Namespace) -> int:
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise InputError(f"--threshold must be between 0 and 1, got {args.threshold}")
    check_output(args.out, args.paths)
    check_output(args.config, args.paths)
    check_two_outputs(args.out, args.config, "--config")
    from ..model_io import load_model

    predictor = load_model(args.model)
    results: list[Result] = []
    failed = 0
    for _, item in locate(args.paths, args.max_bytes, args.allow_private):
        try:
            if isinstance(item, PropscopeError):
                raise item
            found = analyze(item, predictor=predictor, threshold=args.threshold,
                            techniques=args.techniques, mode=args.mode, targets=False)
        except PropscopeError as e:
            print(f"propscope: error: {e}", file=sys.stderr)
            failed += 1
            continue
        assert isinstance(found, Result)
        results.append(found)
    if not results:
        raise InputError("no article could be analysed, so no tasks were written")
    out = tasks(results)
    write_output(json.dumps(out, ensure_ascii=False, indent=1) + "\n", args.out)
    if args.config:
        write_output(labeling_config(), args.config)
    spans = sum(len(t["predictions"][0]["result"]) for t in out)
    print(f"propscope: {len(out)} tasks, {spans} predicted spans", file=sys.stderr)
    return 1 if failed else 0

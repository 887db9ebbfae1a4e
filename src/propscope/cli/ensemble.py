"""``propscope ensemble MODEL MODEL... --out DIR``: average trained models into one."""

from __future__ import annotations

import argparse
import json
import sys

from .. import config
from ..errors import PropscopeError

NAME = "ensemble"
HELP = ("combine trained model folders into one model that averages them, its decoding "
        "tuned on valid (needs propscope[train])")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="+", help="model folders (the first one's tokens are the grid)")
    p.add_argument("--out", required=True, help="ensemble folder to write")
    p.add_argument("--data", default=str(config.DEFAULT_DATA_DIR), help="PTC folder")
    p.add_argument("--readings", type=int, default=1,
                   help="read each article through this many window layouts (edges shifted) "
                        "and average; 2 costs about 1.5-2x the encoder time")


def run(args: argparse.Namespace) -> int:
    try:
        from ..training.ensemble import build_ensemble
    except ImportError as e:
        raise PropscopeError(f"building an ensemble needs the train extra ({e.name} is "
                             "missing): pip install 'propscope[train]'") from None
    if args.readings < 1:
        raise PropscopeError("--readings must be 1 or more")
    result = build_ensemble(args.models, args.out, args.data,
                            log=lambda m: print(m, file=sys.stderr), readings=args.readings)
    print(json.dumps(result, indent=2))
    return 0

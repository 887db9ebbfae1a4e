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


def run(args: argparse.Namespace) -> int:
    try:
        from ..training.ensemble import build_ensemble
    except ImportError as e:
        raise PropscopeError(f"building an ensemble needs the train extra ({e.name} is "
                             "missing): pip install 'propscope[train]'") from None
    result = build_ensemble(args.models, args.out, args.data,
                            log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(result, indent=2))
    return 0

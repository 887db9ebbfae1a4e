"""``propscope train --data DIR --out models/NAME``: train and export a model folder."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from .. import config
from ..errors import PropscopeError

NAME = "train"
HELP = "train the span tagger and technique classifier on the corpus (needs propscope[train])"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=str(config.DEFAULT_DATA_DIR), help="PTC folder")
    p.add_argument("--out", required=True, help="model folder to write (resumes if present)")
    defaults = config.TrainConfig()
    for f in fields(config.TrainConfig):
        value = getattr(defaults, f.name)
        flag, text = f"--{f.name.replace('_', '-')}", config.TRAIN_HELP.get(f.name)
        if text:
            text += f" (default: {value})"
        if isinstance(value, bool):
            p.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"),
                           default=value, metavar="BOOL", help=text)
        elif isinstance(value, int | float | str) or value is None:
            kind = type(value) if value is not None else int
            p.add_argument(flag, type=kind, default=value, help=text)
    p.add_argument("--soft-targets", default="", metavar="FILE",
                   help="distil: train a student on a teacher's soft targets (built with "
                        "python -m propscope.training.distil targets)")
    p.add_argument("--gold-mix", type=float, default=0.5,
                   help="with --soft-targets: weight of the gold labels in the train "
                        "articles' targets (default: 0.5)")
    p.add_argument("--init-from", default="", metavar="FILE",
                   help="with --soft-targets: start from a student's weights (best.pt)")


def run(args: argparse.Namespace) -> int:
    try:
        from ..training.loop import train
    except ImportError as e:
        raise PropscopeError(f"training needs the train extra ({e.name} is missing): "
                             "pip install torch==2.13.0 && pip install 'propscope[train]'"
                             ) from None
    cfg = config.TrainConfig(**{f.name: getattr(args, f.name) for f in fields(config.TrainConfig)
                                if hasattr(args, f.name)})
    if getattr(args, "soft_targets", ""):
        from ..training.distil import train_student

        result = train_student(args.data, args.out, cfg, args.soft_targets, args.gold_mix,
                               log=lambda m: print(m, file=sys.stderr),
                               init_from=args.init_from or None)
    else:
        result = train(args.data, args.out, cfg, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(result, indent=2))
    return 0

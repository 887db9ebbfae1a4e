"""``propscope techniques``: the 14 techniques with a definition and an example."""

from __future__ import annotations

import argparse
import json

from ..techniques import TECHNIQUE_LIST

NAME = "techniques"
HELP = "list the 14 propaganda techniques with definitions and examples"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([t.to_dict() for t in TECHNIQUE_LIST], indent=2))
        return 0
    for t in TECHNIQUE_LIST:
        print(f"{t.name}\n  {t.definition}\n  e.g. \"{t.example}\"")
    return 0

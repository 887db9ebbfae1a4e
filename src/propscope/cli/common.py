"""Small helpers shared by the command files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import output_error


def write_output(text: str, out: str | None) -> None:
    if out and out != "-":
        try:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(text, encoding="utf-8")
        except OSError as e:
            raise output_error(out, e) from None
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def add_model_argument(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--model", help="path of a trained model folder (default: the shipped "
                       "model); also a profile name")
    group.add_argument("--profile", dest="model", choices=("fast", "accurate"),
                       help="fast: the shipped MiniLM ensemble (default); accurate: a larger "
                       "model built locally (see README)")

"""Small helpers shared by the command files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .. import config
from ..errors import output_error
from ..ids import DEFAULT_POLICY, POLICIES
from ..reader import MODES
from ..techniques import parse_technique_list


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


class ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def at_least(low: int) -> Callable[[str], int]:
    """argparse type: a whole number of at least ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def non_empty(text: str) -> str:
    """argparse type: any text but an empty one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def technique_list(text: str) -> list[str]:
    """argparse type for ``--techniques``: names separated by ';', at least one."""
    try:
        names = parse_technique_list(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not names:
        raise argparse.ArgumentTypeError("names no technique (leave --techniques out for all)")
    return names


def add_model_argument(p: argparse.ArgumentParser) -> None:
    from ..config import PROFILES  # the one list of profile names

    group = p.add_mutually_exclusive_group()
    group.add_argument("--model", type=non_empty, help="path of a trained model folder "
                       "(default: the shipped model), a profile name, or the name of an "
                       "installed model package (`propscope models` lists them)")
    group.add_argument("--profile", dest="model", choices=tuple(PROFILES),
                       help="fast: the shipped MiniLM ensemble (default); accurate: the "
                       "accurate model package (`make install-accurate`) or the folder "
                       "`make accurate` builds (see README)")


def add_duplicate_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--on-duplicate", choices=POLICIES, default=DEFAULT_POLICY,
                   help="an id repeated with other text: error (default: an error naming "
                   "both sources), rename (ID~2, ...) or skip; identical repeats are left out "
                   "and counted")


def add_mode_arguments(p: argparse.ArgumentParser) -> None:
    """``--threshold`` and ``--mode``: the operating point of commands that call analyze."""
    p.add_argument("--threshold", type=float, default=config.DEFAULT_THRESHOLD,
                   help="drop spans whose confidence is below this (0..1; default: the "
                   "model's reader threshold in reader mode, none in benchmark mode)")
    p.add_argument("--mode", choices=MODES, default=config.DEFAULT_MODE,
                   help="reader: calibrated, precise spans for people (default); benchmark: "
                   "the spans the SemEval measures are tuned for")

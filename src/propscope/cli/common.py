"""Small helpers shared by the command files."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path
from typing import NoReturn

from .. import config
from ..errors import OutputError, output_error
from ..files import write_text_whole
from ..ids import DEFAULT_POLICY, POLICIES
from ..reader import MODES
from ..techniques import parse_technique_list

#: what the commands that read articles read from a folder given as input
ARTICLE_FILES = ("*.txt", "*.html", "*.htm")


def check_output(out: str | None, inputs: Iterable[str],
                 folder_reads: tuple[str, ...] = ARTICLE_FILES) -> None:
    """Refuse an ``--out`` that is one of the command's input files, or a file it reads
    inside an input folder (names matching ``folder_reads``): writing it would replace what
    is being read, and an ``--out`` that is a folder. Called before the work, so nothing is
    lost and no time is wasted."""
    if not out or out == "-":
        return
    target = Path(out)
    if target.is_dir():
        raise output_error(out, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), out))
    if not target.is_file():
        return  # a new file replaces no input
    for given in inputs:
        path = Path(given)
        try:
            if path.is_dir():
                hit = (target.resolve().is_relative_to(path.resolve())
                       and any(fnmatch(target.name.lower(), p) for p in folder_reads))
            else:
                hit = path.exists() and os.path.samefile(path, target)
        except OSError:
            continue
        if hit:
            what = (f"is a file read from the input folder {given}" if path.is_dir()
                    else "is an input file" if given == out else f"is the input file {given}")
            raise OutputError(f"the output {what}: writing it would replace what is read; "
                              "give another output file", where=out)


def check_two_outputs(first: str, second: str | None, flag: str) -> None:
    """Refuse a second output file (``flag``) that is the first one: the second write
    would replace the first."""
    if not second or second == "-":
        return
    a, b = Path(first), Path(second)
    try:
        same = (os.path.samefile(a, b) if a.exists() and b.exists()
                else a.resolve() == b.resolve())
    except OSError:
        return
    if same:
        raise OutputError(f"{flag} is the --out file too: writing it would replace that "
                          f"output; give {flag} another file", where=second)


def write_output(text: str, out: str | None) -> None:
    """``text`` to the file ``out`` (written whole or not at all: a failure leaves an
    earlier file there as it was), or to standard output. An ``out`` that is a symbolic
    link is written through: its target is replaced, the link stays."""
    if not out or out == "-":
        sys.stdout.write(text)
        return
    path = Path(out)
    try:
        if path.is_symlink():
            try:
                path = path.resolve()
            except RuntimeError:  # a loop of links
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), out) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", out)
        if path.exists() and not os.access(path, os.W_OK):  # a file kept read-only stays so
            raise PermissionError(13, "Permission denied", out)
        write_text_whole(path, text)
    except OSError as e:
        raise output_error(out, e) from None
    print(f"wrote {out}", file=sys.stderr)


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

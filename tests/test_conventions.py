"""Command-line conventions (issue 15 item 4): ``python -m propscope`` is the command."""

from __future__ import annotations

import subprocess
import sys

from propscope import __version__


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "propscope", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"propscope {__version__}"
    bad = subprocess.run([sys.executable, "-m", "propscope", "analyze"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "the following arguments are required" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def _flags_without_help(parser, path=()):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _flags_without_help(sub, (*path, name))
        elif not isinstance(action, argparse._HelpAction) and not action.help:
            yield " ".join(path), action.option_strings or [action.dest]


def test_every_flag_and_argument_has_a_help_line():
    from propscope.cli.main import build_parser

    assert list(_flags_without_help(build_parser())) == []


def test_train_help_describes_every_training_setting():
    from dataclasses import fields

    from propscope import config
    from propscope.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices["train"].format_help()
    for f in fields(config.TrainConfig):
        if f.name != "extra":
            assert f"--{f.name.replace('_', '-')}" in text and f.name in config.TRAIN_HELP
    assert "(default: 5)" in text  # --epochs


def test_shell_completion_with_argcomplete(tmp_path):
    """With argcomplete installed (the test extra has it), the command completes its
    subcommands and flags; ``register-python-argcomplete propscope`` wires it to a shell."""
    import os

    out = tmp_path / "completions"
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n",
           "COMP_LINE": "propscope analyze --mo", "COMP_POINT": "22",
           "_ARGCOMPLETE_STDOUT_FILENAME": str(out)}
    done = subprocess.run([sys.executable, "-m", "propscope"], env=env, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-300:]
    assert set(out.read_text().split()) == {"--mode", "--model"}

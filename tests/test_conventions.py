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

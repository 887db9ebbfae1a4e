"""``propscope analyze folder/`` shows progress on stderr: on a terminal, or for many articles."""

from __future__ import annotations

import sys

import pytest

from propscope.cli.analyze import PROGRESS_ABOVE
from propscope.cli.main import main


def folder(tmp_path, n: int):
    d = tmp_path / f"f{n}"
    d.mkdir()
    for k in range(n):
        (d / f"article{k}.txt").write_text(f"The outrageous plan number {k} failed.\n")
    return d


def analyse(capsys, *argv: str) -> str:
    assert main(["analyze", *argv, "--model", "keywords", "--format", "json"]) == 0
    return capsys.readouterr().err


def test_many_articles_show_progress_anywhere(tmp_path, capsys):
    n = PROGRESS_ABOVE + 2
    err = analyse(capsys, str(folder(tmp_path, n)))
    assert f"analyze: 0/{n}" in err and f"analyze: {n}/{n} (100%)" in err
    assert "0 errors" in err


@pytest.mark.parametrize("quiet", [True, False])
def test_a_few_articles_are_quiet_off_a_terminal(tmp_path, capsys, quiet):
    err = analyse(capsys, str(folder(tmp_path, 2)), *(["-q"] if quiet else []))
    assert "analyze:" not in err


def test_a_terminal_shows_progress_for_a_few(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    err = analyse(capsys, str(folder(tmp_path, 2)))
    assert "analyze: 2/2 (100%)" in err
    assert analyse(capsys, str(folder(tmp_path, 1))) == ""  # one article: nothing to follow


def test_quiet_silences_many(tmp_path, capsys):
    assert "analyze:" not in analyse(capsys, str(folder(tmp_path, PROGRESS_ABOVE + 2)), "-q")

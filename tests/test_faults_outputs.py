"""Ways a user could lose data or work through propscope's outputs: a run that reads its
own tables back as articles, outputs that replace one another, and files written in place
that an interruption or a full disk leaves half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from propscope.cli.main import main

TEXT = "The so-called experts pushed a radical plan. Radical!\n"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- batch: its own tables


def _ids(out: Path) -> list[str]:
    pq = pytest.importorskip("pyarrow.parquet")
    return sorted(r["id"] for f in (out / "articles").glob("part-*.parquet")
                  for r in pq.read_table(f, columns=["id"]).to_pylist())


def test_a_run_inside_its_input_folder_never_reads_its_own_tables(tmp_path):
    pytest.importorskip("pyarrow")
    news = tmp_path / "news"
    news.mkdir()
    for k in (1, 2, 3):
        (news / f"article{k}.txt").write_text(f"Story {k}. {TEXT}")
    out = news / "run"
    argv = ["batch", str(news), "--out", str(out), "--model", "keywords", "--workers", "0",
            "-q"]
    for _ in range(3):  # the first run, then the same command again (resumed twice)
        assert main(argv) == 0
        assert _ids(out) == ["1", "2", "3"]  # not its span rows as new "articles"
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["articles"] == 3 and run["input_files"]["files"] == 3
    # a glob over the folder leaves the run's files out too
    assert main(["batch", f"{news}/**/*", "--out", str(out), "--model", "keywords",
                 "--workers", "0", "-q"]) == 0
    assert _ids(out) == ["1", "2", "3"]


def test_an_input_inside_the_output_folder_is_refused(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    news = tmp_path / "news"
    news.mkdir()
    (news / "article1.txt").write_text(TEXT)
    out = tmp_path / "run"
    assert main(["batch", str(news), "--out", str(out), "--model", "keywords",
                 "--workers", "0", "-q"]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in out.rglob("*"))
    code, _, err = cli(capsys, "batch", str(out / "articles"), "--out", str(out),
                       "--model", "keywords", "--workers", "0", "-q")
    assert code == 2 and err.count("\n") == 1 and "inside the output folder" in err
    assert sorted(p.name for p in out.rglob("*")) == before


# ---------------------------------------------------------------- outputs replacing outputs


def test_export_refuses_a_config_file_that_is_its_tasks_file(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(TEXT)
    tasks = tmp_path / "tasks.json"
    tasks.write_text("[]\n")  # an earlier export
    for config in (str(tasks), str(tmp_path / "." / "tasks.json")):
        code, _, err = cli(capsys, "export", "label-studio", str(article), "--out", str(tasks),
                           "--config", config, "--model", "keywords")
        assert code == 2 and err.count("\n") == 1 and "--config" in err, err
        assert tasks.read_text() == "[]\n"  # nothing written
    code, _, err = cli(capsys, "export", "label-studio", str(article), "--out",
                       str(tmp_path / "new.json"), "--config", str(tmp_path / "new.json"),
                       "--model", "keywords")
    assert code == 2 and not (tmp_path / "new.json").exists()
    code, _, err = cli(capsys, "export", "label-studio", str(article), "--out", str(tasks),
                       "--config", str(tmp_path / "labeling.xml"), "--model", "keywords")
    assert code == 0, err
    assert json.loads(tasks.read_text())[0]["data"]["text"] == TEXT
    assert (tmp_path / "labeling.xml").read_text().startswith("<View>")

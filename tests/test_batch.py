"""``propscope batch``: every input format, error rows, resume, atomic parts, CLI."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from propscope.batch import readers, run_batch, tables  # noqa: E402
from propscope.batch.work import month_of  # noqa: E402
from propscope.cli.main import main  # noqa: E402
from propscope.errors import PropscopeError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# ids of the corpus fixture's files: their paths below the folder given
A1, A2, A3, PAGE = "outletA/article1", "outletA/article2", "outletA/article3", "outletA/page"


def table(out: Path, name: str) -> list[dict]:
    files = sorted((out / name).glob("part-*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def by_id(out: Path) -> dict[str, dict]:
    rows = table(out, "articles")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate article rows"
    return {r["id"]: r for r in rows}


def run(inputs, out, **kw):
    kw.setdefault("model", "keywords")
    kw.setdefault("workers", 0)
    return run_batch([str(i) for i in inputs], out, **kw)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """One input of each format, 2 good articles each, plus bad ones."""
    d = tmp_path / "in"
    (d / "outletA").mkdir(parents=True)
    (d / "outletA" / "article1.txt").write_text("The outrageous plan failed.\nCalm.\n")
    (d / "outletA" / "article2.txt").write_text("A so-called expert spoke.\n")
    (d / "outletA" / "article3.txt").write_bytes(b"bad \xff byte\n")  # not UTF-8
    (d / "outletA" / "page.html").write_text(
        "<html><head><title>Page title</title></head><body><article><p>"
        + "The radical senator spoke to the crowd about the budget for a long time. " * 3
        + "</p></article></body></html>")
    rows = [
        {"id": "j1", "text": "Everyone knows the truth.", "source": "J", "date": "2020-01-05"},
        {"id": "j2", "text": "A patriot speaks.\nAgain.", "source": "J",
         "date": "Tue, 04 Feb 2020 10:00:00 +0000"},
    ]
    (d / "feed.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n\n{not json\n"
        + json.dumps({"id": "j4", "text": "  "}) + "\n")
    with (d / "table.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "source", "date", "title"])
        w.writerow(["c1", "Line one, with a comma.\nA traitor, surely.", "C", "2020-03-01", "T"])
        w.writerow(["c2", "Nothing here.", "C", "", ""])
    with (d / "table.csv").open("ab") as f:
        f.write(b'c3,"caf\xe9 latin-1",C,,\n')
    pq.write_table(pa.table({
        "id": [101, 102, 103],
        "text": ["It is a catastrophe.", "Experts agree on it.", None],
        "source": ["P", "P", "P"],
        "url": ["http://p/1", None, None],
    }), d / "table.parquet")
    return d


def test_every_input_format(corpus, tmp_path):
    out = tmp_path / "out"
    s = run([corpus], out, part_size=2)
    assert s["status"] == "complete"
    rows = by_id(out)
    ok = {k for k, r in rows.items() if r["error"] is None}
    # parquet ids are taken as given (ints become strings)
    assert ok == {A1, A2, PAGE, "j1", "j2", "c1", "c2", "101", "102"}
    assert 'missing "text"' in rows["103"]["error"]
    assert rows["101"]["url"] == "http://p/1" and rows["101"]["source"] == "P"
    # files: id from the path below the folder given, outlet from the folder; html:
    # extracted text and title
    assert rows[A1]["source"] == "outletA" and rows[PAGE]["title"] == "Page title"
    assert rows[PAGE]["spans"] == 3 and rows[PAGE]["n_loaded_language"] == 3
    assert rows["j1"]["month"] == "2020-01" and rows["j2"]["month"] == "2020-02"
    assert rows["c1"]["title"] == "T" and rows["c1"]["month"] == "2020-03"
    assert rows["c1"]["sentences"] == 2 and rows["c1"]["flagged_sentences"] == 1
    assert rows["c2"]["date"] is None and rows["c2"]["spans"] == 0
    assert rows[A1]["model_name"] == "keywords" and rows[A1]["model_version"] == "test"
    assert rows[A1]["words"] == 5 and rows[A1]["chars"] == len("The outrageous plan failed."
                                                                "\nCalm.\n")
    assert rows[A1]["share_loaded_language"] == pytest.approx(10 / 34)
    spans = table(out, "spans")
    assert {(s["article_id"], s["text"], s["technique"]) for s in spans} >= {
        (A1, "outrageous", "Loaded_Language"), ("c1", "traitor", "Name_Calling,Labeling"),
        (A2, "so-called", "Name_Calling,Labeling"),
        ("102", "Experts agree", "Appeal_to_Authority")}
    # part files are complete Parquet, nothing temporary is left
    assert not list(out.rglob("*.tmp"))
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["articles"] == len(rows)
    assert manifest["input_files"]["by_kind"] == {"csv": 1, "jsonl": 1, "parquet": 1,
                                                  "text/html": 1, "text/plain": 3}


def test_bad_articles_become_error_rows(corpus, tmp_path):
    out = tmp_path / "out"
    run([corpus], out, part_size=3, max_bytes=60)
    rows = by_id(out)
    err = {k: r["error"] for k, r in rows.items() if r["error"]}
    assert "not valid UTF-8" in err[A3] and err[A3].startswith(str(corpus))
    assert "too large" in err[PAGE]  # the html page is over 60 bytes
    assert "not valid JSON" in err[f"{corpus / 'feed.jsonl'}:4"]
    assert "empty" in err["j4"]
    assert "not valid UTF-8" in err["c3"] and ":row 3" in err["c3"]
    assert 'missing "text"' in err["103"]
    assert len(err) == 6
    assert all(rows[k]["spans"] is None for k in err)
    assert not [s for s in table(out, "spans") if s["article_id"] in err]


def test_folder_only_and_globs(tmp_path):
    d = tmp_path / "news"
    d.mkdir()
    for k in range(5):
        (d / f"a{k}.txt").write_text(f"Article {k} is radical.\n")
    out = tmp_path / "out"
    run([str(d / "a[0-2].txt"), str(d / "*.txt")], out, part_size=2, source="Wire")
    rows = by_id(out)
    assert sorted(rows) == [f"a{k}" for k in range(5)]
    assert {r["source"] for r in rows.values()} == {"Wire"}
    with pytest.raises(PropscopeError, match="no files match"):
        run([str(d / "*.csv")], tmp_path / "o2")
    with pytest.raises(PropscopeError, match="no such file"):
        run([str(d / "missing")], tmp_path / "o3")


def test_duplicate_ids_are_written_once(tmp_path):
    for name, text in (("x", "first radical\n"), ("y", "second radical\n"),
                       ("z", "first radical\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "same.txt").write_text(text)
    s = run([tmp_path / "x", tmp_path / "y", tmp_path / "z"], tmp_path / "out", part_size=1)
    # z repeats x exactly: left out, counted; y repeats the id with other text: an error row
    assert (s["duplicates"], s["id_conflicts"]) == (1, 1)
    rows = by_id(tmp_path / "out")
    y = str(tmp_path / "y" / "same.txt")
    assert set(rows) == {"same", y} and rows["same"]["error"] is None
    assert f"id 'same' is already used by {tmp_path / 'x' / 'same.txt'}" in rows[y]["error"]


def test_big_parquet_row_groups_are_streamed_in_order(tmp_path, monkeypatch):
    n = 23
    pq.write_table(pa.table({"id": [f"r{k}" for k in range(n)],
                             "text": [f"Row {k} is {'radical' if k % 3 else 'calm'}."
                                      for k in range(n)]}),
                   tmp_path / "big.parquet", row_group_size=10)
    monkeypatch.setattr(tables, "BIG_ROW_GROUP_PARTS", 1)  # row groups of 10 > 1 x 4 rows
    parts = readers.plan([str(tmp_path / "big.parquet")], 4)
    assert [p.inline for p in parts] == [True] * 6 + [False]
    out = tmp_path / "out"
    run([tmp_path / "big.parquet"], out, part_size=4)
    rows = by_id(out)
    assert sorted(rows, key=lambda x: int(x[1:])) == [f"r{k}" for k in range(n)]
    assert all(rows[f"r{k}"]["spans"] == (1 if k % 3 else 0) for k in range(n))
    assert rows["r13"]["input"].endswith("big.parquet:row 14")


def test_resume_skips_done_parts_and_ids(corpus, tmp_path):
    out = tmp_path / "out"
    first = run([corpus], out, part_size=2)
    before = by_id(out)
    failed = len([r for r in before.values() if r["error"]])
    again = run([corpus], out, part_size=2)
    # only the articles that failed are tried again (and fail again: still one row each)
    assert again["articles"] == again["errors"] == again["retried"] == failed == 5
    assert again["parts_skipped"] + again["parts_written"] == first["parts_written"]
    assert again["parts_skipped"] > 0 and by_id(out).keys() == before.keys()
    # another cut of the same input: new parts, but no id is analysed twice
    third = run([corpus], out, part_size=3)
    assert third["analysed"] == 0 and third["errors"] == failed
    assert by_id(out).keys() == before.keys()
    # a new file in the folder is all that gets analysed
    (corpus / "outletA" / "article9.txt").write_text("A new radical article.\n")
    fourth = run([corpus], out, part_size=2)
    assert fourth["analysed"] == 1 and fourth["errors"] == failed
    assert set(by_id(out)) == set(before) | {"outletA/article9"}
    assert len(json.loads((out / "run.json").read_text())["sessions"]) == 4


def test_resume_refuses_other_settings_and_foreign_folders(corpus, tmp_path):
    out = tmp_path / "out"
    run([corpus], out)
    with pytest.raises(PropscopeError, match="threshold"):
        run([corpus], out, threshold=0.5)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(PropscopeError, match="not empty"):
        run([corpus], foreign)


def test_leftovers_of_a_killed_run_are_cleaned(corpus, tmp_path):
    out = tmp_path / "out"
    run([corpus], out, part_size=2)
    key = sorted((out / "articles").glob("part-*.parquet"))[0]
    failing = {p.name for p in (out / "articles").glob("part-*.parquet")
               if any(pq.read_table(p, columns=["error"]).column("error").to_pylist())}
    key.unlink()  # as if killed between writing the spans file and the articles file
    (out / "articles" / ".part-x.parquet.123.tmp").write_bytes(b"half")
    s = run([corpus], out, part_size=2)
    assert s["parts_written"] == 1 + len(failing - {key.name})  # and those with errors
    assert not list(out.rglob("*.tmp"))
    assert {p.name for p in (out / "spans").iterdir()} == {
        p.name for p in (out / "articles").iterdir()}
    by_id(out)


SLOW_HOOK = '''
import os, time
if os.environ.get("PROPSCOPE_TEST_SLOW"):
    from propscope.predictors import keywords
    _orig = keywords.KeywordPredictor.predict
    def _slow(self, texts, *args, **kwargs):
        time.sleep(float(os.environ["PROPSCOPE_TEST_SLOW"]) * len(texts))
        return _orig(self, texts, *args, **kwargs)
    keywords.KeywordPredictor.predict = _slow
'''


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_resume_after_kill(tmp_path):
    """Kill -9 a real pool run part-way; re-run; every article once, nothing corrupt."""
    d = tmp_path / "news"
    d.mkdir()
    n = 96
    for k in range(n):
        (d / f"article{k:03d}.txt").write_text(f"Story {k}.\nA radical idea number {k}.\n")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_HOOK)
    env = {**os.environ, "PROPSCOPE_TEST_SLOW": "0.03",
           "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "propscope.cli.main", "batch", str(d), "--out", str(out),
           "--model", "keywords", "--workers", "2", "--part-size", "4", "-q"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(list((out / "articles").glob("part-*.parquet"))) >= 3:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, as `kill -9 PID` does
        proc.wait(timeout=10)
        # orphaned workers notice and exit by themselves
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "worker processes outlived the killed run"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    parts = list((out / "articles").glob("part-*.parquet"))
    assert 3 <= len(parts) < n // 4, "the run was not killed part-way"
    partial = by_id(out)  # every part file that exists reads back whole
    assert 0 < len(partial) < n
    assert json.loads((out / "run.json").read_text())["status"] == "running"

    r = subprocess.run(cmd, env={k: v for k, v in env.items() if k != "PROPSCOPE_TEST_SLOW"},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "parts already done" in r.stderr
    rows = by_id(out)
    assert sorted(rows) == [f"{k:03d}" for k in range(n)]
    assert all(r["spans"] == 1 and r["error"] is None for r in rows.values())
    spans = table(out, "spans")
    assert len(spans) == n and len({s["article_id"] for s in spans}) == n
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["articles"] == n
    last = manifest["sessions"][-1]
    assert last["articles"] == n - len(partial) and last["parts_skipped"] == len(parts)
    assert 1 <= len(last["worker_peak_rss_mb"]) <= 2  # a late-starting worker may get no part


def test_cli_summary_line_and_exit_code(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["batch", str(corpus), "--out", str(out), "--model", "keywords",
                 "--workers", "0", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "batch complete:" in err and "errors" in err and "spans in" in err
    assert main(["batch", str(corpus), "--out", str(out), "--model", "keywords",
                 "--threshold", "0.7"]) == 2
    assert "threshold" in capsys.readouterr().err


def test_month_of():
    assert month_of("2019-07-04") == "2019-07"
    assert month_of("2019-07-04T12:00:00Z") == "2019-07"
    assert month_of("2019/7/4") == "2019-07"
    assert month_of("Thu, 04 Jul 2019 10:00:00 GMT") == "2019-07"
    assert month_of("yesterday") is None and month_of(None) is None


def test_an_article_that_breaks_the_model_is_an_error_row(tmp_path, exploding_keywords):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"x{k}", "text": t, "source": "S"}) for k, t in
                             enumerate(["a radical one", "BOOM radical", "radical three"])))
    s = run([src], tmp_path / "out")  # one predictor batch of 3, then one by one
    assert (s["analysed"], s["errors"]) == (2, 1)
    rows = by_id(tmp_path / "out")
    assert "analysis failed (RuntimeError: model exploded)" in rows["x1"]["error"]
    assert rows["x1"]["source"] == "S" and rows["x0"]["spans"] == rows["x2"]["spans"] == 1

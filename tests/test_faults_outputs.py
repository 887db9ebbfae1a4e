"""Ways a user could lose data or work through propscope's outputs: a run that reads its
own tables back as articles, outputs that replace one another, files written in place
that an interruption or a full disk leaves half-written, and files of other applications
taken for propscope's own."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import sqlite3
from collections import Counter
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


def test_analyze_with_no_article_analysed_keeps_an_earlier_out_file(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(TEXT)
    results = tmp_path / "results.json"
    assert cli(capsys, "analyze", str(article), "--format", "json", "-o", str(results),
               "--model", "keywords")[0] == 0
    earlier = results.read_bytes()
    assert json.loads(earlier)["article"]["id"] == "a"
    for fmt in ("json", "jsonl", "html"):  # a typo in the input path: only errors
        code, out, err = cli(capsys, "analyze", str(tmp_path / "MISSING.txt"),
                             str(tmp_path / "ALSO-MISSING.txt"), "--format", fmt,
                             "-o", str(results), "--model", "keywords")
        assert code == 1 and out == ""
        lines = err.splitlines()
        assert [ln for ln in lines if ln.startswith("propscope: error:")] == lines[:2]
        assert "MISSING.txt" in lines[0] and "ALSO-MISSING.txt" in lines[1]
        assert "nothing written" in lines[2] and len(lines) == 3
        assert results.read_bytes() == earlier  # the earlier results, untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "results.json"]
    new = tmp_path / "new.json"  # nothing is created either
    assert cli(capsys, "analyze", str(tmp_path / "MISSING.txt"), "--format", "json",
               "-o", str(new), "--model", "keywords")[0] == 1
    assert not new.exists()
    # without -o the error records still go to standard output
    code, out, _ = cli(capsys, "analyze", str(tmp_path / "MISSING.txt"), "--format", "json",
                       "--model", "keywords")
    assert code == 1 and json.loads(out)["error"]["code"]
    # one article analysed: the output, with the failure's error record, replaces the file
    code, _, err = cli(capsys, "analyze", str(article), str(tmp_path / "MISSING.txt"),
                       "--format", "json", "-o", str(results), "--model", "keywords")
    assert code == 1 and "wrote" in err
    got = json.loads(results.read_text())
    assert got[0]["article"]["id"] == "a" and "MISSING.txt" in got[1]["error"]["input"]


def test_analyze_writes_through_an_out_file_that_is_a_link(tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text(TEXT)
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "results.json"
    target.write_text("[]\n")
    target.chmod(0o640)
    link = tmp_path / "results.json"
    link.symlink_to(target)
    code, _, err = cli(capsys, "analyze", str(article), "--format", "json", "-o", str(link),
                       "--model", "keywords")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target  # the link is still a link
    assert json.loads(target.read_text())["article"]["id"] == "a"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["results.json"]
    dangling = tmp_path / "later.json"  # a link to a file not yet there: it is created
    dangling.symlink_to(tmp_path / "kept" / "later.json")
    assert cli(capsys, "analyze", str(article), "--format", "json", "-o", str(dangling),
               "--model", "keywords")[0] == 0
    assert dangling.is_symlink()
    assert json.loads((tmp_path / "kept" / "later.json").read_text())["article"]["id"] == "a"


# ---------------------------------------------------------------- files written in place


def _interrupted_torch_save(monkeypatch):
    """torch.save that writes half a file, then is interrupted (Ctrl-C)."""
    torch = pytest.importorskip("torch")

    def save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", save)


def test_an_interrupted_save_leaves_the_run_resumable(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from propscope.training.loop import _Run

    run = _Run.__new__(_Run)  # the run's state without a whole training set-up
    run.model = torch.nn.Linear(2, 2)
    run.opt = torch.optim.AdamW(run.model.parameters())
    run.sched = torch.optim.lr_scheduler.LambdaLR(run.opt, lambda s: 1.0)
    run.out, run.ckpt = tmp_path, tmp_path / "checkpoint.pt"
    run.state = {"epoch": 3, "step": 30, "best": 0.5, "bad": 0, "history": []}
    run.checkpoint()
    run.keep_if_best(0.6)
    best = (tmp_path / "best.pt").read_bytes()
    _interrupted_torch_save(monkeypatch)
    run.state = {**run.state, "epoch": 4, "step": 40}
    with pytest.raises(KeyboardInterrupt):
        run.checkpoint()
    with pytest.raises(KeyboardInterrupt):
        run.keep_if_best(0.7)
    monkeypatch.undo()
    saved = torch.load(run.ckpt, weights_only=False)  # still the epoch-3 checkpoint, whole
    assert saved["state"]["epoch"] == 3
    assert (tmp_path / "best.pt").read_bytes() == best
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "checkpoint.pt"]


def _disk_fills_mid_write(monkeypatch):
    """Path.write_text writing half its text, then failing as on a full disk."""
    real = Path.write_text

    def write_text(self, data, *args, **kwargs):
        real(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", write_text)


def test_recording_figures_on_a_full_disk_keeps_the_model_manifest(tmp_path, monkeypatch):
    from propscope.manifest import update_manifest

    folder = tmp_path / "model"
    folder.mkdir()
    manifest = {"format": 1, "name": "mine", "decode": {"seed": 0.5}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _disk_fills_mid_write(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        update_manifest(folder, metrics_valid={"si": 0.43})
    monkeypatch.undo()
    assert json.loads((folder / "manifest.json").read_text()) == manifest  # still whole
    assert [p.name for p in folder.iterdir()] == ["manifest.json"]
    (folder / "manifest.json").chmod(0o640)
    update_manifest(folder, metrics_valid={"si": 0.43})
    assert json.loads((folder / "manifest.json").read_text()) == {
        **manifest, "metrics_valid": {"si": 0.43}}
    assert (folder / "manifest.json").stat().st_mode & 0o777 == 0o640


def _ls_export(path: Path, texts: dict[str, str]) -> Path:
    path.write_text(json.dumps([{"id": k, "data": {"text": t, "id": aid},
                                 "annotations": [{"id": k, "result": []}]}
                                for k, (aid, t) in enumerate(texts.items(), 1)]))
    return path


def test_an_import_over_an_earlier_one_that_fails_leaves_the_earlier_one(
        tmp_path, capsys, monkeypatch):
    from propscope.labelstudio import LABELS_FILE

    out = tmp_path / "reviewed"
    first = _ls_export(tmp_path / "first.json", {"a": "First A.\n", "b": "First B.\n"})
    assert cli(capsys, "import", "label-studio", str(first), "--out", str(out))[0] == 0
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(earlier) == ["articlea.txt", "articleb.txt", LABELS_FILE]
    second = _ls_export(tmp_path / "second.json",
                        {"a": "Second A.\n", "c": "Second C.\n", "d": "Second D.\n"})
    real, calls = Path.write_bytes, []

    def write_bytes(self, data):  # the disk fills at the second file
        calls.append(self)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    code, _, err = cli(capsys, "import", "label-studio", str(second), "--out", str(out),
                       "--force")
    monkeypatch.undo()
    assert code == 2 and err.count("\n") == 1 and "No space left" in err, err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier  # as it was
    code, _, err = cli(capsys, "import", "label-studio", str(second), "--out", str(out),
                       "--force")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "articlea.txt", "articlec.txt", "articled.txt", LABELS_FILE]
    assert (out / "articlea.txt").read_text() == "Second A.\n"


# ---------------------------------------------------------------- batch: failed articles


def _rows(out: Path, name: str = "articles") -> list[dict]:
    pq = pytest.importorskip("pyarrow.parquet")
    return [r for f in sorted((out / name).glob("part-*.parquet"))
            for r in pq.read_table(f).to_pylist()]


def _one_row_each(out: Path) -> dict[str, dict]:
    rows = _rows(out)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), f"an article has several rows: {sorted(ids)}"
    return {r["id"]: r for r in rows}


def _batch(news: Path, out: Path, *extra: str) -> int:
    return main(["batch", str(news), "--out", str(out), "--model", "keywords",
                 "--workers", "0", "-q", *extra])


def test_a_resumed_batch_run_retries_the_articles_that_failed(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    from propscope.batch.report import build_report
    from propscope.predictors.keywords import KeywordPredictor

    news = tmp_path / "news"
    news.mkdir()
    for k in (1, 2, 3, 4):
        (news / f"article{k}.txt").write_text(f"Story {k}. {TEXT}")
    (news / "article2.txt").write_bytes(b"Story 2 \xff unreadable\n")  # fixed later
    (news / "article3.txt").write_text(f"Story 3 BOOM. {TEXT}")  # breaks the model once
    real, calls = KeywordPredictor.predict, []

    def predict(self, texts, mode="benchmark"):
        calls.extend(texts)
        if any("BOOM" in t for t in texts) and fail["boom"]:
            raise RuntimeError("model exploded")
        return real(self, texts, mode)

    fail = {"boom": True}
    monkeypatch.setattr(KeywordPredictor, "predict", predict)
    out = tmp_path / "run"
    assert _batch(news, out, "--part-size", "2") == 0
    rows = _one_row_each(out)
    assert (rows["2"]["error_code"], rows["3"]["error_code"]) == ("bad_input", "internal_error")
    # resumed as it is: both are tried again, fail again, and keep one error row each
    calls.clear()
    assert _batch(news, out, "--part-size", "2") == 0
    assert not [t for t in calls if "Story 1" in t or "Story 4" in t]  # never analysed twice
    rows = _one_row_each(out)
    assert sorted(k for k, r in rows.items() if r["error"]) == ["2", "3"]
    # fixed: resumed, both are analysed and their error rows are gone
    (news / "article2.txt").write_text(f"Story 2. {TEXT}")
    fail["boom"] = False
    calls.clear()
    assert _batch(news, out, "--part-size", "2") == 0
    assert sorted(t.split(".")[0] for t in calls) == ["Story 2", "Story 3 BOOM"]
    rows = _one_row_each(out)
    assert sorted(rows) == ["1", "2", "3", "4"] and not [r for r in rows.values() if r["error"]]
    spans = Counter(s["article_id"] for s in _rows(out, "spans"))  # each article's once
    assert spans == {k: r["spans"] for k, r in rows.items()} and spans["3"] == 3
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["articles"] == 4 and run["counts"]["errors"] == 0
    assert run["sessions"][-1]["retried"] == 2 and run["sessions"][-1]["analysed"] == 2
    report = build_report(out)
    assert report["overview"]["articles"] == 4 and report["overview"]["errors"] == 0
    calls.clear()
    assert _batch(news, out, "--part-size", "2") == 0 and calls == []  # nothing left to do


def test_failed_articles_are_retried_when_the_input_is_cut_differently(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    from propscope.batch import store

    news = tmp_path / "news"
    news.mkdir()
    for k in range(1, 6):
        (news / f"article{k}.txt").write_text(f"Story {k}. {TEXT}")
    (news / "article4.txt").write_bytes(b"\xff unreadable\n")
    out = tmp_path / "run"
    assert _batch(news, out, "--part-size", "1") == 0
    # another cut (more workers, more inputs): it fails again, in a part of the new cut
    assert _batch(news, out, "--part-size", "3") == 0
    assert [k for k, r in _one_row_each(out).items() if r["error"]] == ["4"]
    # back to the first cut, fixed, and the run killed between writing the new row and
    # removing the error row from the other part: the next run settles it
    (news / "article4.txt").write_text(f"Story 4. {TEXT}")

    def killed(self, name, ids):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.RunStore, "_drop", killed)
    assert _batch(news, out, "--part-size", "1") == 130  # interrupted
    assert sorted(_rows(out), key=lambda r: r["error"] or "")[-1]["id"] == "4"  # still there
    monkeypatch.undo()
    assert _batch(news, out, "--part-size", "1") == 0
    rows = _one_row_each(out)
    assert sorted(rows) == ["1", "2", "3", "4", "5"]
    assert not [r for r in rows.values() if r["error"]] and rows["4"]["spans"] == 3
    assert Counter(s["article_id"] for s in _rows(out, "spans"))["4"] == 3
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and run["counts"]["articles"] == 5
    assert run["counts"]["errors"] == 0


def test_a_broken_feed_line_fixed_later_leaves_no_error_row(tmp_path):
    pytest.importorskip("pyarrow")
    feed = tmp_path / "feed.jsonl"
    good = [json.dumps({"id": k, "text": f"Story {k}. {TEXT}"}) for k in ("a", "c")]
    feed.write_text(f"{good[0]}\n{{broken\n{good[1]}\n")
    out = tmp_path / "run"
    argv = [str(feed), "--out", str(out), "--model", "keywords", "--workers", "0", "-q",
            "--part-size", "2"]
    assert main(["batch", *argv]) == 0
    assert [k for k, r in _one_row_each(out).items() if r["error"]] == [f"{feed}:2"]
    fixed = json.dumps({"id": "b", "text": f"Story b, fixed. {TEXT}"})
    feed.write_text(f"{good[0]}\n{fixed}\n{good[1]}\n")  # the line now has an id
    for _ in range(2):
        assert main(["batch", *argv]) == 0
        rows = _one_row_each(out)
        assert sorted(rows) == ["a", "b", "c"] and not [r for r in rows.values()
                                                        if r["error"]]


# ---------------------------------------------------------------- serve --db: whose file


@pytest.fixture
def serve_one_analysis(monkeypatch):
    """``serve`` starts no real server: the app it built answers one analysis through the
    in-process client (which saves it in ``--db``), then the command returns."""
    uvicorn = pytest.importorskip("uvicorn")
    from fastapi.testclient import TestClient

    def run(self, sockets=None):
        with TestClient(self.config.app) as client:
            r = client.post("/api/v1/analyze", json={"text": TEXT})
            assert r.status_code == 200 and r.json()["id"], r.text

    monkeypatch.setattr(uvicorn.Server, "run", run)

    def serve(capsys, db: Path) -> tuple[int, str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        code, _, err = cli(capsys, "serve", "--model", "keywords", "--port", str(port),
                           "--db", str(db), "--log-level", "warning")
        return code, err

    return serve


def _state(db: Path) -> tuple[str, list[str]]:
    return hashlib.sha256(db.read_bytes()).hexdigest(), sorted(os.listdir(db.parent))


def test_serve_refuses_a_db_file_that_is_not_its_own_and_leaves_it_unchanged(
        tmp_path, capsys, serve_one_analysis):
    users = tmp_path / "users.db"  # another application's database (rollback journal)
    con = sqlite3.connect(users)
    con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE orders (id INTEGER, user_id INTEGER)")
    con.execute("INSERT INTO users VALUES (1, 'ada')")
    con.commit()
    con.close()
    notes = tmp_path / "notes.txt"  # not SQLite at all
    notes.write_text("my notes, not a database\n" * 20)
    lookalike = tmp_path / "look.db"  # a table named like propscope's, other columns
    con = sqlite3.connect(lookalike)
    con.execute("CREATE TABLE analyses (id INTEGER, body TEXT)")
    con.commit()
    con.close()
    cases = {users: "another application's SQLite database (tables: orders, users)",
             notes: "is not a SQLite database",
             lookalike: "another application's SQLite database (tables: analyses)"}
    before_users = _state(users)
    for db, says in cases.items():
        before = _state(db)
        code, err = serve_one_analysis(capsys, db)
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"propscope: error: {db} ") and says in err, err
        assert "give --db a new file" in err
        assert _state(db) == before  # byte for byte, and no -wal / -shm beside it
    from propscope.web import WebSettings, create_app  # the app alone refuses it too
    from propscope.web.storage import NotOurDatabase

    with pytest.raises(NotOurDatabase, match="tables: orders, users"):
        create_app(WebSettings(model="keywords", db=str(users)))
    assert _state(users) == before_users
    con = sqlite3.connect(f"file:{users}?mode=ro", uri=True)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_serve_takes_a_new_or_empty_db_file_or_its_own(tmp_path, capsys, serve_one_analysis):
    new, empty = tmp_path / "new.sqlite3", tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    for db in (new, empty, new):  # new, empty, then its own database from before
        code, err = serve_one_analysis(capsys, db)
        assert code == 0, err
        con = sqlite3.connect(db)
        assert con.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 1
        con.close()


# ---------------------------------------------------------------- report --out: folders


def _report_run(tmp_path: Path) -> Path:
    pytest.importorskip("duckdb")
    pytest.importorskip("pyarrow")
    from propscope.batch import run_batch

    feed = tmp_path / "in.jsonl"
    feed.write_text("".join(json.dumps({"id": k, "source": "X", "text": f"Story {k}. {TEXT}"})
                            + "\n" for k in ("a1", "a2")))
    run_batch([str(feed)], tmp_path / "run", model="keywords", workers=0)
    return tmp_path / "run"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"(folder)"
            for p in sorted(folder.rglob("*"))}


def test_report_refuses_an_out_folder_before_any_work(tmp_path, capsys, monkeypatch):
    run = _report_run(tmp_path)
    out = tmp_path / "reports"
    out.mkdir()
    (out / "mine.txt").write_text("kept\n")
    before = _tree(tmp_path)
    worked = []
    import propscope.batch.report as report

    monkeypatch.setattr(report, "build_report", lambda *a, **k: worked.append(a) or {})
    for given in (str(out), f"{out}/"):
        code, _, err = cli(capsys, "report", str(run), "--out", given)
        assert code == 2 and err.count("\n") == 1, err
        assert err == (f"propscope: error: {given}: cannot write the output (it is a folder; "
                       "give a file name)\n")
        assert not worked  # refused before the report was built
        assert _tree(tmp_path) == before  # nothing written: no reports_articles/ either


def test_report_pages_never_replace_files_that_are_not_its_own_pages(tmp_path, capsys):
    from propscope.batch.report_html import page_name

    run = _report_run(tmp_path)
    out = tmp_path / "r.html"
    pages = tmp_path / "r_articles"
    pages.mkdir()
    mine = pages / page_name("a1")  # a user's file that has the name of a1's page
    mine.write_text("<p>my own notes</p>\n")
    (pages / "notes.txt").write_text("mine too\n")
    before = _tree(tmp_path)
    code, _, err = cli(capsys, "report", str(run), "--out", str(out))
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"propscope: error: {pages}: the report's pages folder holds files "
                          f"that are not propscope's article pages ({mine.name}, notes.txt)")
    assert _tree(tmp_path) == before  # nothing replaced, no report written
    # a link named like a page would have its target replaced: refused too
    mine.unlink()
    (pages / "notes.txt").unlink()
    (pages / page_name("a2")).symlink_to(tmp_path / "in.jsonl")
    feed = (tmp_path / "in.jsonl").read_bytes()
    assert cli(capsys, "report", str(run), "--out", str(out))[0] == 2
    assert (tmp_path / "in.jsonl").read_bytes() == feed and not out.exists()
    (pages / page_name("a2")).unlink()
    # its own earlier pages are replaced, and a hidden file (.DS_Store) is left be
    (pages / ".DS_Store").write_bytes(b"\0")
    assert cli(capsys, "report", str(run), "--out", str(out))[0] == 0
    first = {p.name: p.read_text() for p in pages.glob("*.html")}
    assert sorted(first) == sorted([page_name("a1"), page_name("a2")])
    (pages / page_name("a1")).write_text(first[page_name("a1")].replace("Story", "Old"))
    code, _, err = cli(capsys, "report", str(run), "--out", str(out))
    assert code == 0, err
    assert {p.name: p.read_text() for p in pages.glob("*.html")} == first
    assert (pages / ".DS_Store").read_bytes() == b"\0"
    # a file where the pages folder goes
    pages2 = tmp_path / "s_articles"
    pages2.write_text("a file\n")
    code, _, err = cli(capsys, "report", str(run), "--out", str(tmp_path / "s.html"))
    assert code == 2 and err.count("\n") == 1 and "it is a file" in err, err
    assert pages2.read_text() == "a file\n" and not (tmp_path / "s.html").exists()

"""Faults a careless world brings to the inputs: ids that collide, files of every bad kind,
ids that would break a TSV row, and flags with values that make no sense (issue 16, A)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from propscope.cli.main import main
from propscope.corpus import article_files
from propscope.errors import InputError
from propscope.ids import IdRegistry, already_done, file_id, text_digest
from propscope.inputs import decode_bytes, is_blank

GOOD = "The so-called experts pushed a disastrous plan.\n"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def analyze(capsys, *argv: str) -> tuple[int, list[dict], str]:
    code, out, err = cli(capsys, "analyze", *argv, "--format", "jsonl", "--model", "keywords")
    return code, [json.loads(line) for line in out.splitlines()], err


def batch(tmp_path: Path, *argv: str) -> tuple[int, dict[str, dict], dict]:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "out"
    code = main(["batch", *argv, "--out", str(out), "--model", "keywords", "--workers", "0",
                 "--quiet"])
    rows = [r for f in sorted((out / "articles").glob("part-*.parquet"))
            for r in pq.read_table(f).to_pylist()]
    assert len(rows) == len({r["id"] for r in rows}), "an id written twice"
    return code, {r["id"]: r for r in rows}, json.loads((out / "run.json").read_text())


# ---------------------------------------------------------------- ids


@pytest.fixture
def outlets(tmp_path: Path) -> Path:
    """corpus/{foxnews,cnn}/article{1,2}.txt, four different texts."""
    root = tmp_path / "corpus"
    for outlet in ("foxnews", "cnn"):
        (root / outlet).mkdir(parents=True)
        for k in (1, 2):
            (root / outlet / f"article{k}.txt").write_text(f"{outlet} story {k} is radical.\n")
    return root


def test_file_ids_come_from_the_path_below_the_folder(tmp_path):
    root = tmp_path / "corpus"
    assert file_id(root / "foxnews" / "article1.txt", root) == "foxnews/article1"
    assert file_id(root / "a" / "b" / "page.html", root) == "a/b/page"
    # flat folders and single files: the corpus's rule, article123.txt -> 123
    assert file_id(root / "article123.txt", root) == "123"
    assert file_id(root / "article123.txt") == "123"
    assert file_id(root / "story.html") == "story" and file_id(root / "article.txt") == "article"


def test_ptc_folders_keep_bare_numeric_ids(tmp_path):
    for k in (111, 222):
        (tmp_path / f"article{k}.txt").write_text("text\n")
    (tmp_path / "notes.txt").write_text("not an article\n")
    assert list(article_files(tmp_path)) == ["111", "222"]


def test_analyze_keeps_every_article_of_two_outlets(capsys, outlets):
    code, rows, _ = analyze(capsys, str(outlets))
    assert code == 0
    got = {r["article"]["id"]: r["article"].get("source") for r in rows}
    assert got == {"cnn/article1": "cnn", "cnn/article2": "cnn",
                   "foxnews/article1": "foxnews", "foxnews/article2": "foxnews"}


def test_batch_keeps_every_article_of_two_outlets(tmp_path, outlets):
    code, rows, manifest = batch(tmp_path, str(outlets))
    assert code == 0
    assert {k: (r["source"], r["error"]) for k, r in rows.items()} == {
        "cnn/article1": ("cnn", None), "cnn/article2": ("cnn", None),
        "foxnews/article1": ("foxnews", None), "foxnews/article2": ("foxnews", None)}
    session = manifest["sessions"][-1]
    assert (session["duplicates"], session["id_conflicts"]) == (0, 0)


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    """j0 twice with different texts, j1 twice with the same text."""
    p = tmp_path / "feed.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "j0", "text": "A radical first text."},
        {"id": "j0", "text": "A different, disastrous text."},
        {"id": "j1", "text": "Same text twice."},
        {"id": "j1", "text": "Same text twice."},
    ]))
    return p


def test_analyze_repeated_id_with_other_text_is_an_error_naming_both(capsys, feed):
    code, rows, err = analyze(capsys, str(feed))
    assert code == 1
    assert [r["article"]["id"] if "article" in r else "error" for r in rows] == [
        "j0", "error", "j1"]
    e = rows[1]["error"]
    assert e["code"] == "duplicate_id" and e["input"] == f"{feed}:2"
    assert f"{feed}:2: id 'j0' is already used by {feed}:1 with different text" in e["message"]
    assert "1 identical repeats" in err and "Traceback" not in err


@pytest.mark.parametrize("policy, ids", [("rename", ["j0", "j0~2", "j1"]),
                                         ("skip", ["j0", "j1"])])
def test_analyze_duplicate_policies(capsys, feed, policy, ids):
    code, rows, err = analyze(capsys, str(feed), "--on-duplicate", policy)
    assert code == 0 and [r["article"]["id"] for r in rows] == ids
    assert rows[0]["article"]["text"] == "A radical first text."
    assert f"{feed}:1" in err and ("renamed 'j0~2'" in err if policy == "rename"
                                   else "skipped" in err)


def test_batch_repeated_ids(tmp_path, feed, capsys):
    code, rows, manifest = batch(tmp_path, str(feed))
    err = capsys.readouterr().err
    assert code == 0  # the run completes; the refused article is an error row
    assert set(rows) == {"j0", f"{feed}:2", "j1"} and rows["j0"]["error"] is None
    refused = rows[f"{feed}:2"]
    assert f"id 'j0' is already used by {feed}:1" in refused["error"]
    assert refused["spans"] is None and refused["text_hash"] == text_digest(
        "A different, disastrous text.")
    session = manifest["sessions"][-1]
    assert (session["duplicates"], session["id_conflicts"]) == (1, 1)
    assert manifest["config"]["on_duplicate"] == "error"
    assert "1 identical repeats" in err and "1 ids repeated with other text" in err


def test_batch_rename_survives_a_resume_with_another_cut(tmp_path, feed):
    pq = pytest.importorskip("pyarrow.parquet")
    _, rows, _ = batch(tmp_path, str(feed), "--on-duplicate", "rename", "--part-size", "1")
    assert set(rows) == {"j0", "j0~2", "j1"}
    spans = pq.read_table(tmp_path / "out" / "spans").to_pylist()
    assert {(s["article_id"], s["text"]) for s in spans} == {("j0", "radical"),
                                                             ("j0~2", "disastrous")}
    # cut differently: every part is new, but nothing is analysed or renamed again
    _, again, manifest = batch(tmp_path, str(feed), "--on-duplicate", "rename",
                               "--part-size", "3")
    assert set(again) == set(rows) and manifest["sessions"][-1]["articles"] == 0


def test_registry_policies_and_resumed_runs():
    r = IdRegistry("rename", known={"a": "h1", "a~2": "h2", "old": None})
    assert r.admit("a", "x:1", "h1").action == "identical"
    assert r.admit("a", "x:2", "h2").action == "identical"  # renamed by an earlier run
    adm = r.admit("a", "x:3", "h3")
    assert (adm.action, adm.id) == ("rename", "a~3") and "an earlier run" in str(adm.error)
    assert r.admit("old", "x:4", "h4").action == "rename"  # digest unknown: other text
    assert (r.identical, r.conflicts) == (2, 2)
    assert already_done({"a": "h1", "a~2": "h2"}, "a", "h2")
    assert not already_done({"a": "h1"}, "a", "h2") and already_done({"a": None}, "a", "h9")
    with pytest.raises(InputError, match="unknown policy"):
        IdRegistry("merge")


# ---------------------------------------------------------------- every bad kind


def test_bom_only_and_invisible_text_is_empty():
    assert is_blank("\ufeff") and is_blank(" \u00a0\u200b\n") and not is_blank("\ufeffa")
    for data in (b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", "\u2003\u200b\n".encode()):
        with pytest.raises(InputError, match="empty"):
            decode_bytes(data, where="x")


def test_bom_file_between_good_ones(capsys, tmp_path):
    paths = []
    for name, data in (("good.txt", GOOD.encode()), ("bom.txt", b"\xef\xbb\xbf"),
                       ("other.txt", b"A radical idea.\n")):
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    code, out, err = cli(capsys, "analyze", *paths, "--format", "json", "--model", "keywords")
    assert code == 1 and "Traceback" not in err
    data = json.loads(out)
    assert [d["article"]["id"] if "article" in d else d["error"]["message"] for d in data] == [
        "good", f"{tmp_path / 'bom.txt'}: empty (no text to analyse)", "other"]


BAD = {
    "b1_bom.txt": b"\xef\xbb\xbf",
    "b2_nul.txt": b"text with a \x00 NUL byte",
    "b3_binary.txt": bytes(range(1, 32)) * 8,
    "b4_latin1.txt": b"caf\xe9 au lait",
    "b5_huge.txt": b"radical " * 200,
    "b6_empty.txt": b"",
    "b7_blank.txt": " \t\n\u00a0\n".encode(),
    "b8_locked.txt": GOOD.encode(),
}
WHY = {"b1_bom": "empty", "b2_nul": "binary", "b3_binary": "binary", "b4_latin1": "UTF-8",
       "b5_huge": "too large", "b6_empty": "empty", "b7_blank": "empty",
       "b8_locked": "permission denied"}


@pytest.fixture
def bad_folder(tmp_path: Path, monkeypatch) -> tuple[Path, dict[str, str]]:
    """Good files between files of every bad kind; returns the folder and the expected
    reason of each bad one. Root reads a 0000 file all the same: there the unreadable file
    is simulated (its read raises PermissionError)."""
    d = tmp_path / "mixed"
    d.mkdir()
    for k in range(4):
        (d / f"a{k}_good.txt").write_text(f"Good story {k} is radical.\n")
    (d / "c_good.html").write_text("<html><body><article><p>"
                                   + "The radical senator spoke about the budget today. " * 4
                                   + "</p></article></body></html>")
    for name, data in BAD.items():
        (d / name).write_bytes(data)
    locked = d / "b8_locked.txt"
    locked.chmod(0)
    if os.geteuid() == 0:
        read_bytes = Path.read_bytes

        def refuse(self: Path) -> bytes:
            if self.name == locked.name:
                raise PermissionError(13, "Permission denied", str(self))
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", refuse)
    yield d, dict(WHY)
    (d / "b8_locked.txt").chmod(0o644)


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_analyze_folder_of_every_bad_kind(capsys, bad_folder, fmt):
    d, why = bad_folder
    code, out, err = cli(capsys, "analyze", str(d), "--format", fmt, "--model", "keywords",
                         "--max-bytes", "1000")
    assert code == 1 and "Traceback" not in err
    rows = json.loads(out) if fmt == "json" else [json.loads(x) for x in out.splitlines()]
    assert len(rows) == len(BAD) + 5  # every input, in order, good or bad
    good = [r["article"]["id"] for r in rows if "article" in r]
    assert {"a0_good", "a3_good", "c_good"} <= set(good)
    errors = {Path(r["error"]["input"]).stem: r["error"]["message"] for r in rows
              if "error" in r}
    assert set(errors) == set(why)
    for stem, reason in why.items():
        assert reason in errors[stem], (stem, errors[stem])
    lines = [x for x in err.strip().splitlines() if not x.startswith("analyze: ")]
    assert len(lines) == len(why)  # one line per bad file (besides progress: 13 inputs)


def test_batch_folder_of_every_bad_kind(tmp_path, bad_folder):
    d, why = bad_folder
    code, rows, manifest = batch(tmp_path, str(d), "--max-bytes", "1000", "--part-size", "3")
    assert code == 0 and manifest["status"] == "complete"
    assert len(rows) == len(BAD) + 5
    errors = {k: r["error"] for k, r in rows.items() if r["error"]}
    assert set(errors) == set(why)
    for stem, reason in why.items():
        assert reason in errors[stem], (stem, errors[stem])
    assert all(rows[f"a{k}_good"]["spans"] == 1 for k in range(4))


def test_a_failure_inside_one_article_is_its_error_record(capsys, tmp_path, exploding_keywords):
    for name, text in (("a.txt", GOOD), ("b.txt", "BOOM radical\n"), ("c.txt", GOOD)):
        (tmp_path / name).write_text(text)
    code, rows, err = analyze(capsys, *(str(tmp_path / n) for n in ("a.txt", "b.txt", "c.txt")))
    assert code == 1 and "Traceback" not in err
    assert ["article" in r for r in rows] == [True, False, True]
    assert "analysis failed (RuntimeError: model exploded)" in rows[1]["error"]["message"]


def test_html_that_breaks_the_extractor_is_its_error_record(capsys, tmp_path, monkeypatch):
    import trafilatura

    def extract(html, **kw):
        raise ValueError("parser crashed")

    monkeypatch.setattr(trafilatura, "extract", extract)
    (tmp_path / "a.html").write_text("<html><body><p>Hello</p></body></html>")
    (tmp_path / "b.txt").write_text(GOOD)
    code, rows, _ = analyze(capsys, str(tmp_path))
    assert code == 1 and "cannot extract text" in rows[0]["error"]["message"]
    assert rows[1]["article"]["id"] == "b"


# ---------------------------------------------------------------- ids in TSV rows


def test_ptc_refuses_ids_with_tabs_or_line_breaks(capsys, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": i, "text": GOOD}) + "\n"
                            for i in ("ok", "a\tb", "c\nd", "e\u2028f")))
    code, out, err = cli(capsys, "analyze", str(feed), "--format", "ptc", "--model", "keywords")
    assert code == 1
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows and all(len(r) == 4 and r[0] == "ok" for r in rows)
    assert err.count("holds a tab or line break") == 3
    # other formats carry such ids as they are
    code, rows_json, _ = analyze(capsys, str(feed))
    assert code == 0 and rows_json[1]["article"]["id"] == "a\tb"


def test_ptc_folder_with_a_tab_in_a_file_name_is_refused(tmp_path):
    (tmp_path / "article1\t2.txt").write_text("text\n")
    with pytest.raises(InputError, match="tab or line break"):
        article_files(tmp_path)


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize("argv, flag", [
    (["analyze", "x.txt", "--max-bytes", "0"], "--max-bytes"),
    (["analyze", "x.txt", "--max-bytes", "-5"], "--max-bytes"),
    (["analyze", "x.txt", "--techniques", ""], "--techniques"),
    (["analyze", "x.txt", "--techniques", " ; "], "--techniques"),
    (["analyze", "x.txt", "--model", ""], "--model"),
    (["analyze", "x.txt", "--on-duplicate", "merge"], "--on-duplicate"),
    (["batch", "x", "--out", "o", "--max-bytes", "0"], "--max-bytes"),
    (["batch", "x", "--out", "o", "--techniques", ""], "--techniques"),
    (["batch", "x", "--out", "o", "--model", ""], "--model"),
    (["predict", "x", "--out", "o", "--model", ""], "--model"),
    (["report", "x", "--top", "-3"], "--top"),
])
def test_flags_that_make_no_sense_are_one_line_usage_errors(capsys, argv, flag):
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"argument {flag}" in err, err


def test_report_reads_a_folder_resumed_across_the_text_hash_column(tmp_path, outlets):
    pq = pytest.importorskip("pyarrow.parquet")
    from propscope.batch.report import build_report

    _, rows, _ = batch(tmp_path, str(outlets), "--part-size", "2")
    first = sorted((tmp_path / "out" / "articles").glob("part-*.parquet"))[-1]
    pq.write_table(pq.read_table(first).drop(["text_hash"]), first)  # as an older propscope
    assert build_report(tmp_path / "out")["overview"]["articles"] == len(rows) == 4


def test_one_error_record_shape_in_json_output_the_api_and_batch_rows(
        capsys, tmp_path, exploding_keywords):
    """``errors.error_record``: {id, code, message, input}, the same code for the same fault
    in the CLI's JSON output, the API's batch results and a batch run's error rows."""
    from fastapi.testclient import TestClient

    from propscope.predictors.keywords import KeywordPredictor
    from propscope.web import WebSettings, create_app

    feed = tmp_path / "in.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in (
        {"id": "ok", "text": GOOD}, {"id": "boom", "text": "BOOM radical"},
        {"id": "blank", "text": "   "})) + "\n")
    code, rows, _ = analyze(capsys, str(feed))
    cli_errors = {r["error"]["input"]: r["error"] for r in rows if "error" in r}
    assert code == 1 and set(cli_errors) == {f"{feed}:2", f"{feed}:3"}
    assert cli_errors[f"{feed}:2"]["id"] == "boom"
    assert all(set(e) == {"id", "code", "message", "input"} for e in cli_errors.values())

    _, brows, _ = batch(tmp_path, str(feed))
    assert brows["ok"]["error"] is None and brows["ok"]["error_code"] is None
    assert brows["boom"]["input"] == f"{feed}:2"
    assert brows["boom"]["error"] == cli_errors[f"{feed}:2"]["message"]

    client = TestClient(create_app(WebSettings(db=str(tmp_path / "w.db")),
                                   predictor=KeywordPredictor()))
    results = client.post("/api/v1/analyze/batch", json={"articles": [
        {"id": "ok", "text": GOOD}, {"id": "boom", "text": "BOOM radical"},
        {"id": "empty", "html": "<p>\u200b</p>"}]}).json()["results"]
    assert "error" not in results[0]
    assert results[1]["error"] == {"id": "boom", "code": "internal_error", "input": "articles.1",
                                   "message": results[1]["error"]["message"]}
    assert results[2]["error"]["id"] == "empty" and results[2]["error"]["input"] == "articles.2"
    assert (cli_errors[f"{feed}:2"]["code"], brows["boom"]["error_code"]) == (
        "internal_error", "internal_error")
    assert (cli_errors[f"{feed}:3"]["code"], brows["blank"]["error_code"],
            results[2]["error"]["code"]) == ("bad_input",) * 3


# ---------------------------------------------------------------- outputs that are inputs


def test_an_output_that_is_an_input_is_refused_before_any_work(capsys, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(GOOD)
    code, out, err = cli(capsys, "analyze", str(article), "--out", str(article),
                         "--model", "keywords")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "replace what is read" in err and str(article) in err
    assert article.read_text() == GOOD  # the article is still there
    link = tmp_path / "link.txt"
    link.symlink_to(article)  # the same file by another name
    code, _, err = cli(capsys, "analyze", str(tmp_path), "--out", str(link), "--model",
                       "keywords")
    assert code == 2 and article.read_text() == GOOD


def test_an_article_inside_an_input_folder_is_refused_but_a_result_file_there_is_not(
        capsys, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "article1.txt").write_text(GOOD)
    code, _, err = cli(capsys, "analyze", str(folder), "--out", str(folder / "article1.txt"),
                       "--model", "keywords")
    assert code == 2 and (folder / "article1.txt").read_text() == GOOD
    results = folder / "results.json"
    for _ in range(2):  # written, then written again over the earlier results
        code, _, err = cli(capsys, "analyze", str(folder), "--out", str(results), "--model",
                           "keywords", "--format", "json")
        assert code == 0, err
        assert json.loads(results.read_text())["article"]["id"] == "1"


def test_classify_refuses_to_write_over_its_spans_file(capsys, tmp_path):
    (tmp_path / "article1.txt").write_text(GOOD)
    spans = tmp_path / "spans.tsv"
    spans.write_text("1\t?\t4\t13\n")
    code, _, err = cli(capsys, "classify", str(tmp_path), str(spans), "--out", str(spans),
                       "--model", "keywords")
    assert code == 2 and "replace what is read" in err
    assert spans.read_text() == "1\t?\t4\t13\n"


def test_a_failed_write_leaves_the_earlier_output_whole(capsys, tmp_path, monkeypatch):
    from propscope.cli import common

    out = tmp_path / "out.json"
    out.write_text("earlier results\n")
    out.chmod(0o640)
    real_replace = os.replace

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, "replace", full_disk)
    with pytest.raises(Exception, match="No space left"):
        common.write_output("new results\n", str(out))
    assert out.read_text() == "earlier results\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left
    monkeypatch.setattr(common.os, "replace", real_replace)
    common.write_output("new results\n", str(out))
    assert out.read_text() == "new results\n"
    assert out.stat().st_mode & 0o777 == 0o640  # its permissions kept

"""Every command through the real argument parser; errors are one line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from propscope.cli.main import main

from .conftest import VECTORS

TEXT = "The so-called experts pushed a disastrous plan. Every patriot knows better.\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def article(tmp_path):
    p = tmp_path / "article42.txt"
    p.write_text(TEXT)
    return p


def test_analyze_json(capsys, article):
    code, out, _ = run(capsys, "analyze", str(article), "--format", "json", "--model", "keywords")
    assert code == 0
    data = json.loads(out)
    assert data["article"]["id"] == "42"
    for s in data["spans"]:
        assert TEXT[s["start"] : s["end"]] == s["text"]
    assert {s["technique"] for s in data["spans"]} >= {"Name_Calling,Labeling", "Flag-Waving"}
    # one line, two sentences, each with a span
    assert (data["summary"]["sentences"], data["summary"]["flagged_sentences"]) == (2, 2)


@pytest.mark.parametrize("fmt", ["text", "jsonl", "ptc", "html"])
def test_analyze_formats(capsys, article, fmt):
    code, out, _ = run(capsys, "analyze", str(article), "--format", fmt, "--model", "keywords")
    assert code == 0
    if fmt == "ptc":
        rows = [line.split("\t") for line in out.splitlines()]
        assert all(len(r) == 4 and r[0] == "42" for r in rows) and rows
    elif fmt == "html":
        assert out.startswith("<!doctype html>") and "<mark" in out
    elif fmt == "jsonl":
        assert json.loads(out.splitlines()[0])["article"]["id"] == "42"
    else:
        assert "so-called" in out and "Name_Calling,Labeling" in out


def test_analyze_threshold_and_techniques(capsys, article):
    _, out, _ = run(capsys, "analyze", str(article), "--format", "json", "--model", "keywords",
                    "--techniques", "Flag-Waving")
    assert {s["technique"] for s in json.loads(out)["spans"]} == {"Flag-Waving"}
    _, out, _ = run(capsys, "analyze", str(article), "--format", "json", "--model", "keywords",
                    "--threshold", "0.95")
    assert json.loads(out)["spans"] == []
    code, _, err = run(capsys, "analyze", str(article), "--model", "keywords",
                       "--techniques", "Bogus")
    assert code == 2 and "unknown technique 'Bogus'" in err


def test_analyze_html_report_escapes_article_text(capsys, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text('A disastrous <script>alert(1)</script> <img src=x onerror="alert(2)"> plan')
    _, out, _ = run(capsys, "analyze", str(p), "--format", "html", "--model", "keywords")
    assert "<script>alert" not in out and "<img src=x" not in out
    assert "&lt;script&gt;" in out


def test_analyze_bad_inputs_do_not_stop_the_others(capsys, tmp_path, article):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, out, err = run(capsys, "analyze", str(tmp_path / "missing.txt"), str(empty),
                         str(article), "--format", "jsonl", "--model", "keywords")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert [("error" in x) for x in lines] == [True, True, False]
    assert "no such file" in err and "empty" in err and "Traceback" not in err


def test_analyze_stdin_and_no_traceback_for_bad_model(tmp_path):
    cmd = [sys.executable, "-m", "propscope.cli.main", "analyze", "-", "--format", "json",
           "--model", "keywords"]
    done = subprocess.run(cmd, input=TEXT.encode(), capture_output=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["article"]["id"] == "stdin"
    (tmp_path / "m").mkdir()
    bad = subprocess.run(cmd[:-1] + [str(tmp_path / "m")], input=TEXT.encode(),
                         capture_output=True, timeout=120)
    assert bad.returncode == 2
    assert b"no manifest.json" in bad.stderr and b"Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_predict_and_classify(capsys, tmp_path, article):
    out_file = tmp_path / "pred.tsv"
    code, _, _ = run(capsys, "predict", str(article.parent), "--out", str(out_file),
                     "--model", "keywords")
    assert code == 0
    rows = [r.split("\t") for r in out_file.read_text().splitlines()]
    assert rows and all(r[0] == "42" and len(r) == 4 for r in rows)
    template = tmp_path / "tc.tsv"
    template.write_text("42\t?\t4\t13\n42\t?\t0\t3\n42\t?\t4\t13\n")
    tc_out = tmp_path / "tc-out.tsv"
    code, _, _ = run(capsys, "classify", str(article.parent), str(template), "--out",
                     str(tc_out), "--model", "keywords")
    assert code == 0
    got = [r.split("\t") for r in tc_out.read_text().splitlines()]
    assert [(r[2], r[3]) for r in got] == [("4", "13"), ("0", "3"), ("4", "13")]
    assert got[0][1] == "Name_Calling,Labeling" and got[2][1] != got[0][1]


def test_classify_rejects_spans_past_the_article(capsys, tmp_path, article):
    template = tmp_path / "tc.tsv"
    template.write_text("42\t?\t4\t9999\n")
    code, _, err = run(capsys, "classify", str(article.parent), str(template), "--out",
                       str(tmp_path / "o.tsv"), "--model", "keywords")
    assert code == 2 and "ends past" in err


def test_evaluate_prints_f1_last(capsys, ptc):
    code, out, _ = run(capsys, "evaluate", str(VECTORS / "pred-flc.tsv"),
                       str(VECTORS / "gold-tc.tsv"), "--measure", "flc", "--per-technique")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[-1] == "F1=0.461038" and lines[-3] == "P=0.470277"
    assert any(line.startswith("Doubt:") for line in lines)
    code, out, _ = run(capsys, "evaluate", str(VECTORS / "pred-tc.tsv"),
                       str(VECTORS / "gold-tc.tsv"), "--measure", "tc", "--json")
    assert json.loads(out)["f1"] == pytest.approx(0.681529, abs=1e-6)


def test_evaluate_slc_needs_articles(capsys, ptc):
    code, _, err = run(capsys, "evaluate", str(VECTORS / "pred-si.tsv"),
                       str(VECTORS / "gold-si.tsv"), "--measure", "slc")
    assert code == 2 and "--articles" in err


def test_techniques_lists_all(capsys):
    code, out, _ = run(capsys, "techniques", "--json")
    data = json.loads(out)
    assert code == 0 and len(data) == 14
    assert all(t["definition"] and t["example"] for t in data)


def test_profile_not_installed_is_a_clear_error(capsys, monkeypatch, tmp_path, article):
    from propscope import config, model_io

    monkeypatch.setitem(config.PROFILES, "accurate", tmp_path / "absent")
    monkeypatch.setattr(model_io, "_entry_points", lambda: [])  # no model package installed
    code, _, err = run(capsys, "analyze", str(article), "--profile", "accurate")
    assert code == 2 and "profile 'accurate' is not installed" in err
    assert "make accurate" in err


def test_evaluate_split_with_plots(capsys, ptc, tmp_path):
    code, out, err = run(capsys, "evaluate", "--data", str(ptc), "--split", "valid", "--model",
                         "keywords", "--plots", str(tmp_path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"si", "tc", "flc", "slc", "tc_confusion"}
    matrix = data["tc_confusion"]
    assert len(matrix) == 14 and sum(map(sum, matrix)) == 1413
    for name in ("tc_confusion.png", "per_technique_f1.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_record_writes_the_model_folders_figures(capsys, ptc, tmp_path, monkeypatch):
    """``--record`` puts the figures it prints into the folder's manifest and
    metrics_valid.json (the model is the keyword predictor standing in for the folder's)."""
    from propscope import model_io
    from propscope.predictors.keywords import KeywordPredictor

    from .conftest import single_model_dir

    folder = tmp_path / "model"
    folder.mkdir()
    manifest = json.loads((single_model_dir() / "manifest.json").read_text())
    manifest.pop("metrics_valid", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(model_io, "load_model", lambda name=None: KeywordPredictor())
    code, out, err = run(capsys, "evaluate", "--data", str(ptc), "--split", "valid",
                         "--model", str(folder), "--record", "--json")
    assert code == 0, err
    printed = {k: round(v["f1"], 6) for k, v in json.loads(out).items()
               if k in ("si", "tc", "flc", "slc")}
    stored = json.loads((folder / "manifest.json").read_text())
    assert stored["metrics_valid"] == printed and printed["tc"] > 0
    assert stored["techniques"] == manifest["techniques"]  # the rest is kept
    details = json.loads((folder / "metrics_valid.json").read_text())
    assert round(details["tc"]["f1"], 6) == printed["tc"]


@pytest.mark.parametrize("argv, message", [
    (["--split", "train", "--model", "FOLDER"], "needs --split valid, not 'train'"),
    (["--split", "valid", "--model", "keywords"], "needs --model FOLDER"),
])
def test_evaluate_record_refuses_in_one_line(capsys, ptc, tmp_path, argv, message):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    argv = [str(folder) if a == "FOLDER" else a for a in argv]
    code, out, err = run(capsys, "evaluate", "--data", str(ptc), *argv, "--record")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert json.loads((folder / "manifest.json").read_text()) == {}

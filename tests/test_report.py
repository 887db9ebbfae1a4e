"""``propscope report``: aggregates checked against a hand count; HTML self-contained, escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from propscope.batch import build_report, render_report_html, run_batch  # noqa: E402
from propscope.cli.main import main  # noqa: E402
from propscope.errors import PropscopeError  # noqa: E402

EVIL = '<script>alert("B")</script> & co'

# The keywords predictor marks: outrageous, radical (Loaded_Language), so-called, traitor
# (Name_Calling,Labeling), patriot (Flag-Waving), everyone knows (Bandwagon,...).
# A sentence is a non-empty line.
RECORDS = [
    # 9 words, 3 sentences, 2 flagged, 2 Loaded_Language
    {"id": "a1", "source": "A", "date": "2020-01-15",
     "text": "The outrageous plan failed.\nIt was OUTRAGEOUS today.\nCalm."},
    # 11 words, 3 sentences, 2 flagged, 2 Name_Calling
    {"id": "a2", "source": "A", "date": "2020-02-03",
     "text": "A so-called expert spoke.\nHe was a traitor.\nNothing else happened."},
    # 6 words, 2 sentences, 1 flagged, 1 Loaded_Language + 1 Flag-Waving
    {"id": "b1", "source": EVIL, "date": "2020-01-20",
     "text": "The radical patriot shouted.\nCalm returned."},
    # an error row of outlet B
    {"id": "b2", "source": EVIL, "date": "2020-01-21", "text": ""},
    # no outlet, no date: 4 words, 2 sentences, 1 flagged, 1 Bandwagon
    {"id": "c1", "text": "Everyone knows it.\nFine."},
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("report")
    src = d / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    run_batch([str(src)], d / "out", model="keywords", workers=0, part_size=2)
    return d / "out"


def test_numbers_match_a_hand_count(run_dir):
    r = build_report(run_dir, top=5)
    ov = r["overview"]
    assert (ov["articles"], ov["errors"], ov["analysed"]) == (5, 1, 4)
    assert (ov["words"], ov["sentences"], ov["flagged_sentences"], ov["spans"]) == (30, 10, 6, 7)
    assert ov["outlets"] == 3 and ov["dated"] == 3
    assert (ov["first_month"], ov["last_month"]) == ("2020-01", "2020-02")
    assert ov["spans_per_1k_words"] == pytest.approx(7 / 30 * 1000)
    assert ov["flagged_sentence_share"] == pytest.approx(0.6)

    out = {o["outlet"]: o for o in r["outlets"]}
    assert list(out) == ["A", "(unknown)", EVIL]  # most articles first, then by name
    a, b, u = out["A"], out[EVIL], out["(unknown)"]
    assert (a["articles"], a["errors"], a["words"], a["spans"]) == (2, 0, 20, 4)
    assert a["spans_per_1k_words"] == pytest.approx(200.0)
    assert a["flagged_sentence_share"] == pytest.approx(4 / 6)
    assert a["techniques"]["Loaded_Language"] == {"count": 2, "per_1k_words": 100.0}
    assert a["techniques"]["Name_Calling,Labeling"]["per_1k_words"] == pytest.approx(100.0)
    assert a["techniques"]["Flag-Waving"]["count"] == 0
    assert (b["articles"], b["errors"], b["words"], b["spans"]) == (1, 1, 6, 2)
    assert b["spans_per_1k_words"] == pytest.approx(2 / 6 * 1000)
    assert b["flagged_sentence_share"] == pytest.approx(0.5)
    assert b["techniques"]["Flag-Waving"]["per_1k_words"] == pytest.approx(1000 / 6)
    assert (u["articles"], u["words"], u["spans"]) == (1, 4, 1)
    assert u["techniques"]["Bandwagon,Reductio_ad_hitlerum"]["per_1k_words"] == 250.0

    months = {(m["month"], m["outlet"]): m for m in r["by_month"]}
    assert set(months) == {("2020-01", "A"), ("2020-01", EVIL), ("2020-02", "A")}
    assert months[("2020-01", "A")]["spans_per_1k_words"] == pytest.approx(2 / 9 * 1000)
    assert months[("2020-02", "A")]["flagged_sentence_share"] == pytest.approx(2 / 3)
    assert months[("2020-01", EVIL)]["articles"] == 1  # the error row is not counted

    assert r["top_phrases"]["Loaded_Language"] == [
        {"phrase": "outrageous", "count": 2, "outlets": 1},
        {"phrase": "radical", "count": 1, "outlets": 1}]
    assert [p["phrase"] for p in r["top_phrases"]["Name_Calling,Labeling"]] == [
        "so-called", "traitor"]
    assert r["top_phrases"]["Bandwagon,Reductio_ad_hitlerum"][0]["phrase"] == "everyone knows"
    assert r["techniques"]["Loaded_Language"]["count"] == 3
    assert len(r["errors"]) == 1 and r["errors"][0]["count"] == 1
    assert "empty" in r["errors"][0]["problem"]
    assert not r["errors"][0]["problem"].startswith(r["errors"][0]["example"])
    assert r["model"]["name"] == "keywords" and r["threshold"] is None


def test_html_is_self_contained_and_escaped(run_dir):
    page = render_report_html(build_report(run_dir))
    assert page.count("data:image/png;base64,") >= 3  # outlets, sentences, months
    assert '<table class="sortable">' in page and "<script>" in page
    assert EVIL not in page and "alert" in page
    assert "&lt;script&gt;alert(&quot;B&quot;)&lt;/script&gt; &amp; co" in page
    # nothing is fetched from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "keywords" in page and "per 1,000 words" in page and "threshold" in page
    # exactly one script element: ours
    assert page.count("<script>") == 1


def test_cli_writes_html_and_json(run_dir, tmp_path, capsys):
    html_out, json_out = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["report", str(run_dir), "--out", str(html_out)]) == 0
    assert html_out.read_text().startswith("<!doctype html>")
    assert main(["report", str(run_dir), "--format", "json", "--out", str(json_out)]) == 0
    data = json.loads(json_out.read_text())
    assert data["overview"]["spans"] == 7
    capsys.readouterr()
    assert main(["report", str(run_dir), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["overview"]["analysed"] == 4


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(PropscopeError, match="no batch output"):
        build_report(tmp_path)


def test_orphan_spans_of_a_killed_part_are_ignored(run_dir, tmp_path):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(run_dir, d)
    victim = sorted((d / "articles").glob("part-*.parquet"))[0]
    victim.unlink()  # its spans file stays, as after a kill between the two renames
    r = build_report(d)
    assert r["overview"]["spans"] == sum(o["spans"] for o in r["outlets"])
    assert sum(t["count"] for t in r["techniques"].values()) == r["overview"]["spans"]


# ---------------------------------------------------------------- --outlet-from

def outlets_of(out: Path) -> dict[str, str | None]:
    import pyarrow.parquet as pq

    rows = [r for p in sorted((out / "articles").glob("part-*.parquet"))
            for r in pq.read_table(p, columns=["id", "source"]).to_pylist()]
    return {r["id"]: r["source"] for r in rows}


FEEDS = [
    {"id": "f1", "text": "A calm report.", "url": "https://www.foxnews.com/politics/x",
     "publisher": "Fox", "source": "feed"},
    {"id": "f2", "text": "Another calm report.", "url": "edition.cnn.com/y",
     "publisher": "CNN", "source": "feed"},
    {"id": "f3", "text": "No url, no publisher.", "source": "feed"},
    {"id": "f4", "text": "", "url": "https://bbc.co.uk/z", "publisher": "BBC"},  # error row
]


@pytest.fixture(scope="module")
def feeds(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("feeds") / "wire"
    d.mkdir()
    (d / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in FEEDS) + "\n")
    return d / "feed.jsonl"


@pytest.mark.parametrize("how, expected", [
    (None, {"f1": "feed", "f2": "feed", "f3": "feed", "f4": "misc"}),
    ("domain", {"f1": "foxnews.com", "f2": "edition.cnn.com", "f3": "misc", "f4": "bbc.co.uk"}),
    ("field:publisher", {"f1": "Fox", "f2": "CNN", "f3": "misc", "f4": "BBC"}),
    ("folder", {"f1": "wire", "f2": "wire", "f3": "wire", "f4": "wire"}),
])
def test_outlet_from_jsonl(feeds, tmp_path, how, expected):
    out = tmp_path / "out"
    run_batch([str(feeds)], out, model="keywords", workers=0, source="misc", outlet_from=how)
    assert outlets_of(out) == expected


def test_outlet_from_a_parquet_and_csv_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": r["id"], "text": r["text"], "publisher": r.get("publisher")}
            for r in FEEDS]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    (tmp_path / "t.csv").write_text("id,text,publisher\nc1,Calm words here.,Reuters\n")
    out = tmp_path / "out"
    run_batch([str(tmp_path / "t.parquet"), str(tmp_path / "t.csv")], out, model="keywords",
              workers=0, outlet_from="field:publisher")
    assert outlets_of(out) == {"f1": "Fox", "f2": "CNN", "f3": None, "f4": "BBC",
                               "c1": "Reuters"}


def test_outlet_from_folder_for_files(tmp_path):
    for outlet in ("foxnews", "cnn"):
        (tmp_path / "in" / outlet).mkdir(parents=True)
        (tmp_path / "in" / outlet / "a.txt").write_text(f"A calm {outlet} report.\n")
    out = tmp_path / "out"
    run_batch([str(tmp_path / "in")], out, model="keywords", workers=0, outlet_from="folder")
    assert outlets_of(out) == {"foxnews/a": "foxnews", "cnn/a": "cnn"}


def test_outlet_from_is_checked_and_kept_for_resuming(feeds, tmp_path, capsys):
    assert main(["batch", str(feeds), "--out", str(tmp_path / "x"),
                 "--outlet-from", "banana"]) == 2
    assert "--outlet-from: must be folder, domain or field:NAME" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["batch", str(feeds), "--out", str(out), "--model", "keywords",
                 "--workers", "0", "--outlet-from", "domain", "-q"]) == 0
    with pytest.raises(PropscopeError, match="outlet_from"):
        run_batch([str(feeds)], out, model="keywords", workers=0)

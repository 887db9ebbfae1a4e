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
# Sentences are found inside lines (here one per line).
RECORDS = [
    # 9 words, 3 sentences, 2 flagged, 2 Loaded_Language
    {"id": "a1", "source": "A", "date": "2020-01-15", "title": "Plan fails",
     "text": "The outrageous plan failed.\nIt was OUTRAGEOUS today.\nCalm."},
    # 11 words, 3 sentences, 2 flagged, 2 Name_Calling
    {"id": "a2", "source": "A", "date": "2020-02-03",
     "text": "A so-called expert spoke.\nHe was a traitor.\nNothing else happened."},
    # 6 words, 2 sentences, 1 flagged, 1 Loaded_Language + 1 Flag-Waving
    {"id": "b1", "source": EVIL, "date": "2020-01-20", "title": EVIL,
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
        {"phrase": "outrageous", "count": 2, "outlets": 1,  # shown at its first occurrence
         "example": {"article_id": "a1", "before": "The ", "match": "outrageous",
                     "after": " plan failed."}},
        {"phrase": "radical", "count": 1, "outlets": 1,
         "example": {"article_id": "b1", "before": "The ", "match": "radical",
                     "after": " patriot shouted."}}]
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
    # charts are HTML bars and inline SVG (their text stays readable on a phone), no images
    assert page.count('<figure class="chart">') == 3  # techniques, sentences, months
    assert "<svg" in page and "<img" not in page
    assert "width=device-width" in page and "@media (max-width:600px)" in page
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


# ---------------------------------------------------------------- articles, phrases, warnings

def test_article_table_matches_a_hand_count(run_dir):
    rows = build_report(run_dir)["articles"]
    # most flagged first: share of sentences flagged, then spans, then id; no error rows
    assert [r["id"] for r in rows] == ["a1", "a2", "b1", "c1"]
    a1, a2, b1, c1 = rows
    assert (a1["outlet"], a1["date"], a1["title"]) == ("A", "2020-01-15", "Plan fails")
    assert (a1["sentences"], a1["flagged_sentences"], a1["spans"]) == (3, 2, 2)
    assert a1["flagged_share"] == pytest.approx(2 / 3)
    assert a1["propaganda_share"] == pytest.approx(20 / len(RECORDS[0]["text"]))
    assert a1["top_techniques"] == [{"technique": "Loaded_Language", "count": 2}]
    assert a2["top_techniques"] == [{"technique": "Name_Calling,Labeling", "count": 2}]
    assert (b1["outlet"], b1["title"], b1["flagged_share"]) == (EVIL, EVIL, 0.5)
    assert b1["top_techniques"] == [{"technique": "Flag-Waving", "count": 1},  # ties by name
                                    {"technique": "Loaded_Language", "count": 1}]
    assert (c1["outlet"], c1["date"], c1["spans"]) == ("(unknown)", None, 1)
    assert [r["id"] for r in build_report(run_dir, articles=2)["articles"]] == ["a1", "a2"]


def test_cli_writes_a_highlighted_page_per_article(run_dir, tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    pages = sorted((tmp_path / "r_articles").glob("*.html"))
    assert len(pages) == 4
    page = out.read_text()
    links = re.findall(r'<a href="(r_articles/[^"]+)">', page)
    assert {(tmp_path / link).name for link in links} == {p.name for p in pages}
    a1 = next(p for p in pages if p.name.startswith("a1-")).read_text()
    assert "<mark " in a1 and ">outrageous</mark>" in a1 and ">OUTRAGEOUS</mark>" in a1
    assert 'href="../r.html"' in a1 and "2 of 3 sentences flagged" in a1
    b1 = next(p for p in pages if p.name.startswith("b1-")).read_text()
    assert EVIL not in b1 and "&lt;script&gt;" in b1
    # to stdout there is nowhere to put pages: the table has no links
    assert "r_articles/" not in render_report_html(build_report(run_dir))


def fake_spans(rows: list[tuple[str, str]]):
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE spans (technique VARCHAR, text VARCHAR, outlet VARCHAR, "
                'article_id VARCHAR, start BIGINT, "end" BIGINT)')
    for k, (tech, text) in enumerate(rows):
        con.execute("INSERT INTO spans VALUES (?, ?, 'X', 'a', ?, ?)",
                    [tech, text, k, k + len(text)])
    return con


def test_top_phrases_are_never_function_words():
    from propscope.batch.report_articles import clean_phrases, top_phrases

    t = "Appeal_to_fear-prejudice"
    con = fake_spans([(t, "if")] * 5 + [(t, "If ")] * 2 + [(t, "It's")] * 3 + [(t, "the")] * 3
                     + [(t, "and , the")] * 2 + [(t, "—")] * 2 + [(t, "über")] * 2
                     + [(t, "so-called")] + [(t, "if they win")])
    got = clean_phrases(top_phrases(con, 10))
    assert [(p["phrase"], p["count"]) for p in got] == [
        ("über", 2), ("if they win", 1), ("so-called", 1)]


def test_context_is_cut_at_words_within_the_line():
    from propscope.batch.report_articles import context

    text = "First line.\nSome words before the  loaded phrase and\twords after it end.\nNext."
    a = text.index("loaded phrase")
    got = context(text, a, a + len("loaded phrase"), width=12)
    assert got == {"before": "…before the ", "match": "loaded phrase", "after": " and words…"}
    whole = context(text, a, a + len("loaded phrase"), width=200)
    assert whole["before"] == "Some words before the " and whole["after"].endswith("end.")


def test_a_single_outlet_is_warned_about(tmp_path):
    (tmp_path / "news").mkdir()
    for k in range(3):
        (tmp_path / "news" / f"{k}.txt").write_text(f"The outrageous story {k}.\n")
    run_batch([str(tmp_path / "news")], tmp_path / "one", model="keywords", workers=0)
    data = build_report(tmp_path / "one")
    assert len(data["warnings"]) == 1
    assert '"news"' in data["warnings"][0] and "--outlet-from" in data["warnings"][0]
    assert "class='warn'" in render_report_html(data)


def test_no_warning_for_several_outlets(run_dir):
    assert build_report(run_dir)["warnings"] == []


def test_heat_colours_scale_with_the_value():
    from propscope.batch.report_charts import heat

    def lightness(style: str) -> float:
        return float(re.search(r"hsl\(\d+,\d+%,(\d+)%\)", style).group(1))

    shades = [lightness(heat(v, 8.0)) for v in (0, 2, 4, 6, 8, 16)]
    assert shades[0] > shades[1] > shades[2] > shades[3] > shades[4] == shades[5]
    steps = [a - b for a, b in zip(shades, shades[1:4], strict=False)]
    assert max(steps) - min(steps) <= 1  # equal steps for equal differences (rounding)
    assert heat(3, 0) == heat(0, 8)


def test_side_by_side_uses_one_scale_for_the_table(run_dir):
    page = render_report_html(build_report(run_dir))
    part = page[page.index("Outlets side by side"):page.index("<h2>By month")]
    cells = re.findall(r'data-v="([\d.e+-]+)" style="background:hsl\(24,85%,(\d+)%\)', part)
    by_value = sorted({(float(v), int(light)) for v, light in cells})
    lights = [light for _, light in by_value]
    assert lights == sorted(lights, reverse=True) and len(set(lights)) >= 3
    assert by_value[-1][1] == 40  # the largest value anywhere gets the darkest shade


def test_a_folder_without_article_text_still_reports(run_dir, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    d = tmp_path / "old"
    shutil.copytree(run_dir, d)
    for p in (d / "articles").glob("part-*.parquet"):
        t = pq.read_table(p)
        pq.write_table(t.drop(["text"]), p)  # as written before propscope kept the text
    data = build_report(d)
    assert not data["text_kept"] and len(data["articles"]) == 4
    assert all(p["example"] is None for ps in data["top_phrases"].values() for p in ps)
    out = tmp_path / "r.html"
    assert main(["report", str(d), "--out", str(out)]) == 0
    assert "before propscope kept article text" in out.read_text()

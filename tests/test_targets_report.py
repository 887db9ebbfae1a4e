"""Voices and targets in batch output (the Parquet ``spans`` table) and in ``propscope
report`` (author's-voice share per outlet, top targets, entities several outlets target),
checked against a hand count. Targets need spaCy: skipped without it, except under CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from propscope.batch import build_report, render_report_html, run_batch  # noqa: E402

from .conftest import needs_spacy  # noqa: E402

pytestmark = needs_spacy()

# keywords model: traitor, so-called (Name calling), outrageous (Loaded language), patriot
# (Flag-waving, not a targeting technique)
RECORDS = [
    # traitor: author -> Tom Reed; traitor: quoted (Anna Berg) -> Bob Smith
    {"id": "a1", "source": "A",
     "text": "Senator Tom Reed is a traitor.\n“Bob Smith is a traitor,” said Anna Berg."},
    # outrageous: author -> Tom Reed
    {"id": "a2", "source": "A", "text": "The outrageous Tom Reed lied again."},
    # so-called: author -> Tom Reed; patriot: attributed (Anna Berg), no targets looked for
    {"id": "b1", "source": "B",
     "text": "Tom Reed, a so-called expert, spoke.\nA patriot cheered, Anna Berg said."},
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("targets")
    src = d / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n",
                   encoding="utf-8")
    run_batch([str(src)], d / "out", model="keywords", workers=0, part_size=2)
    return d / "out"


def test_spans_table_has_voice_speaker_and_targets(run_dir):
    import pyarrow.parquet as pq

    rows = pq.read_table(run_dir / "spans").to_pylist()
    by = {(r["article_id"], r["text"], r["voice"]): r for r in rows}
    assert len(rows) == 5
    quoted = by[("a1", "traitor", "quoted")]
    assert quoted["speaker"] == "Anna Berg"
    assert [(t["entity"], t["type"]) for t in quoted["targets"]] == [("Bob Smith", "person")]
    text = RECORDS[0]["text"]
    t = quoted["targets"][0]
    assert text[t["start"]:t["end"]] == t["text"] == "Bob Smith"
    assert [t["entity"] for t in by[("a1", "traitor", "author")]["targets"]] == ["Tom Reed"]
    patriot = by[("b1", "patriot", "attributed")]
    assert patriot["speaker"] == "Anna Berg" and patriot["targets"] is None


def test_voices_and_targets_match_a_hand_count(run_dir):
    r = build_report(run_dir, top=5)
    out = {o["outlet"]: o for o in r["outlets"]}
    assert out["A"]["voices"] == {"author": 2, "quoted": 1, "attributed": 0,
                                  "author_share": pytest.approx(2 / 3)}
    assert out["B"]["voices"] == {"author": 1, "quoted": 0, "attributed": 1,
                                  "author_share": 0.5}
    assert r["top_targets"]["A"] == [
        {"entity": "Tom Reed", "type": "person", "spans": 2, "articles": 2,
         "techniques": {"Name_Calling,Labeling": 1, "Loaded_Language": 1}},
        {"entity": "Bob Smith", "type": "person", "spans": 1, "articles": 1,
         "techniques": {"Name_Calling,Labeling": 1}},
    ]
    assert r["top_targets"]["B"] == [
        {"entity": "Tom Reed", "type": "person", "spans": 1, "articles": 1,
         "techniques": {"Name_Calling,Labeling": 1}}]
    assert r["shared_targets"] == [{"entity": "Tom Reed", "type": "person",
                                    "outlets": {"A": 2, "B": 1}, "spans": 3}]
    assert build_report(run_dir, top=1)["top_targets"]["A"][0]["entity"] == "Tom Reed"
    assert len(build_report(run_dir, top=1)["top_targets"]["A"]) == 1


def test_html_report_shows_voices_and_targets(run_dir):
    page = render_report_html(build_report(run_dir))
    assert "Whose voice, and who is targeted" in page
    assert "Targeted by several outlets" in page
    assert '<td data-v="Tom Reed">Tom Reed</td>' in page
    assert '">66.7</td>' in page and '">50.0</td>' in page  # A: 2 of 3; B: 1 of 2


def test_folders_written_before_voices_still_report(run_dir, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    for p in (old / "spans").glob("part-*.parquet"):
        t = pq.read_table(p)
        pq.write_table(t.drop(["voice", "speaker", "targets"]), p)
    r = build_report(old)
    assert r["top_targets"] == {} and r["shared_targets"] == []
    assert all(o["voices"] is None for o in r["outlets"])
    assert "Whose voice" not in render_report_html(r)

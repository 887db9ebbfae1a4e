"""Corpus reading and writing: round trips and malformed labels."""

from __future__ import annotations

import pytest

from propscope.corpus import (
    Corpus,
    check_labels,
    format_labels,
    labels_rows,
    load_labelled,
    load_split,
    merge_corpora,
    parse_labels,
    read_articles,
)
from propscope.errors import InputError, LabelError
from propscope.spans import Article, Span


def test_parse_and_format_round_trip():
    text = "1\tDoubt\t3\t9\n1\tSlogans\t0\t4\n2\tLoaded_Language\t5\t7\n"
    labels = parse_labels(text)
    again = parse_labels(format_labels(labels_rows(labels)))
    assert again == {k: sorted(v) for k, v in labels.items()}


def test_three_columns_and_question_mark():
    labels = parse_labels("7\t1\t5\n7\t?\t2\t9\n")
    assert labels["7"] == [Span(1, 5), Span(2, 9)]
    assert format_labels(labels_rows(labels), with_technique=False) == "7\t1\t5\n7\t2\t9\n"


@pytest.mark.parametrize("line,msg", [
    ("1\tNot_A_Technique\t0\t4", "unknown technique"),
    ("1\tDoubt\tx\t4", "integers"),
    ("1\tDoubt\t5\t4", "empty or negative"),
    ("1\t2", "columns"),
])
def test_malformed_labels(line, msg):
    with pytest.raises(LabelError, match=msg):
        parse_labels("1\tDoubt\t0\t4\n" + line + "\n", where="x.tsv")


def test_offsets_outside_article():
    arts = {"1": Article("1", "short")}
    with pytest.raises(LabelError, match="ends past"):
        check_labels({"1": [Span(0, 50)]}, arts)
    with pytest.raises(LabelError, match="no article text"):
        check_labels({"2": [Span(0, 1)]}, arts)


def test_load_split_counts(ptc):
    valid = load_split(ptc, "valid")
    assert len(valid.articles) == 88
    assert sum(len(v) for v in valid.gold.values()) == 1413
    a = next(iter(valid.articles.values()))
    for s in valid.gold[a.id]:
        assert s.end <= len(a.text)


def test_unknown_split_and_missing_folder(ptc, tmp_path):
    with pytest.raises(InputError, match="unknown split"):
        load_split(ptc, "test")
    with pytest.raises(InputError, match="no such folder"):
        read_articles(tmp_path / "missing")


def test_load_labelled_folder_with_teacher_labels(tmp_path):
    """Self-training data: every article is kept, one the labels do not name has no spans."""
    (tmp_path / "article1.txt").write_text("A disgraceful and evil plan.")
    (tmp_path / "article2.txt").write_text("Rain is expected tomorrow.")
    (tmp_path / "t.labels").write_text("1\tLoaded_Language\t2\t13\n")
    c = load_labelled(tmp_path, tmp_path / "t.labels")
    assert set(c.articles) == {"1", "2"}
    assert c.gold == {"1": [Span(2, 13, "Loaded_Language")], "2": []}
    (tmp_path / "bad.labels").write_text("1\tLoaded_Language\t2\t99\n")
    with pytest.raises(LabelError, match="ends past"):
        load_labelled(tmp_path, tmp_path / "bad.labels")
    merged = merge_corpora(c, Corpus({"3": Article("3", "x")}, {"3": []}))
    assert list(merged.articles) == ["1", "2", "3"] and merged.gold["3"] == []
    with pytest.raises(InputError, match="article 1 is in both"):
        merge_corpora(c, c)

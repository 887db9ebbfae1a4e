"""The four measures against the scorer test vectors (EXPECTED.md) and by hand."""

from __future__ import annotations

import re

import pytest

from propscope import metrics
from propscope.corpus import read_articles, read_labels
from propscope.spans import Span

from .conftest import VECTORS


def expected() -> dict[str, tuple[float, float, float]]:
    out = {}
    for line in (VECTORS / "EXPECTED.md").read_text().splitlines():
        m = re.match(r"\|\s*(\S+) vs (\S+?)(?:,.*)?\s*\|\s*(\w+).*?\|\s*([\d.]+)\s*\|"
                     r"\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", line)
        if m:
            out[m.group(3).lower()] = tuple(float(m.group(k)) for k in (4, 5, 6))
    return out


@pytest.fixture(scope="module")
def vectors(ptc):
    arts = read_articles(ptc / "train-articles")
    return {
        "gold_si": read_labels(VECTORS / "gold-si.tsv"),
        "gold_tc": read_labels(VECTORS / "gold-tc.tsv"),
        "pred_si": read_labels(VECTORS / "pred-si.tsv"),
        "pred_tc": read_labels(VECTORS / "pred-tc.tsv"),
        "pred_flc": read_labels(VECTORS / "pred-flc.tsv"),
        "texts": {aid: a.text for aid, a in arts.items()},
    }


def check(score: metrics.Score, want: tuple[float, float, float]) -> None:
    o = score.overall
    assert (o.precision, o.recall, o.f1) == pytest.approx(want, abs=1e-6)


def test_expected_table_parsed(ptc):
    assert set(expected()) == {"si", "tc", "flc", "slc"}


def test_si_matches_reference(vectors):
    check(metrics.si_score(vectors["pred_si"], vectors["gold_si"]), expected()["si"])


def test_tc_matches_reference(vectors):
    check(metrics.tc_score(vectors["pred_tc"], vectors["gold_tc"]), expected()["tc"])


def test_flc_matches_reference(vectors):
    check(metrics.flc_score(vectors["pred_flc"], vectors["gold_tc"]), expected()["flc"])


def test_slc_matches_reference(vectors):
    check(metrics.slc_score(vectors["pred_si"], vectors["gold_si"], vectors["texts"]),
          expected()["slc"])


def test_si_partial_overlap_by_hand():
    gold = {"a": [Span(0, 10)]}
    pred = {"a": [Span(5, 15)], "b": [Span(0, 4)]}
    s = metrics.si_score(pred, gold).overall
    assert s.precision == pytest.approx((5 / 10 + 0) / 2)
    assert s.recall == pytest.approx(5 / 10)


def test_si_merges_overlapping_spans_on_each_side():
    gold = {"a": [Span(0, 10), Span(5, 20)]}  # one merged span [0, 20)
    pred = {"a": [Span(0, 20)]}
    s = metrics.si_score(pred, gold).overall
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_flc_needs_matching_technique():
    gold = {"a": [Span(0, 10, "Doubt")]}
    assert metrics.flc_score({"a": [Span(0, 10, "Slogans")]}, gold).overall.f1 == 0.0
    assert metrics.flc_score({"a": [Span(0, 10, "Doubt")]}, gold).overall.f1 == 1.0


def test_tc_pairs_equal_labels_on_shared_spans():
    gold = {"a": [Span(0, 5, "Doubt"), Span(0, 5, "Slogans")]}
    pred = {"a": [Span(0, 5, "Slogans"), Span(0, 5, "Doubt")]}
    assert metrics.tc_score(pred, gold).overall.f1 == 1.0
    pred2 = {"a": [Span(0, 5, "Slogans"), Span(0, 5, "Slogans")]}
    assert metrics.tc_score(pred2, gold).overall.f1 == 0.5


def test_slc_lines_are_sentences():
    text = "one line\n\nsecond line\nthird"
    gold = {"a": [Span(0, 3)]}
    pred = {"a": [Span(0, 3), Span(10, 12)]}
    s = metrics.slc_score(pred, gold, {"a": text}).overall
    assert s.precision == 0.5 and s.recall == 1.0
    assert metrics.sentences(text) == [(0, 8), (10, 21), (22, 27)]


def test_confusion_counts_rows_by_gold():
    gold = {"a": [Span(0, 5, "Doubt"), Span(6, 9, "Slogans")]}
    pred = {"a": [Span(0, 5, "Doubt"), Span(6, 9, "Doubt")]}
    m = metrics.confusion(pred, gold, ["Doubt", "Slogans"])
    assert m == [[1, 0], [1, 0]]

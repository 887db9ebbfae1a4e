"""The Python API: analyze() on texts and Articles, results, summaries, classify_spans."""

from __future__ import annotations

import pytest

import propscope
from propscope.core import classify_spans
from propscope.errors import InputError
from propscope.predictors.keywords import KeywordPredictor

TEXT = "Title line\n\nThe outrageous plan failed.\nNothing to see here.\nA true patriot wins.\n"


@pytest.fixture
def kw():
    return KeywordPredictor()


def test_analyze_one_text(kw):
    r = propscope.analyze(TEXT, predictor=kw)
    assert isinstance(r, propscope.Result)
    assert [(s.technique, r.text[s.start : s.end]) for s in r.spans] == [
        ("Loaded_Language", "outrageous"), ("Flag-Waving", "patriot")]
    assert [s.flagged for s in r.sentences] == [False, True, False, True]
    summary = r.summary()
    assert summary["spans"] == 2 and summary["flagged_sentences"] == 2
    assert summary["techniques"]["Loaded_Language"]["count"] == 1
    assert summary["techniques"]["Loaded_Language"]["share"] == pytest.approx(10 / len(TEXT))


def test_analyze_many_and_articles(kw):
    arts = [propscope.Article("a", TEXT, source="X"), "so-called experts"]
    results = propscope.analyze(arts, predictor=kw)
    assert [r.article.id for r in results] == ["a", "1"]
    d = results[0].to_dict()
    assert d["article"]["source"] == "X" and d["spans"][0]["text"] == "outrageous"


def test_threshold_and_techniques_filter(kw):
    r = propscope.analyze(TEXT, predictor=kw, techniques=["Flag-Waving"])
    assert {s.technique for s in r.spans} == {"Flag-Waving"}
    r = propscope.analyze(TEXT, predictor=kw, threshold=0.8)
    assert [s.technique for s in r.spans] == ["Loaded_Language"]  # the longer match scores 0.9


def test_empty_text_is_refused(kw):
    with pytest.raises(InputError, match="empty"):
        propscope.analyze("   ", predictor=kw)


def test_non_english_is_flagged_not_refused(kw):
    r = propscope.analyze("Le conseil municipal a voté pour le plan de stationnement de la "
                          "ville, que les commerçants jugent désastreux.", predictor=kw)
    assert r.warnings and "English" in r.warnings[0]


def test_segments_cover_text_and_stack_overlaps():
    r = propscope.core.build_result(
        propscope.Article("x", "abcdefghij"),
        [propscope.Span(0, 6, "Doubt"), propscope.Span(3, 8, "Slogans")], KeywordPredictor())
    segs = r.segments()
    assert "".join(r.text[a:b] for a, b, _ in segs) == r.text
    assert [len(c) for _, _, c in segs] == [1, 2, 1, 0]


def test_classify_spans_gives_distinct_labels_for_shared_spans(kw):
    spans = [propscope.Span(12, 22), propscope.Span(12, 22), propscope.Span(0, 5)]
    out = classify_spans(kw, TEXT, spans)
    assert out[0].technique == "Loaded_Language" and out[1].technique != "Loaded_Language"
    assert [(s.start, s.end) for s in out] == [(12, 22), (12, 22), (0, 5)]


def test_result_round_trips_through_its_dict():
    import propscope
    from propscope.core import Result

    text = "They are traitors and liars. The weather is fine today."
    result = propscope.analyze(text, model="keywords")
    back = Result.from_dict(result.to_dict())
    assert back.to_dict() == result.to_dict()
    assert back.spans and back.spans == result.spans

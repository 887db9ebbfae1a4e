"""The reader operating point: filters, label cap, fragment merge, calibration, modes."""

import numpy as np
import pytest

from propscope import analyze
from propscope.errors import InputError
from propscope.model_io import load_model
from propscope.reader import (
    Calibration,
    ReaderConfig,
    cap_labels,
    merge_fragments,
    reader_spans,
    trim,
)
from propscope.spans import Span
from propscope.training.calibration_fit import (
    expected_calibration_error,
    fit_calibration,
    isotonic,
    span_hits,
)
from propscope.words import is_function_words, span_key

TEXT = "They said that the corrupt elite, and the media, lie to us."


def at(text: str, phrase: str, technique: str = "Loaded_Language", score: float = 0.7) -> Span:
    k = text.index(phrase)
    return Span(k, k + len(phrase), technique, score)


def test_function_word_spans_are_dropped():
    for phrase in ("that the", "if", "and", "It's", " , the"):
        text = f"Well {phrase} now"
        assert trim(text, at(text, phrase)) is None
    assert is_function_words("because it's the")
    assert not is_function_words("corrupt")


def test_trim_drops_punctuation_and_dangling_words():
    s = trim(TEXT, at(TEXT, "the corrupt elite, and"))
    assert TEXT[s.start : s.end] == "corrupt elite"
    s = trim(TEXT, at(TEXT, " lie to"))
    assert TEXT[s.start : s.end] == "lie"
    quoted = 'He called it "a total disaster" today.'
    s = trim(quoted, at(quoted, '"a total disaster'))
    assert quoted[s.start : s.end] == 'total disaster"' or quoted[s.start : s.end] == (
        "total disaster")


def test_fragments_of_one_passage_merge_but_not_across_words_or_lines():
    text = "a corrupt, rotten elite\nrotten again"
    parts = [at(text, "corrupt", score=0.6), at(text, "rotten elite", score=0.8)]
    merged = merge_fragments(text, parts, gap=3)
    assert merged == [Span(2, 23, "Loaded_Language", 0.8)]
    other = [at(text, "corrupt"), at(text, "elite", "Name_Calling,Labeling")]
    assert len(merge_fragments(text, other, gap=3)) == 2  # another technique
    apart = [Span(2, 9, "Loaded_Language", 0.5), Span(11, 17, "Loaded_Language", 0.5)]
    assert len(merge_fragments("a corrupt, rotten", apart, 3)) == 1
    lines = [at(text, "rotten elite"), Span(24, 30, "Loaded_Language", 0.5)]
    assert len(merge_fragments(text, lines, gap=3)) == 2  # a line break between


def test_at_most_two_labels_a_passage_unless_confident():
    spans = [Span(0, 10, t, p) for t, p in (("Loaded_Language", 0.6), ("Doubt", 0.5),
                                            ("Slogans", 0.4), ("Flag-Waving", 0.3))]
    kept = cap_labels(spans, 2, 0.8)
    assert {s.technique for s in kept} == {"Loaded_Language", "Doubt"}
    spans.append(Span(2, 8, "Repetition", 0.9))
    assert {s.technique for s in cap_labels(spans, 2, 0.8)} == {
        "Repetition", "Loaded_Language"}
    sure = [Span(0, 10, t, 0.85) for t in ("Doubt", "Slogans", "Flag-Waving")]
    assert len(cap_labels(sure, 2, 0.8)) == 3


def test_isotonic_calibration_on_a_toy_example():
    rng = np.random.default_rng(0)
    x = rng.random(4000)
    y = (rng.random(4000) < x**2).astype(float)  # the true chance is score squared
    xs, ys = isotonic(x, y)
    assert xs == sorted(xs) and ys == sorted(ys)
    cal = Calibration(default=(xs, ys))
    for score in (0.2, 0.5, 0.9):
        assert cal("Doubt", score) == pytest.approx(score**2, abs=0.07)
    p = np.array([cal(None, v) for v in x])
    assert expected_calibration_error(p, y)[0] < 0.03 < expected_calibration_error(x, y)[0]


def test_calibration_per_technique_where_there_is_data():
    rng = np.random.default_rng(1)
    scores = {"Doubt": rng.random(500), "Slogans": rng.random(8)}
    hits = {"Doubt": (rng.random(500) < 0.2).astype(float), "Slogans": np.ones(8)}
    cal = fit_calibration(scores, hits)
    assert "Doubt" in cal.maps and "Slogans" not in cal.maps and cal.default
    back = Calibration.from_dict(cal.to_dict())
    assert back("Slogans", 0.5) == pytest.approx(cal("Slogans", 0.5))


def test_span_hits_need_most_of_the_span_with_the_same_technique():
    gold = [Span(0, 10, "Doubt")]
    pred = [Span(0, 8, "Doubt"), Span(5, 20, "Doubt"), Span(0, 8, "Slogans")]
    assert span_hits(pred, gold) == [True, False, False]


def test_reader_view_thresholds_calibrated_scores():
    config = ReaderConfig(threshold=0.5, calibration=Calibration(default=([0.0, 1.0],
                                                                          [0.0, 0.5])))
    spans = [at(TEXT, "corrupt elite", score=1.0), at(TEXT, "media", score=0.6)]
    shown = reader_spans(TEXT, spans, config)
    assert [TEXT[s.start : s.end] for s in shown] == ["corrupt elite"]
    assert shown[0].score == pytest.approx(0.5)
    assert len(reader_spans(TEXT, spans, config, threshold=0.2)) == 2  # a user looks lower


def test_modes_of_analyze():
    p = load_model("keywords")
    text = "The so-called experts pushed a disastrous plan. And the, so the if."
    reader = analyze(text, predictor=p)
    bench = analyze(text, predictor=p, mode="benchmark")
    assert {s.technique for s in reader.spans} <= {s.technique for s in bench.spans}
    with pytest.raises(InputError, match="unknown mode"):
        analyze(text, predictor=p, mode="fast")


def test_span_keys_ignore_case_inflection_and_function_words():
    assert span_key("The Witch Hunts!") == span_key("witch hunt") == "witch hunt"
    assert span_key("#MAGA") == "#maga"
    assert span_key("of the") == "of the"

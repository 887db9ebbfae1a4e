"""Sentences inside lines: abbreviations, quotes, exact offsets, line breaks respected."""

from __future__ import annotations

import pytest

import propscope
from propscope import metrics
from propscope.predictors.keywords import KeywordPredictor
from propscope.sentences import WINDOW, sentence_techniques, split_sentences
from propscope.spans import Span


def texts(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_abbreviations_do_not_end_sentences():
    text = ("Mr. Smith met Dr. Jones of the U.S. Army in Washington. They spoke of tools, "
            "e.g. hammers, for an hour. Then they left.")
    assert texts(text) == [
        "Mr. Smith met Dr. Jones of the U.S. Army in Washington.",
        "They spoke of tools, e.g. hammers, for an hour.",
        "Then they left.",
    ]


def test_a_quote_ends_with_its_closing_mark():
    assert texts('"He said. Then left." She stayed behind.') == [
        '"He said. Then left."', "She stayed behind."]
    assert texts("He said “Go home.” Then he left.") == ["He said “Go home.”", "Then he left."]


def test_offsets_are_exact_and_trimmed():
    text = "  First one here.   Second one?\tThird!  \n\nLast line without a stop "
    got = split_sentences(text)
    assert [text[a:b] for a, b in got] == [
        "First one here.", "Second one?", "Third!", "Last line without a stop"]
    assert got[0] == (2, 17)
    for a, b in got:
        assert text[a:b] == text[a:b].strip()


def test_a_sentence_never_crosses_a_line_break():
    text = "A line with no stop\nthat goes on here. And more\r\nend."
    got = split_sentences(text)
    assert [text[a:b] for a, b in got] == [
        "A line with no stop", "that goes on here.", "And more", "end."]
    assert all("\n" not in text[a:b] for a, b in got)
    assert texts("\n \n\t\n") == []


def test_repeated_sentences_get_their_own_offsets():
    assert split_sentences("Yes. No. Yes. No.") == [(0, 4), (5, 8), (9, 13), (14, 17)]


def test_a_long_line_is_read_in_windows_with_the_same_cut():
    sentence = "The council, led by Mr. Brown, voted for the U.S. plan again. "
    line = sentence * (3 * WINDOW // len(sentence) + 2)
    got = split_sentences(line)
    assert len(got) == line.count(". The") + 1
    assert all(line[a:b] == sentence.strip() for a, b in got)
    long = "word " * (WINDOW // 2) + "end. Next one."  # one sentence longer than a window
    assert texts(long) == [long[: -len(" Next one.")].strip(), "Next one."]


def test_sentence_techniques_by_overlap():
    ranges = [(0, 5), (6, 12), (13, 20)]
    spans = [Span(4, 7, "Doubt"), Span(14, 15, "Slogans"), Span(12, 13, "Repetition")]
    assert sentence_techniques(ranges, spans) == [
        (0, 5, {"Doubt"}), (6, 12, {"Doubt"}), (13, 20, {"Slogans"})]


def test_results_count_sentences_slc_keeps_lines():
    text = "The outrageous plan failed. Mr. Brown said so.\nA calm line. A true patriot wins.\n"
    r = propscope.analyze(text, predictor=KeywordPredictor())
    assert [(text[s.start:s.end], s.flagged) for s in r.sentences] == [
        ("The outrageous plan failed.", True), ("Mr. Brown said so.", False),
        ("A calm line.", False), ("A true patriot wins.", True)]
    assert (r.summary()["sentences"], r.summary()["flagged_sentences"]) == (4, 2)
    # the SLC measure of `evaluate` still counts lines
    assert len(metrics.sentences(text)) == 2


@pytest.mark.parametrize("text", ["x", "...", "“”", "Hi.\n\nHi.", "A. B. C."])
def test_odd_texts_give_ordered_exact_ranges(text):
    got = split_sentences(text)
    assert got == sorted(got)
    for (a, b), (c, _) in zip(got, got[1:], strict=False):
        assert a < b <= c
    assert "".join(text[a:b] for a, b in got).replace(" ", "") == "".join(text.split())


@pytest.mark.parametrize("line", [
    "  Trump and his allies want a wall  ",
    "A headline with no stop",
    "He said yes, then no; then maybe: nobody knows!",
    "Why would anyone believe this?",
    "We will win…",
])
def test_a_line_without_cuts_is_one_sentence_as_pysbd_reads_it(line):
    from propscope.sentences import _split_pysbd, split_line

    a = len(line) - len(line.lstrip())
    assert split_line(line) == [(a, len(line.rstrip()))] == _split_pysbd(line)


@pytest.mark.parametrize("line", [
    'It is over."',  # pySBD makes the closing quote a sentence of its own: kept
    "(CNN) The outbreak was declared on Tuesday.",
    "Mr. Smith went to Washington. He stayed.",
])
def test_a_line_with_cuts_is_left_to_pysbd(line):
    from propscope.sentences import _split_pysbd, split_line

    assert split_line(line) == _split_pysbd(line)
    assert len(split_line(line)) == 2


@pytest.mark.parametrize("line", [
    "He left. He left. He left.",  # one sentence three times: each its own place
    "Stop.  Stop. Stop.\tGo now!  ",
    'Mr. Smith said: "It is over. We lost." Then he left (again). Yes.',
    "The U.S. Army, e.g. its 3rd Div., won... or so No. 5 said. I agree.",
    "“Fake news!” he cried. «Non.» ‘Really?’ — Jr. Co. Inc. Ltd.",
])
def test_the_sped_up_segmenter_reads_as_pysbd(line):
    import pysbd

    from propscope.sentences import _segmenter

    assert _segmenter().segment(line) == pysbd.Segmenter(language="en",
                                                          clean=False).segment(line)


def test_pysbd_patterns_are_compiled_once_and_match_as_re():
    import re

    from propscope.sentences import _Patterns

    p = _Patterns()
    text = "Dr. Who met Mr. Smith. Then DR. NO."
    assert p.findall(r"(?:^|\s)dr", text, flags=re.IGNORECASE) == re.findall(
        r"(?:^|\s)dr", text, flags=re.IGNORECASE)
    assert p.sub(r"(?<=Dr)\.", "∯", text) == re.sub(r"(?<=Dr)\.", "∯", text)
    assert p.compile("a+") is p.compile("a+")
    assert p.escape("a.b") == re.escape("a.b")

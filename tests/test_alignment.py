"""Offsets survive tokenisation: non-ASCII, curly quotes, emoji, CRLF; BIO round trips."""

from __future__ import annotations

import numpy as np
import pytest

from propscope import alignment
from propscope.predictors.neural import WordPieces
from propscope.spans import Span

TEXTS = [
    "Plain ASCII text, with punctuation!",
    "Café au lait in Zürich — naïve façade.",
    "He said “this is a disgrace” and ‘left’.",
    "Fire 🔥🔥 emoji 😀 everywhere 👍🏽 ok",
    "Line one\r\nLine two\r\n\r\nLine three",
    "中文 and Русский text mixed",
]


@pytest.fixture(scope="module")
def pieces(tokenizer_json):
    return WordPieces(tokenizer_json)


@pytest.mark.parametrize("text", TEXTS)
def test_token_offsets_point_into_original_text(pieces, text):
    ids, offsets = pieces(text)
    assert len(ids) == len(offsets) > 0
    prev = 0
    for s, e in offsets:
        assert 0 <= s < e <= len(text)
        assert s >= prev  # ordered, not overlapping
        prev = e
        assert text[s:e].strip()  # never only white space (CR included)


@pytest.mark.parametrize("text", TEXTS)
def test_bio_round_trip_recovers_word_spans(pieces, text):
    _, offsets = pieces(text)
    words = [(s, e) for s, e in _word_spans(text)]
    gold = [Span(*words[0]), Span(*words[-1])] if len(words) > 2 else [Span(*words[0])]
    tags = alignment.bio_tags(offsets, gold)
    probs = np.zeros((len(offsets), 3))
    probs[np.arange(len(offsets)), tags] = 1.0
    found = alignment.decode_runs(text, offsets, alignment.in_span(probs), 0.5, min_chars=1)
    assert [(s, e) for s, e, _ in found] == [(g.start, g.end) for g in gold]


def _word_spans(text):
    import re

    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def test_merge_ranges_merges_overlaps_not_neighbours():
    spans = [Span(0, 5), Span(3, 8), Span(8, 10), Span(20, 25)]
    assert alignment.merge_ranges(spans) == [(0, 8), (8, 10), (20, 25)]


def test_windows_cover_every_token_and_owner_is_central():
    wins = alignment.windows(1000, 254, 192)
    assert wins[0][0] == 0 and wins[-1][1] == 1000
    owner = alignment.owner_window(wins, 1000)
    for k in range(1000):
        lo, hi = wins[owner[k]]
        assert lo <= k < hi
    assert owner[200] == 0 or owner[200] == 1
    assert alignment.windows(10, 254, 192) == [(0, 10)]


def test_snap_to_words_widens_and_trims():
    text = "The outrageous plan failed."
    assert alignment.snap_to_words(text, 6, 12) == (4, 14)
    assert alignment.snap_to_words(text, 3, 15) == (4, 14)


def test_decode_never_joins_lines():
    text = "alpha beta\ngamma delta"
    offsets = [(0, 5), (6, 10), (11, 16), (17, 22)]
    probs = np.tile([0.0, 0.0, 1.0], (4, 1))
    found = alignment.decode_runs(text, offsets, alignment.in_span(probs), 0.5)
    assert [(s, e) for s, e, _ in found] == [(0, 10), (11, 22)]


def test_token_index_ranges():
    index = alignment.TokenIndex([(0, 3), (4, 9), (10, 12), (12, 15)])
    assert index.range(4, 9) == (1, 2)
    assert index.range(2, 11) == (0, 3)
    assert index.range(9, 10) == (2, 2)  # white space between tokens: empty
    assert index.range(13, 40) == (3, 4)


def test_project_weights_by_shared_characters_and_falls_back_to_nearest():
    values = np.array([[1.0], [0.0], [0.5]], dtype=np.float32)
    src = [(0, 4), (4, 6), (7, 10)]
    # identity on the same tokens
    assert np.allclose(alignment.project(src, values, src), values)
    # one token over the first two: 4 chars of 1.0 and 2 of 0.0; a token in a gap of the
    # source (the space at 6) takes the token before it; part of the last token keeps it
    dst = [(0, 6), (6, 7), (8, 10)]
    out = alignment.project(src, values, dst)
    assert np.allclose(out[:, 0], [4 / 6, 0.0, 0.5])
    assert alignment.project(src, values, []).shape == (0, 1)


def test_window_grids_second_reading_moves_the_edges():
    one, two = alignment.window_grids(1000, 254, 192, 2)
    assert one == alignment.windows(1000, 254, 192)
    assert two[:2] == [(0, 254), (96, 350)] and two[-1][1] == 1000
    assert all(b[0] - a[0] == 192 for a, b in zip(two[1:], two[2:], strict=False))
    edges = {lo for lo, _ in one[1:]} & {lo for lo, _ in two[1:]}
    assert not edges
    # a text that fits one window has one reading, whatever is asked
    assert alignment.window_grids(100, 254, 192, 2) == [[(0, 100)]]
    assert alignment.window_grids(1000, 254, 192, 1) == [one]

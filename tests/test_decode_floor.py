"""The score floor and the second-name ratio of decoding (chosen in cross-validation for FLC,
benchmarks/cv_report.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from propscope.predictors.decoding import decode

TEXT = ("The corrupt elite lied again. Every real patriot knows the radical left wants to "
        "destroy our great nation. Shame on them! Will they ever stop? Make America great "
        "again, make America great again.")


@pytest.mark.model
def test_the_floor_leaves_out_exactly_the_spans_scoring_below_it(shipped_model):
    enc = shipped_model.encode([TEXT])[0]
    head = shipped_model.span_head()
    loose = replace(shipped_model.decode, min_score=0.0, second_label_ratio=0.3)
    every = decode(enc, loose, head)
    floor = sorted({s.score for s in every})[len(every) // 2]  # about half fall below
    kept = decode(enc, replace(loose, min_score=floor), head)
    assert kept == [s for s in every if s.score >= floor]
    assert 0 < len(kept) < len(every)


@pytest.mark.model
def test_the_shipped_benchmark_decoding_names_each_bio_span_once(shipped_model):
    """The shipped decoding asks for a second name only on a tie (ratio 1) and drops spans
    scoring under its floor; reader mode keeps no floor of its own (it has a threshold)."""
    config = shipped_model.decode
    assert config.second_label_ratio == 1.0 and config.min_score > 0
    assert shipped_model.decode_for("reader").min_score == 0.0
    enc = shipped_model.encode([TEXT])[0]
    spans = decode(enc, replace(config, labeller="span_head"), shipped_model.span_head())
    ranges = [(s.start, s.end) for s in spans]
    assert len(ranges) == len(set(ranges))
    assert all(s.score >= config.min_score for s in decode(enc, config,
                                                            shipped_model.span_head()))

"""Encoding apart from decoding: pure ``decode`` over fixed encodings, predictors that are
never changed in place, and the one JSONL reader the CLI and batch runs share."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from propscope.predictors.decoding import decode


@pytest.mark.model
def test_decode_is_pure_and_predictors_are_not_changed_in_place(shipped_model):
    text = ("The corrupt elite lied again. Every real patriot knows the radical left wants "
            "to destroy our great nation.")
    enc = shipped_model.encode([text])[0]
    head, config = shipped_model.span_head(), shipped_model.decode
    first = decode(enc, config, head)
    assert first and decode(enc, config, head) == first  # nothing kept between calls
    assert shipped_model.predict([text]) == [first]
    looser = replace(config, span_threshold=0.1, extend_threshold=0.1)
    other = shipped_model.with_decode(looser)
    assert other.decode == looser and shipped_model.decode == config
    assert other.predict([text]) == [decode(enc, looser, head)]
    assert shipped_model.predict([text]) == [first]


def test_the_cli_and_batch_read_jsonl_the_same_way(tmp_path):
    from propscope.batch.readers import plan, read_part
    from propscope.inputs import read_jsonl

    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": "good one"}) + "\n\n{not json\n[1]\n"
                 + json.dumps({"id": "c"}) + "\n" + json.dumps({"id": "d", "text": "x" * 50})
                 + "\n")
    cli = [(where, str(item)) for where, item in read_jsonl(p, max_bytes=40)]
    batch = [(where, str(item)) for part in plan([str(p)])
             for _, where, item in read_part(part, max_bytes=40)]
    assert cli == batch and [w for w, _ in cli] == [f"{p}:{n}" for n in (1, 3, 4, 5, 6)]
    assert "not valid JSON" in cli[1][1] and "expected a JSON object" in cli[2][1]
    assert 'missing "text"' in cli[3][1] and "too large" in cli[4][1]

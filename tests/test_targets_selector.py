"""The learned target selector (target_selector.py): feature rows from candidates, the
pick (threshold, the rules' own threshold, at most N), the shipped weights file, and the
candidates spaCy gives for a hand-made sentence. Tests needing spaCy skip without it,
except under CI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import propscope
from propscope import target_selector as ts
from propscope import targets as targets_mod
from propscope.spans import Span

from .test_targets import Marks, needs_spacy


def row(entity: str, start: int, **feats: float) -> dict:
    return {"entity": entity, "type": "person", "mention": (start, start + 3, entity),
            "row": feats}


def test_pick_keeps_the_best_over_the_threshold_rules_picks_over_their_own():
    sel = ts.Selector({"a": 2.0, "rule": 1.0}, -1.0, threshold=0.5, max_targets=1,
                      rule_threshold=0.3)
    assert sel.pick([row("X", 0, a=0.0), row("Y", 5, a=1.0)])[0]["entity"] == "Y"
    assert sel.pick([row("X", 0, a=0.0)]) == []  # p = 0.27: no target at all
    # the rules' pick at p = 0.5 >= 0.3 is kept; a non-rule one at 0.5 as well
    assert [r["entity"] for r in sel.pick([row("R", 0, rule=1.0)])] == ["R"]
    low = ts.Selector({"a": 1.0}, -0.5, threshold=0.5, rule_threshold=0.3)
    assert low.pick([row("X", 0, a=0.0)]) == []  # p = 0.38 < 0.5
    assert [r["entity"] for r in low.pick([row("X", 0, a=0.0, rule=1.0)])] == ["X"]
    two = ts.Selector({"a": 3.0}, 0.0, threshold=0.5, max_targets=2)
    got = two.pick([row("X", 9, a=1.0), row("Y", 2, a=1.0), row("Z", 1, a=1.0)])
    assert [r["entity"] for r in got] == ["Z", "Y"]  # ties: the earlier mention first


def test_trees_and_round_trip():
    sel = ts.Selector({}, 0.0, 0.5, 1, {}, 1.0, [["a", 0.5, -2.0, ["b", 0.5, 1.0, 3.0]]])
    assert sel.prob({"a": 0.0}) == pytest.approx(1 / (1 + 2.718281828 ** 2), rel=1e-6)
    assert sel.prob({"a": 1.0, "b": 1.0}) == pytest.approx(1 / (1 + 2.718281828 ** -3),
                                                           rel=1e-6)
    again = ts.Selector.from_dict(json.loads(json.dumps(sel.to_dict())))
    assert again == sel


def test_entity_rows_from_hand_made_candidates():
    text = "Tom Reed spoke.\nSenator Tom Reed is a liar, said Anna Berg. Reed left."
    span = Span(text.index("liar"), text.index("liar") + 4, "Name_Calling,Labeling")
    reed = (text.index("Senator"), text.index(" is"), "Senator Tom Reed", "person")
    berg = (text.index("Anna"), text.index("Anna") + 9, "Anna Berg", "person")
    rows = ts.entity_rows(text, span, [
        (reed, {"dist": float(span.start - reed[1]), "before": 1.0, "same_sent": 1.0,
                "verb_subj": 1.0, "rule": 1.0}, "Tom Reed", "person"),
        (berg, {"dist": float(berg[0] - span.end), "after": 1.0, "same_sent": 1.0},
         "Anna Berg", "person")], ("attributed", "Anna Berg"))
    by = {r["entity"]: r for r in rows}
    assert by["Tom Reed"]["mention"] == reed[:3]
    assert by["Tom Reed"]["row"]["rule"] == 1.0 and by["Tom Reed"]["row"]["verb_subj"] == 1.0
    assert by["Tom Reed"]["row"]["log_count"] == pytest.approx(1.386, abs=1e-3)  # 3 "Reed"
    assert by["Tom Reed"]["row"]["in_title"] == 1.0 and by["Anna Berg"]["row"]["in_title"] == 0
    assert by["Tom Reed"]["row"]["nearest_before"] == 1.0
    assert by["Anna Berg"]["row"]["speaker"] == 1.0 and by["Tom Reed"]["row"]["speaker"] == 0
    assert by["Anna Berg"]["row"]["voice_attributed"] == 1.0
    assert by["Tom Reed"]["row"]["tech_0"] == 1.0  # Name_Calling,Labeling


def test_the_shipped_weights_load_and_use_known_features():
    sel = ts.load()
    assert sel is not None and sel.trees and 0 < sel.threshold < 1
    used: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, list):
            used.add(node[0])
            walk(node[2])
            walk(node[3])

    for t in sel.trees:
        walk(t)
    known = set(ts.NEAREST) | set(ts.ANY) | {
        "only_text", "only_common", "log_dist", "rank", "mentions_near", "log_count",
        "in_title", "he_person", "they_group", "other_rule", "n_cands", "multiword",
        "furniture", "speaker", "voice_quoted", "voice_attributed", "inside_subj",
        "count_rel", "top_count", "nearest_before", "nearest_of_type", "other_inside",
        "dist"} | {f"type_{k}" for k in ts.KINDS} | {f"tech_{k}" for k in range(6)}
    assert used <= known, used - known


def test_the_selector_loads_without_numpy_or_torch():
    code = ("import sys; from propscope import target_selector as t; t.load(); "
            "print(sorted(m for m in ('torch', 'numpy', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "torch" not in out.stdout


SENTENCE = "“Senator Tom Reed is a disgraceful liar,” said Anna Berg on Monday."


@needs_spacy
def test_candidates_of_a_hand_made_sentence_and_a_deterministic_pick(monkeypatch):
    r = propscope.analyze(SENTENCE, predictor=Marks([("disgraceful liar",
                                                      "Name_Calling,Labeling")]),
                          targets=False)
    (cands,) = targets_mod.span_candidates([r])
    by = {c["entity"]: c["row"] for c in cands[0]}
    assert {"Tom Reed", "Anna Berg"} <= set(by)
    assert by["Tom Reed"]["rule"] == 1.0 and by["Tom Reed"]["before"] == 1.0
    assert by["Tom Reed"]["dep_subj"] == 1.0
    assert by["Anna Berg"]["after"] == 1.0 and by["Anna Berg"]["speaker"] == 1.0
    first = targets_mod.find_targets([r])
    assert [t.entity for t in first[0][0]] == ["Tom Reed"]
    assert targets_mod.find_targets([r]) == first  # deterministic
    monkeypatch.setenv("PROPSCOPE_TARGET_RULES", "1")  # the rules alone
    assert targets_mod.find_targets([r]) == targets_mod.find_targets([r], selector=None)


def test_a_precision_first_setting_under_its_variable(monkeypatch):
    sel = ts.load()
    assert sel is not None and sel.precise
    monkeypatch.setenv("PROPSCOPE_TARGETS_PRECISE", "1")
    precise = ts.load()
    assert precise is not None and precise.trees == sel.trees
    assert (precise.threshold, precise.max_targets) == (sel.precise["threshold"],
                                                        sel.precise["max_targets"])
    assert precise.threshold >= sel.threshold and precise.max_targets <= sel.max_targets


def test_name_counts_of_an_article_equal_the_counts_in_its_text_and_title():
    text = ("Reed's Day, O'Neil and Müller\nTom Reed spoke. Senator Reed is a liar, said Anna "
            "Berg (Reed-ish). O'Neil, O'Neilson and Reed_2 met Müller; Müllers; Trump’s aide.")
    title = text[:text.index("\n")]
    counts = ts.NameCounts(text)
    names = ("Tom Reed", "Anna Berg", "migrants", "Reed", "Tom Reed", "Mr. O'Neil", "Müller",
             "Swamp-Drunk Trump’s", "Reed_2", "", "Berg")
    for name in names:
        count = ts._count(text, name)
        assert counts(name) == (count, count > 0 and ts._count(title, name) > 0), name
    assert counts("Tom Reed") == (4, True) and counts("Anna Berg") == (1, False)
    assert counts("Mr. O'Neil") == (2, True) and counts("migrants") == (0, False)
    assert counts("Müller") == (2, True)


def test_compiled_trees_give_the_same_float_as_walking_them():
    import math
    import random

    def walked(sel: ts.Selector, row: dict) -> float:  # prob as first written
        z = sel.bias + sum(w * row.get(k, 0.0) for k, w in sel.weights.items())
        for node in sel.trees:
            while isinstance(node, list):
                node = node[2] if row.get(node[0], 0.0) <= node[1] else node[3]
            z += sel.rate * node
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    shipped = ts.load()
    assert shipped is not None
    names = sorted({n[0] for t in shipped.trees for n in _nodes(t)})
    rng = random.Random(0)
    odd = ts.Selector({"a": 0.3}, -0.0, trees=[["a", 0, 1, ["b", -0.0, -2.5e-17, 3]],
                                               7.0, ["a", 1e300, float("inf"), 0.1]],
                      rate=0.3)
    for sel in (shipped, odd, ts.Selector({}, 1.0, trees=[["a", 0.5, -2.0, 1.0]], rate=1)):
        for _ in range(300):
            row = {n: rng.choice([0.0, 1.0, rng.random(), rng.uniform(-3, 3)])
                   for n in [*names, "a", "b"] if rng.random() < 0.8}
            assert sel.prob(row) == walked(sel, row)


def _nodes(node: object) -> list:
    return [node, *_nodes(node[2]), *_nodes(node[3])] if isinstance(node, list) else []


@needs_spacy
def test_title_case_from_running_counts_equals_counting_the_words():
    from propscope import target_candidates as tc

    def counted(sent: object) -> bool:
        words = [t for t in sent if t.is_alpha]
        return bool(words) and sum(t.text[:1].isupper() for t in words) >= 0.6 * len(words)

    nlp = targets_mod.load_nlp()
    docs = list(nlp.pipe(["Trump Slams Fake News Media In Late Night Rant. He said so.",
                          "Élan Of The 3 Musketeers! ok. McDonald's Big Mac, Inc. Is Back",
                          "", "  ", "A b C d E."]))
    for doc in [*docs, docs[0]]:
        for sent in [*doc.sents, *doc.ents, doc[0:0], doc[:]]:
            assert tc._title_case(sent) == counted(sent)

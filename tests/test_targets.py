"""Who a span targets (targets.py, spaCy) and how voices and targets reach the Result,
JSON and the terminal. Tests needing spaCy skip without it, except under CI (CI=true),
which installs it (``make install-train``)."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

import propscope
from propscope import target_rules
from propscope import targets as targets_mod
from propscope.predictors.keywords import KeywordPredictor
from propscope.results import Result
from propscope.spans import Span
from propscope.targets import TargetsUnavailable, merge_mentions

ARTICLE = (
    "Swamp-Drunk Trump Arms Al-Qaeda Terrorists in Syria\r\n\r\n"
    "Swamp-Drunk Trump is arming Al-Qaeda terrorists in Syria through his poodle Erdogan.\r\n"
    "The USA and its barking squad want war. Donald Trump lied again, as always.\r\n"
    "Mohammed Abbas – Military expert: The Turkish regime is a criminal gang.\r\n"
    "“These butchers must be stopped,” said Sergei Lavrov. The Kremlin’s plan is "
    "brilliant.\r\n"
)
MARKS = [("Swamp-Drunk", "Name_Calling,Labeling"), ("poodle", "Name_Calling,Labeling"),
         ("barking squad", "Name_Calling,Labeling"), ("lied again", "Loaded_Language"),
         ("criminal gang", "Name_Calling,Labeling"), ("butchers", "Name_Calling,Labeling"),
         ("brilliant", "Exaggeration,Minimisation")]


class Marks(KeywordPredictor):
    """Marks fixed phrases with fixed techniques (every occurrence)."""

    def __init__(self, marks: list[tuple[str, str]] = MARKS) -> None:
        self.marks = marks

    def predict(self, texts, mode="benchmark"):
        return [[Span(m.start(), m.end(), tech, 0.9) for word, tech in self.marks
                 for m in re.finditer(re.escape(word), t)] for t in texts]


def _spacy_missing() -> str | None:
    try:
        targets_mod.load_nlp()
    except TargetsUnavailable as e:
        return str(e)
    return None


needs_spacy = pytest.mark.skipif(
    _spacy_missing() is not None and os.environ.get("CI") != "true",
    reason="spaCy and its English pipeline are not installed (propscope[targets])")


def role_of(result: Result, fragment: str, nth: int = 0):
    hits = [k for k, s in enumerate(result.spans) if result.text[s.start:s.end] == fragment]
    return result.role(hits[nth])


@pytest.fixture(scope="module")
def result() -> Result:
    return propscope.analyze(ARTICLE, predictor=Marks())


@needs_spacy
def test_epithets_target_the_name_they_describe(result):
    assert [t.entity for t in role_of(result, "Swamp-Drunk", 1).targets] == ["Donald Trump"]
    assert [t.text for t in role_of(result, "Swamp-Drunk", 1).targets] == ["Swamp-Drunk Trump"]
    assert [t.entity for t in role_of(result, "Swamp-Drunk", 0).targets] == ["Donald Trump"]
    assert [t.entity for t in role_of(result, "poodle").targets] == ["Erdogan"]
    assert [t.entity for t in role_of(result, "barking squad").targets] == ["USA"]
    assert [t.entity for t in role_of(result, "lied again").targets] == ["Donald Trump"]


@needs_spacy
def test_target_offsets_are_in_the_text_as_given(result):
    for k in range(len(result.spans)):
        for t in result.role(k).targets or ():
            assert result.text[t.start:t.end] == t.text  # CRLF text: offsets still exact


@needs_spacy
def test_voice_and_speaker_alongside_targets(result):
    assert role_of(result, "criminal gang").voice == "attributed"
    assert role_of(result, "criminal gang").speaker == "Mohammed Abbas"
    assert role_of(result, "butchers").voice == "quoted"
    assert role_of(result, "butchers").speaker == "Sergei Lavrov"
    assert role_of(result, "poodle").voice == "author"
    assert role_of(result, "brilliant").targets is None  # not a targeting technique


@needs_spacy
def test_result_targets_entity_to_techniques_counts_spans(result):
    found = result.targets()
    trump = found["Donald Trump"]
    assert trump["count"] == 3
    assert trump["techniques"] == {"Name_Calling,Labeling": 2, "Loaded_Language": 1}
    assert trump["voices"] == {"author": 3}
    assert [m[2] for m in trump["mentions"]] == ["Trump", "Swamp-Drunk Trump", "Donald Trump"]
    assert {s["text"] for s in trump["spans"]} == {"Swamp-Drunk", "lied again"}
    assert list(found)[0] == "Donald Trump"  # most targeted first


@needs_spacy
def test_json_round_trip(result):
    data = json.loads(json.dumps(result.to_dict()))
    spans = {d["text"]: d for d in data["spans"]}
    assert spans["poodle"]["voice"] == "author"
    assert spans["poodle"]["targets"][0]["entity"] == "Erdogan"
    assert "targets" not in spans["brilliant"]
    assert data["targets"][0]["entity"] == "Donald Trump"
    assert data["summary"]["voices"] == {"author": 6, "attributed": 1, "quoted": 1}
    again = Result.from_dict(data)
    assert again.roles == result.roles
    assert again.to_dict() == result.to_dict()


@needs_spacy
def test_bundled_example():
    from importlib.resources import files

    text = files("propscope").joinpath("examples/example.txt").read_text(encoding="utf-8")
    r = propscope.analyze(text, predictor=KeywordPredictor())
    assert [t.entity for t in role_of(r, "so-called").targets] == ["Tom Reed"]
    assert role_of(r, "patriot").voice == "attributed"
    assert role_of(r, "patriot").speaker == "Dan Price"
    assert role_of(r, "outrageous").voice == "author"


@needs_spacy
def test_only_sentences_with_targeting_spans_are_parsed(monkeypatch):
    nlp = targets_mod.load_nlp()
    seen: list[str] = []
    orig = type(nlp).pipe

    def pipe(self, texts, **kw):
        texts = list(texts)
        seen.extend(texts)
        return orig(self, texts, **kw)

    monkeypatch.setattr(type(nlp), "pipe", pipe)
    text = "Obama is a traitor. The sky is blue. Biden's plan is brilliant."
    propscope.analyze([text, text], predictor=Marks([("traitor", "Name_Calling,Labeling"),
                                                     ("brilliant", "Slogans")]))
    assert seen == ["Obama is a traitor.", "Obama is a traitor."]


def test_merge_mentions():
    got = merge_mentions([("Trump", "organisation"), ("Donald Trump", "person"),
                          ("Swamp-Drunk Trump", "person"), ("Bill Clinton", "person"),
                          ("Hillary Clinton", "person"), ("the USA", "place"),
                          ("USA", "place"), ("Trump's", "person")])
    assert [n for n, _ in got[:3]] == ["Donald Trump"] * 3
    assert got[0][1] == "person"  # most mentions say person
    assert got[3][0] == "Bill Clinton" and got[4][0] == "Hillary Clinton"
    assert got[5] == got[6] == ("USA", "place")
    assert got[7][0] == "Donald Trump"


def test_without_spacy_spans_keep_voices_and_a_note_says_why(monkeypatch):
    monkeypatch.setattr(target_rules, "_NLP", None)
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy raises ImportError
    r = propscope.analyze(ARTICLE, predictor=Marks())
    assert all(role.targets is None for role in r.roles)
    assert role_of(r, "butchers").voice == "quoted"
    assert len(r.notes) == 1 and "spaCy is not installed" in r.notes[0]
    assert "\n" not in r.notes[0]
    data = r.to_dict()
    assert "targets" not in data and all("targets" not in s for s in data["spans"])
    assert data["notes"] == r.notes
    with pytest.raises(TargetsUnavailable, match="propscope\\[targets\\]"):
        propscope.analyze(ARTICLE, predictor=Marks(), targets=True)


def test_missing_pipeline_is_a_note_too(monkeypatch):
    pytest.importorskip("spacy")
    monkeypatch.setattr(target_rules, "_NLP", None)
    monkeypatch.setenv("PROPSCOPE_SPACY_MODEL", "no_such_pipeline_xyz")
    r = propscope.analyze(ARTICLE, predictor=Marks())
    assert "no_such_pipeline_xyz cannot be loaded" in r.notes[0]
    monkeypatch.setattr(target_rules, "_NLP", None)


def test_targets_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("PROPSCOPE_TARGETS", "0")
    r = propscope.analyze(ARTICLE, predictor=Marks())
    assert r.notes == [] and all(role.targets is None for role in r.roles)
    assert role_of(r, "criminal gang").speaker == "Mohammed Abbas"


@needs_spacy
def test_a_parser_failure_costs_the_targets_not_the_spans(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("parser exploded\nsecond line")

    monkeypatch.setattr(targets_mod, "find_targets", boom)
    r = propscope.analyze(ARTICLE, predictor=Marks())
    assert len(r.spans) == 8 and all(role.targets is None for role in r.roles)
    assert r.notes == ["targets not found: spaCy failed (RuntimeError: parser exploded)"]


def test_a_long_run_on_text_keeps_to_the_parse_budget():
    text = "The outrageous plan. " + "outrageous " * 5_000
    r = propscope.analyze(text, predictor=KeywordPredictor(), mode="benchmark")
    assert len(r.spans) == 5_001
    if r.roles[0].targets is not None:  # with spaCy: the first spans only, and a note
        assert any("first 40,000 characters" in n for n in r.notes)
        assert r.roles[-1].targets is None


CONTEXT_TEXT = ("Bernie Sanders met voters in Iowa on Monday. Everyone saw his shameful lies "
                "again.\nDemocrats met in the capital. They are shameless hypocrites.\n"
                "Senator Elizabeth Warren spoke at length. Her plan is a disgrace.\n")


@needs_spacy
def test_pronouns_and_the_sentence_before_name_the_target():
    r = propscope.analyze(CONTEXT_TEXT, predictor=Marks([
        ("shameful lies", "Loaded_Language"), ("shameless hypocrites", "Name_Calling,Labeling"),
        ("a disgrace", "Name_Calling,Labeling")]))
    got = [[(t.entity, t.type) for t in role.targets or ()] for role in r.roles]
    assert got == [[("Bernie Sanders", "person")],  # "his" -> the person named before
                   [("Democrats", "group")],  # "They" -> the group in the sentence before
                   [("Elizabeth Warren", "person")]]  # nothing in the sentence: the one before
    for role in r.roles:
        for t in role.targets:
            assert CONTEXT_TEXT[t.start:t.end] == t.text


def test_page_furniture_is_no_part_of_a_name():
    assert target_rules.person_before("Photo Carl Sagan looked up. He", 28)[2] == "Carl Sagan"
    assert target_rules.person_before("Advertisement Saviano looked up. He", 31) is None


@needs_spacy
def test_the_attribute_rulers_quick_match_equals_spacys_matcher():
    from spacy.pipeline import AttributeRuler

    nlp = target_rules.load_nlp()
    ruler = nlp.get_pipe("attribute_ruler")
    assert "match" in vars(ruler) and "set_annotations" in vars(ruler)  # quick ones in place
    texts = ["There's a caravan, y'all, and they ain't gonna stop it: let's go.",
             "Y'all know nothin' about it.  \n\n Gotta say   it's the media's fault!",
             "He said: 'There are 3 of them.' I'd've said that.", "", "   "]
    with nlp.select_pipes(disable=["attribute_ruler", "ner"]):
        docs = list(nlp.pipe(texts))
    for doc in docs:
        assert ruler.match(doc) == AttributeRuler.match(ruler, doc)
        quick, spacys = doc.copy(), doc.copy()
        ruler(quick)
        AttributeRuler.set_annotations(ruler, spacys, AttributeRuler.match(ruler, spacys))
        assert [(t.pos_, t.tag_, t.dep_, str(t.morph), t.lemma_) for t in quick] == \
            [(t.pos_, t.tag_, t.dep_, str(t.morph), t.lemma_) for t in spacys]
    assert any(m[3] - m[2] > 1 for doc in docs for m in ruler.match(doc))  # a longer rule
    other = AttributeRuler(nlp.vocab)
    other.add([[{"LOWER": "x", "OP": "+"}]], {"POS": "X"})
    assert target_rules.quick_match(other) is None  # a rule it cannot read: spaCy's matcher


@needs_spacy
def test_numpy_matmul_ops_parse_and_find_entities_as_blis_does():
    from thinc.api import NumpyOps

    nlp = target_rules.load_nlp()
    ops = {type(node.ops).__name__ for _, proc in nlp.pipeline
           for node in (proc.model.walk() if hasattr(getattr(proc, "model", None), "walk")
                        else ())}
    assert ops == {"MatmulOps"}  # every layer multiplies with numpy
    texts = [CONTEXT_TEXT, "Swamp-Drunk Trump arming Al-Qaeda terrorists in Syria through "
             "his poodle Erdogan, the USA and its barking squad said on Monday.", "",
             "Mohammed Abbas – Military expert: the Pentagon lied to Congress again. " * 6]

    def parses() -> list:
        return [([(t.tag_, t.pos_, t.dep_, t.head.i) for t in d],
                 [(e.start, e.end, e.label_) for e in d.ents]) for d in nlp.pipe(texts)]

    fast = parses()
    target_rules.use_matmul(nlp)  # idempotent
    assert parses() == fast
    try:
        target_rules.set_ops(nlp, NumpyOps())  # thinc's own blis
        assert parses() == fast
    finally:
        target_rules.use_matmul(nlp)
    assert any(ents for _, ents in fast)


@needs_spacy
def test_html_report_says_what_targets_are_worth(result):
    from propscope.render.html import TARGETS_CAVEAT, render_html

    page = render_html([result])
    assert "who is targeted" in page and TARGETS_CAVEAT in page
    assert TARGETS_CAVEAT not in render_html([propscope.analyze(ARTICLE, predictor=Marks(),
                                                                targets=False)])

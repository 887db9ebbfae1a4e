"""The second stage of technique classification: span-set features and the classifier."""

import subprocess
import sys

import numpy as np
import pytest

from propscope.context import (
    SET_FEATURES,
    ContextClassifier,
    build_lexicon,
    span_set_features,
)
from propscope.core import classify_spans
from propscope.spans import Span
from propscope.techniques import TECHNIQUE_NAMES

T = len(TECHNIQUE_NAMES)
F = {name: k for k, name in enumerate(SET_FEATURES)}
TEXT = ("Witch hunt! They call it a witch-hunt, the WITCH HUNTS go on.\n"
        "#DrainTheSwamp said the crowd, a truly rotten corrupt elite.\n")


def span(phrase: str, nth: int = 0) -> Span:
    k = -1
    for _ in range(nth + 1):
        k = TEXT.lower().index(phrase.lower(), k + 1)
    return Span(k, k + len(phrase))


def features(spans, lexicon=None):
    return span_set_features(TEXT, spans, lexicon or {}, T)


def test_a_phrase_marked_three_times_counts_three():
    spans = [span("Witch hunt"), span("witch-hunt"), span("WITCH HUNTS"), span("rotten")]
    f = features(spans)
    assert f[:3, F["same_key_3plus"]].tolist() == [1, 1, 1]
    assert f[3, F["same_key_1"]] == 1 and f[3, F["same_key_3plus"]] == 0
    assert f[3, F["one_word"]] == 1 and f[0, F["one_word"]] == 0


def test_hashtag_and_capitals():
    f = features([span("#DrainTheSwamp"), span("WITCH HUNTS")])
    assert f[0, F["hashtag"]] == 1 and f[1, F["hashtag"]] == 0
    assert f[1, F["caps_share"]] == 1.0


def test_nested_spans_know_their_container():
    outer, inner = span("a truly rotten corrupt elite"), span("corrupt")
    f = features([outer, inner])
    assert f[0, F["contains"]] == 1 and f[0, F["nested"]] == 0
    assert f[1, F["nested"]] == 1 and f[1, F["contains"]] == 0


def test_lexicon_is_evidence_for_the_labels_seen_in_training():
    rows = [("the witch hunt", Span(4, 14, "Name_Calling,Labeling"))] * 3
    lexicon = build_lexicon(rows, TECHNIQUE_NAMES)
    f = features([span("WITCH HUNTS"), span("rotten")], lexicon)
    lex = f[:, len(SET_FEATURES):]
    assert lex[0, TECHNIQUE_NAMES.index("Name_Calling,Labeling")] == pytest.approx(np.log(4))
    assert f[0, F["lexicon_seen"]] == 1 and not lex[1].any()


def test_rows_sharing_a_span_take_distinct_techniques():
    class Ranked:
        def classify(self, text, spans):
            return [[("Repetition", 0.6), ("Loaded_Language", 0.3), ("Doubt", 0.1)]
                    for _ in spans]

    gold = [Span(0, 10, "Repetition"), Span(0, 10, "Loaded_Language"), Span(12, 20, "Doubt")]
    named = classify_spans(Ranked(), TEXT, gold)
    assert [s.technique for s in named] == ["Repetition", "Loaded_Language", "Repetition"]


def test_classifier_round_trips_and_uses_the_set(tmp_path):
    n = 2 * T + len(SET_FEATURES) + T
    w = np.zeros((T, n), dtype=np.float32)
    rep = TECHNIQUE_NAMES.index("Repetition")
    w[rep, 2 * T + F["same_key_3plus"]] = 5.0  # three or more: Repetition
    head = ContextClassifier(w, np.zeros(T), np.zeros(n), np.ones(n), {"a": [1.0] * T})
    head.save(tmp_path)
    back = ContextClassifier.load(tmp_path / "context.npz")
    base = np.full((3, T), 1.0 / T, dtype=np.float32)
    spans = [span("Witch hunt"), span("witch-hunt"), span("WITCH HUNTS")]
    probs = back.probs(TEXT, spans, base, None)
    assert probs.argmax(axis=1).tolist() == [rep] * 3
    alone = back.probs(TEXT, spans[:1], base[:1], None)
    assert alone[0, rep] < probs[0, rep]
    assert back.lexicon == {"a": [1.0] * T}


def test_a_penalty_on_the_class_biases_keeps_the_encoders_priors():
    """Nine rows in ten are one technique and the encoder knows nothing (uniform
    probabilities): a free bias learns that prior; a heavily penalised one stays near zero."""
    pytest.importorskip("scipy")
    from propscope.training.context_fit import Rows, fit

    rng = np.random.default_rng(0)
    n = 200
    y = np.where(rng.random(n) < 0.9, 0, 1)
    x = np.zeros((n, 2 * T + len(SET_FEATURES) + T), dtype=np.float32)
    x[:, :T] = np.log(1.0 / T)
    rows = Rows(x, y, ["a"] * n, [(k, k + 1) for k in range(n)])
    free = fit(rows, T, {}, l2=30)
    held = fit(rows, T, {}, l2=30, bias_l2=1e6)
    assert free.bias[0] - free.bias[1] > 1.0
    assert abs(held.bias[0] - held.bias[1]) < 0.05


def test_second_stage_marker_and_reader_load_and_run_without_torch(tmp_path):
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from propscope.model_io import load_model\n"
        "from propscope import analyze\n"
        "p = load_model()\n"
        "from propscope.spans import Span\n"
        "assert p.context is not None and p.reader.calibration.maps\n"
        "assert p.marker is not None and p.marker_in_predict\n"
        "r = analyze('The so-called experts pushed a disastrous, outrageous plan.', predictor=p)\n"
        "t = p.classify('The so-called experts pushed a disastrous plan.', [Span(32, 42)])\n"
        "assert len(t) == 1 and len(t[0]) == 14\n"
        "p.predict(['The so-called experts pushed a disastrous plan.'], mode='benchmark')\n"
        "print('ok', len(r.spans))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_second_stage_names_predicted_spans_only_when_the_manifest_says_so(shipped_model):
    """Fitted on gold span sets, the second stage names the spans `classify` is given; the
    spans `predict` finds keep the encoder's names unless the manifest asks otherwise
    (`context_in_predict`; the shipped model does not: in CV it gained no FLC at equal SI,
    BENCHMARKS.md, "Should the second stage name predicted spans too?")."""
    text = ("The witch hunt goes on. The witch hunt is a hoax. A witch hunt, again!\n"
            "Only radical extremists and traitors would back this disastrous plan.\n")
    plain = shipped_model.with_context(None)
    staged = shipped_model.with_context(shipped_model.context, in_predict=True)
    assert not shipped_model.context_in_predict
    assert shipped_model.predict([text]) == plain.predict([text])
    assert staged.predict([text]) != plain.predict([text])
    spans = [Span(4, 14), Span(28, 38), Span(52, 62)]
    assert shipped_model.classify(text, spans) != plain.classify(text, spans)
    assert staged.classify(text, spans) == shipped_model.classify(text, spans)


def test_shipped_second_stage_names_a_thrice_marked_phrase_repetition(shipped_model):
    """The first of three marks of one phrase reads as Loaded Language to the encoder alone;
    with the other two marks in view, the second stage names all three Repetition."""
    import copy
    import re

    text = ("They call it a disastrous plan. A disastrous plan, again. "
            "This disastrous plan must stop.\n")
    spans = [Span(m.start(), m.end()) for m in re.finditer("disastrous plan", text)]
    plain = copy.copy(shipped_model)
    plain.context = None
    assert [r[0][0] for r in plain.classify(text, spans)][0] != "Repetition"
    assert [r[0][0] for r in shipped_model.classify(text, spans)] == ["Repetition"] * 3


def test_evaluate_warns_when_the_second_stage_saw_the_split(shipped_model, capsys):
    from propscope.cli.evaluate import _warn_in_sample

    fitted_on = shipped_model.info["second_stage_fitted_on"]
    assert "valid" in fitted_on.split("+")
    _warn_in_sample("valid", shipped_model.info)
    err = capsys.readouterr().err
    assert "in-sample" in err and "second stage" in err
    # the shipped marker classifier was trained on every article: any split is in-sample
    assert shipped_model.info["marker_trained_on"] == "all"
    _warn_in_sample("fold9", shipped_model.info)
    err = capsys.readouterr().err
    assert "marker span classifier was trained on 'all'" in err and "second stage" not in err


def test_evaluate_is_silent_on_a_split_no_stage_saw(capsys):
    from propscope.cli.evaluate import _warn_in_sample

    info = {"second_stage_fitted_on": "train+valid", "marker_trained_on": "train"}
    _warn_in_sample("fold9", info)
    assert capsys.readouterr().err == ""
    _warn_in_sample("train", info)
    assert "marker span classifier was trained on 'train'" in capsys.readouterr().err


def test_with_context_leaves_the_predictor_as_it_was(shipped_model):
    text = ("They call it a disastrous plan. A disastrous plan, again. "
            "This disastrous plan must stop.\n")
    spans = [Span(15, 30), Span(34, 49), Span(63, 78)]
    plain = shipped_model.with_context(None)
    assert plain.context is None and not plain.context_in_predict
    assert shipped_model.context is not None
    for before in (True, False):
        base = shipped_model.with_context(shipped_model.context, in_predict=before)
        named = base.with_context(base.context, in_predict=not before)
        assert named.context_in_predict is not before and base.context_in_predict is before
        assert named.classify(text, spans) == base.classify(text, spans)

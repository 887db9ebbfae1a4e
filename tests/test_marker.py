"""The marker span classifier: its marked input, its probabilities (one span per call, so
independent of the other spans), how it joins the span head, how a model folder carries it,
and a few training steps exported and read back through ONNX."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from propscope import alignment
from propscope.errors import ModelError
from propscope.predictors.encoding import WordPieces
from propscope.predictors.marker import MarkerClassifier, combine, pool
from propscope.spans import Span
from propscope.techniques import TECHNIQUE_NAMES

from .conftest import ROOT, single_model_dir

TEXT = "A first line.\nThe corrupt elite betrayed us all, he said.\nA last line."


@pytest.fixture(scope="module")
def pieces() -> WordPieces:
    return WordPieces(str(single_model_dir() / "tokenizer.json"))


def test_marked_input_puts_markers_around_the_span_inside_its_line(pieces):
    a = TEXT.index("corrupt elite")
    ids, o, c = pieces.marked(TEXT, a, a + len("corrupt elite"))
    open_id, close_id = pieces.marker_ids
    assert ids[0] == pieces.cls_id and ids[-1] == pieces.sep_id
    assert (ids[o], ids[c]) == (open_id, close_id)
    assert pieces.tok.decode(ids[o + 1 : c]) == "corrupt elite"
    # the context is the span's line only: not the first or last line
    assert pieces.tok.decode(ids[1:o]) == "the"
    assert pieces.tok.decode(ids[c + 1 : -1]) == "betrayed us all, he said."


def test_marked_input_is_cut_to_its_budget_around_the_span(pieces):
    words = " ".join(f"w{k}" for k in range(400))
    text = f"{words} TARGET {words}"
    a = text.index("TARGET")
    ids, o, c = pieces.marked(text, a, a + 6)
    assert len(ids) == alignment.MARKED_TOKENS
    left, right = o - 1, len(ids) - c - 2
    assert abs(left - right) <= 1  # evenly on both sides when both are long
    long_span = pieces.marked(text, 0, len(text))
    assert long_span[2] - long_span[1] - 1 == alignment.MARKED_SPAN
    # a short right context gives its room to the left
    end = pieces.marked(text, len(text) - 3, len(text))
    assert len(end[0]) == alignment.MARKED_TOKENS and end[2] == len(end[0]) - 2


class FakeRunner:
    """States that depend only on each token id and position of one call's single input;
    records the batch sizes it was called with."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, ids: np.ndarray, mask: np.ndarray):
        self.batches.append(len(ids))
        h = np.stack([np.sin(ids * (k + 1) * 0.01) for k in range(4)], axis=-1)
        return (h.astype(np.float32),)


def classifier(pieces, runner=None) -> MarkerClassifier:
    rng = np.random.default_rng(0)
    return MarkerClassifier(pieces, runner or FakeRunner(), rng.normal(size=(14, 12)),
                            rng.normal(size=14), TECHNIQUE_NAMES)


def test_probs_are_one_span_per_call_and_independent_of_the_others(pieces):
    runner = FakeRunner()
    m = classifier(pieces, runner)
    a = TEXT.index("corrupt")
    spans = [Span(a, a + 13), Span(0, 5), Span(a + 14, a + 22)]
    together = m.probs(TEXT, spans)
    assert together.shape == (3, 14) and np.allclose(together.sum(axis=1), 1, atol=1e-5)
    assert runner.batches == [1, 1, 1]
    alone = m.probs(TEXT, spans[:1])
    assert np.array_equal(alone[0], together[0])
    assert m.probs(TEXT, []).shape == (0, 14)


def test_pool_reads_cls_open_marker_and_the_mean_inside():
    states = np.arange(12, dtype=np.float32).reshape(6, 2)
    v = pool(states, 1, 4)
    assert v.tolist() == [0, 1, 2, 3, 5, 6]  # CLS, open marker, mean of tokens 2 and 3
    assert pool(states, 1, 2)[4:].tolist() == [0, 0]  # nothing between the markers


def test_combine_is_the_normalised_geometric_mean():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    q = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    g = combine(p, q)
    assert np.allclose(g.sum(axis=1), 1)
    assert g[0].argmax() == 1 and g[1].argmax() == 2  # 0.4 beats 0.26
    assert np.allclose(g[0] / g[0].sum(), np.sqrt(p[0] * q[0]) / np.sqrt(p[0] * q[0]).sum())


def folder_with_marker(tmp_path, pieces):
    """The shipped model's first member with a marker classifier of random weights whose
    encoder is the member's own ONNX encoder (its first output serves as the states)."""
    folder = tmp_path / "model"
    shutil.copytree(single_model_dir(), folder)
    marker = folder / "marker"
    marker.mkdir()
    shutil.copy(folder / "tokenizer.json", marker / "tokenizer.json")
    shutil.copy(folder / "encoder.onnx", marker / "encoder.onnx")
    rng = np.random.default_rng(0)
    np.savez(marker / "head.npz", weights=rng.normal(size=(14, 9)), bias=np.zeros(14))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["marker"] = {"folder": "marker"}
    manifest["files"] = [*manifest.get("files", []), "marker/head.npz", "marker/encoder.onnx"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_folder_carries_its_marker_classifier_and_classify_uses_it(tmp_path, pieces,
                                                                      monkeypatch):
    from propscope import model_io

    folder = folder_with_marker(tmp_path, pieces)
    # the copied encoder gives BIO logits (3 wide) first: pooled, 9 numbers a span
    model = model_io.load_folder(folder)
    assert model.marker is not None
    a = TEXT.index("corrupt")
    spans = [Span(a, a + 13), Span(a + 14, a + 22)]
    enc = model.encode([TEXT])[0]
    head = model.technique_probs(enc, spans)
    joined = model.classifier_probs(enc, spans)
    assert np.allclose(joined, combine(head, model.marker.probs(TEXT, spans)))
    assert not np.allclose(joined, head)
    without = model.with_marker(None)
    assert np.allclose(without.classifier_probs(enc, spans), head)
    # predict's spans are named by the span head alone: the same with and without it
    assert model.predict([TEXT]) == without.predict([TEXT])


@pytest.mark.parametrize("damage, message", [
    ("missing", "marker/encoder.onnx is missing"),
    ("head", "cannot read the marker classifier's head"),
    ("techniques", "names 5 techniques, not 14"),
])
def test_a_broken_marker_classifier_is_one_line(tmp_path, pieces, damage, message):
    from propscope import model_io

    folder = folder_with_marker(tmp_path, pieces)
    if damage == "missing":
        (folder / "marker" / "encoder.onnx").unlink()
    elif damage == "head":
        (folder / "marker" / "head.npz").write_bytes(b"not a zip")
    else:
        np.savez(folder / "marker" / "head.npz", weights=np.zeros((5, 9)), bias=np.zeros(5))
    with pytest.raises(ModelError) as e:
        model_io.load_folder(folder)
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.train
def test_training_steps_export_and_read_back_through_onnx(tmp_path, ptc):
    pytest.importorskip("torch")
    from propscope import model_io
    from propscope.corpus import load_split
    from propscope.training import marker as training
    from propscope.training.encoders import encoder_dir

    tokenizer = encoder_dir("minilm") / "tokenizer.json"
    pieces = WordPieces(str(tokenizer))
    corpus = load_split(ptc, "valid")
    ids = list(corpus.articles)[:2]
    xs, ys, keys = training.examples(corpus, ids, pieces)
    assert len(xs) == len(ys) == len(keys) == len({k for k in keys})
    assert sum(map(len, ys)) == sum(len(corpus.gold[a]) for a in ids)
    recipe = dict(training.RECIPE, epochs=1)
    model = training.train(xs[:24], ys[:24], pieces.pad_id, recipe, log=lambda _: None)
    torch_probs = training.predict(model, xs[:6], pieces.pad_id)
    folder = tmp_path / "m"
    files = training.export(model, tokenizer, folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    clf = model_io.load_marker(folder, list(TECHNIQUE_NAMES))
    aid = ids[0]
    spans = [Span(a, b) for k, (art, a, b) in enumerate(keys[:6]) if art == aid]
    onnx_probs = clf.probs(corpus.articles[aid].text, spans)
    # INT8 weights and fp32 against bf16 torch: the same ranking, close probabilities
    assert np.abs(onnx_probs - torch_probs[: len(spans)]).max() < 0.05
    assert (onnx_probs.argmax(1) == torch_probs[: len(spans)].argmax(1)).all()


def test_second_stage_rows_read_the_joined_classifiers():
    """Stage rows fitted for a model with a marker classifier carry the span head joined
    with out-of-fold marker probabilities in their span-classifier block, as classify
    joins them at inference; the other blocks are left alone."""
    from propscope.training.context_fit import Rows, with_marker_probs

    t = 3
    head = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    x = np.concatenate([np.log(head), np.full((2, 4), 7.0, np.float32)], axis=1)
    rows = Rows(x, np.array([0, 2]), ["a1", "a1"], [(0, 4), (5, 9)])
    table = {("a1", 0, 4): np.array([0.1, 0.8, 0.1]), ("a1", 5, 9): np.array([0.2, 0.2, 0.6])}
    joined = with_marker_probs(rows, table, t)
    expect = combine(head, np.stack([table[("a1", 0, 4)], table[("a1", 5, 9)]]))
    assert np.allclose(np.exp(joined.x[:, :t]), expect, atol=1e-6)
    assert (joined.x[:, t:] == 7.0).all() and np.allclose(rows.x[:, :t], np.log(head))
    with pytest.raises(KeyError):  # a span without an out-of-fold probability
        with_marker_probs(Rows(x[:1], rows.y[:1], ["a2"], [(0, 4)]), table, t)


def test_a_model_can_use_the_bundled_marker_classifier_pinned_by_its_hash(tmp_path):
    """The accurate package names the classifier bundled with the default model instead of
    carrying a copy; a different bundled one (another propscope version) is one line."""
    from propscope import model_io
    from propscope.config import DEFAULT_MODEL_DIR

    folder = tmp_path / "model"
    shutil.copytree(single_model_dir(), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    sha = model_io.file_sha256(DEFAULT_MODEL_DIR / "marker" / "head.npz")
    assert sha is not None
    manifest["marker"] = {"source": "bundled", "folder": "marker", "head_sha256": sha}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    model = model_io.load_folder(folder)
    bundled = model_io.load_folder(DEFAULT_MODEL_DIR).marker
    assert model.marker is not None and np.array_equal(model.marker.weights, bundled.weights)
    manifest["marker"]["head_sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError) as e:
        model_io.load_folder(folder)
    assert "another marker classifier than the one bundled" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_model_can_take_a_copy_of_the_bundled_marker_classifier(tmp_path):
    """A model that is to replace the default gets the bundled classifier's files and
    record, so that it still has one once it is the default."""
    from propscope import model_io
    from propscope.config import DEFAULT_MODEL_DIR
    from propscope.training.marker import copy_bundled

    folder = tmp_path / "model"
    shutil.copytree(single_model_dir(), folder)
    assert model_io.load_folder(folder).marker is None
    record = copy_bundled(folder, log=lambda _: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["marker"] == record and "source" not in record
    assert {f for f in manifest["files"] if f.startswith("marker/")} == {
        f"marker/{p.name}" for p in (DEFAULT_MODEL_DIR / "marker").iterdir()}
    model = model_io.load_folder(folder)
    bundled = model_io.load_folder(DEFAULT_MODEL_DIR).marker
    assert model.marker is not None and np.array_equal(model.marker.weights, bundled.weights)


def test_checking_a_folder_reads_its_marker_classifier(tmp_path, pieces):
    """``propscope models --check`` (``validate_folder``) loads the marker classifier too:
    a corrupt one is named in one line, not found only when a text is classified."""
    from propscope import model_io

    folder = folder_with_marker(tmp_path, pieces)
    model_io.validate_folder(folder)
    (folder / "marker" / "encoder.onnx").write_bytes(b"not onnx!")
    with pytest.raises(ModelError) as e:
        model_io.validate_folder(folder)
    assert "cannot load the ONNX encoder" in str(e.value) and "marker" in str(e.value)


def test_with_in_predict_it_also_names_the_spans_predict_finds(tmp_path, pieces):
    from propscope import model_io

    example = (ROOT / "src" / "propscope" / "examples" / "example.txt").read_text()
    folder = folder_with_marker(tmp_path, pieces)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["marker"]["in_predict"] = True
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for in_predict in (True, False):
        model = model_io.load_folder(folder)
        model.marker_in_predict = in_predict
        runner = FakeRunner()
        model.marker = classifier(pieces, runner)
        spans = model.predict([example], mode="benchmark")[0]
        assert spans  # the example has BIO spans to name
        assert bool(runner.batches) == in_predict
    assert model_io.load_folder(folder).marker_in_predict is True

"""Distillation: soft targets (training/soft_targets.py: storage, alignment) and the student
(training/distil.py: windows, loss)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from propscope.predictors.encoding import WordPieces  # noqa: E402
from propscope.spans import Article, Span  # noqa: E402
from propscope.training import distil, soft_examples, soft_targets  # noqa: E402

TECHS = ["Doubt", "Loaded_Language", "Slogans"]
TEXT = "The corrupt elite lied to you again.\nNobody believes their outrageous plan."


def _target(pieces: WordPieces, text: str, aid: str = "1", source: str = "train",
             seed: int = 0) -> soft_targets.ArticleTargets:
    ids, _ = pieces(text)
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=len(ids)).astype(np.float32)
    tech = rng.random((len(ids), len(TECHS))).astype(np.float32)
    spans = np.array([[4, 17], [41, 48]], dtype=np.int32)
    span_probs = rng.dirichlet(np.ones(len(TECHS)), size=2).astype(np.float32)
    return soft_targets.ArticleTargets(aid, source, soft_targets.text_hash(text),
                                       soft_targets.pieces_hash(ids), probs, tech, spans,
                                       span_probs)


def test_quantise_round_trip_is_within_half_a_step():
    p = np.linspace(0, 1, 1001, dtype=np.float32)
    q = soft_targets.quantise(p)
    assert q.dtype == np.uint8 and q[0] == 0 and q[-1] == 255
    assert np.abs(soft_targets.dequantise(q) - p).max() <= 0.5 / 255 + 1e-7
    rows = soft_targets.renormalise(soft_targets.dequantise(soft_targets.quantise(
        np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 0.0]], np.float32))))
    assert np.allclose(rows.sum(-1), 1.0)


def test_targets_file_round_trip(tmp_path, tokenizer_json):
    pieces = WordPieces(tokenizer_json)
    targets = [_target(pieces, TEXT, "1"), _target(pieces, TEXT + " More.", "2", "extra", 1)]
    path = soft_targets.save_targets(tmp_path / "t.npz", targets,
                               {"teacher": "t", "techniques": TECHS, "decode": {}})
    loaded, meta = soft_targets.load_targets(path)
    assert meta["teacher"] == "t" and list(loaded) == ["1", "2"]
    for t in targets:
        got = loaded[t.aid]
        assert (got.source, got.text_hash, got.pieces_hash) == (t.source, t.text_hash,
                                                                t.pieces_hash)
        assert np.abs(got.probs - t.probs).max() < 2 / 255
        assert np.abs(got.tech - t.tech).max() <= 0.5 / 255 + 1e-7
        assert np.array_equal(got.spans, t.spans)
        assert np.abs(got.span_probs - t.span_probs).max() < 2 / 255


def test_prepare_checks_that_word_pieces_align(tokenizer_json):
    pieces = WordPieces(tokenizer_json)
    target = _target(pieces, TEXT)
    art = Article("1", TEXT)
    p = soft_examples.prepare(art, target, pieces, TECHS)
    assert len(p.ids) == len(target.probs) and np.allclose(p.bio, target.probs)
    assert len(p.spans) == 2 and all(j > i for i, j in p.spans)
    with pytest.raises(ValueError, match="text differs"):
        soft_examples.prepare(Article("1", TEXT + "!"), target, pieces, TECHS)
    other = soft_targets.ArticleTargets(**{**target.__dict__, "pieces_hash": "0" * 16})
    with pytest.raises(ValueError, match="word pieces"):
        soft_examples.prepare(art, other, pieces, TECHS)


def test_gold_mix_one_gives_the_gold_labels(tokenizer_json):
    pieces = WordPieces(tokenizer_json)
    target = _target(pieces, TEXT)
    gold = [Span(4, 17, "Loaded_Language")]
    p = soft_examples.prepare(Article("1", TEXT), target, pieces, TECHS, gold, gold_mix=1.0)
    assert set(np.unique(p.bio)) <= {0.0, 1.0} and p.bio[:, 1].sum() == 1  # one B
    assert p.tech[:, 1].sum() > 0 and p.tech[:, [0, 2]].sum() == 0
    assert np.allclose(p.span_targets[0], [0, 1, 0])  # the gold span's technique
    assert np.allclose(p.span_targets[1], target.span_probs[1])  # a teacher-only span
    half = soft_examples.prepare(Article("1", TEXT), target, pieces, TECHS, gold, gold_mix=0.5)
    assert np.allclose(half.bio.sum(-1), 1.0)


def test_windows_at_other_offsets_and_collate(tokenizer_json):
    pieces = WordPieces(tokenizer_json)
    text = " ".join(["word"] * 50)
    p = soft_examples.prepare(Article("1", text), _target(pieces, text), pieces, TECHS)
    plain = soft_examples.soft_windows([p], pieces, size=22, stride=16)
    shifted = soft_examples.soft_windows([p], pieces, size=22, stride=16, shift=8)
    assert len(plain[0].ids) == 22 and plain[0].ids[0] == pieces.cls_id
    assert np.array_equal(plain[1].ids[1:-1], p.ids[16:36])
    assert np.array_equal(shifted[1].ids[1:-1], p.ids[8:28])  # the second window moved
    ids, mask, bio, tech, real, spans, span_t, feats = soft_examples.collate_soft(plain[:2],
                                                                           pieces.pad_id)
    assert ids.shape == mask.shape == real.shape and bio.shape[-1] == 3
    assert not real[:, 0].any() and int(real.sum()) == sum(len(w.ids) - 2 for w in plain[:2])
    assert len(spans) == len(span_t) == len(feats)


def test_loss_has_zero_gradient_where_the_student_is_the_teacher():
    rng = np.random.default_rng(3)
    bio_t = torch.from_numpy(rng.dirichlet(np.ones(3), size=(2, 5)).astype(np.float32))
    tech_t = torch.from_numpy(rng.uniform(0.05, 0.95, size=(2, 5, 4)).astype(np.float32))
    span_t = torch.from_numpy(rng.dirichlet(np.ones(4), size=3).astype(np.float32))
    real = torch.ones((2, 5), dtype=torch.bool)
    real[:, 0] = False
    bio_l = torch.log(bio_t).requires_grad_()
    tech_l = torch.logit(tech_t).requires_grad_()
    span_l = torch.log(span_t).requires_grad_()
    loss = distil.distil_loss(bio_l, tech_l, bio_t, tech_t, real, span_l, span_t)
    loss.backward()
    for g in (bio_l.grad, tech_l.grad, span_l.grad):
        assert g.abs().max() < 1e-6
    # elsewhere it pulls: a student off the targets has a gradient
    moved = (bio_l.detach() + 1.0 * torch.arange(3)).requires_grad_()
    distil.distil_loss(moved, None, bio_t, tech_t, real).backward()
    assert moved.grad.abs().max() > 1e-3


def test_rebuild_command_names_the_settings_that_differ():
    from propscope.config import TrainConfig

    line = distil.rebuild_command("../shared/ptc", "runs/s", TrainConfig(epochs=4, lr=1e-4),
                                  "data/t.npz", 0.5)
    assert line == ("propscope train --data ../shared/ptc --out runs/s --soft-targets "
                    "data/t.npz --gold-mix 0.5 --epochs 4 --lr 0.0001")


@pytest.mark.train
def test_student_trains_a_few_steps_and_exports(tmp_path, ptc):
    import json

    from propscope.config import TrainConfig
    from propscope.corpus import load_split
    from propscope.model_io import load_folder
    from propscope.techniques import TECHNIQUE_NAMES
    from propscope.training.encoders import encoder_dir

    try:
        enc = encoder_dir("minilm")
    except Exception as e:  # noqa: BLE001
        pytest.skip(str(e))
    pieces = WordPieces(str(enc / "tokenizer.json"))
    techs = list(TECHNIQUE_NAMES)
    corpus = load_split(ptc, "train")
    rng = np.random.default_rng(0)
    targets = []
    for aid in list(corpus.articles)[:2]:
        art = corpus.articles[aid]
        ids, _ = pieces(art.text)
        gold = sorted({(s.start, s.end) for s in corpus.gold[aid]})
        targets.append(soft_targets.ArticleTargets(
            aid, "train", soft_targets.text_hash(art.text), soft_targets.pieces_hash(ids),
            rng.dirichlet(np.ones(3), len(ids)).astype(np.float32),
            rng.random((len(ids), len(techs))).astype(np.float32),
            np.array(gold, np.int32).reshape(-1, 2),
            rng.dirichlet(np.ones(len(techs)), len(gold)).astype(np.float32)))
    path = soft_targets.save_targets(tmp_path / "t.npz", targets,
                               {"teacher": "fake", "techniques": techs, "decode": {}})
    out = tmp_path / "student"
    figures = distil.train_student(ptc, out, TrainConfig(max_articles=2, max_steps=2, epochs=1,
                                                         keep="last", quantize=False),
                                   path, log=lambda m: None)
    assert set(figures) == {"si", "tc", "flc", "slc"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["train_config"]["extra"]["distilled_from"] == "fake"
    assert "--soft-targets" in manifest["rebuild"]
    assert isinstance(load_folder(out).predict(["The corrupt elite lied."])[0], list)

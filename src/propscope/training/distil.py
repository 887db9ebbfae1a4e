"""Distillation: one student trained on a teacher's soft targets (issue 12).

Two steps:

1. ``build_targets``: run a teacher (any model folder, e.g. the shipped two-MiniLM
   ensemble) over the transfer set (the train split plus a folder of unlabelled
   articles) and store, per article, the teacher's BIO probabilities and technique
   sigmoids for every word piece and its span classifier's distributions (first stage,
   without the second) for some spans: the gold spans of train articles, the teacher's own
   BIO spans of the unlabelled ones. Probabilities are stored as uint8 (``p * 255``) in a
   compressed npz, keyed by article id with a hash of the text and of its word pieces.

2. ``train_student``: fine-tune a pretrained encoder (same vocabulary as the teacher, so
   the per-word-piece targets align one to one; checked by the hashes) against those
   targets: soft cross-entropy on BIO, soft binary cross-entropy on techniques, soft
   cross-entropy of the span head on the stored spans. On train articles each target is
   mixed with the gold labels (``gold_mix``). Each epoch reads the articles through windows
   whose edges fall elsewhere (``SHIFTS``). The valid split is scored each epoch for the
   log only: the last epoch is kept and the decoding is the teacher's, so nothing is
   chosen on valid.

``python -m propscope.training.distil targets --teacher FOLDER --out FILE`` builds the
targets; ``propscope train --soft-targets FILE --out DIR`` trains a student.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import alignment
from ..config import DEFAULT_DATA_DIR, DecodeConfig, TrainConfig
from ..corpus import Corpus, load_split, read_articles
from ..span_features import surface_features
from ..spans import Article, Span
from .loop import _pretrained, _Run, record_scores, start_run, update_manifest

TARGETS_FORMAT = 1
#: window layouts, epoch by epoch: the second window starts this many word pieces in
#: (0: the plain layout), so window edges fall in other places each epoch
SHIFTS = (0, 96, 48, 144)


# -- quantisation and hashes ------------------------------------------------------------------
def quantise(p: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] -> uint8 (``round(p * 255)``)."""
    return np.clip(np.rint(np.asarray(p, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def dequantise(q: np.ndarray) -> np.ndarray:
    """uint8 -> float32 probabilities (error at most 1/510)."""
    return np.asarray(q, dtype=np.float32) / 255.0


def renormalise(p: np.ndarray) -> np.ndarray:
    """Rows of a distribution made to sum to 1 again after quantisation."""
    total = p.sum(axis=-1, keepdims=True)
    return np.where(total > 0, p / np.maximum(total, 1e-12), 1.0 / p.shape[-1]).astype(
        np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def pieces_hash(ids: Sequence[int]) -> str:
    return hashlib.sha1(np.asarray(ids, dtype=np.int32).tobytes()).hexdigest()[:16]


# -- the stored targets -----------------------------------------------------------------------
@dataclass
class ArticleTargets:
    """A teacher's outputs on one article (float32 here; uint8 on disk)."""

    aid: str
    source: str  # "train" (gold labels exist) or "extra" (unlabelled)
    text_hash: str
    pieces_hash: str
    probs: np.ndarray  # (tokens, 3) BIO probabilities
    tech: np.ndarray  # (tokens, techniques) technique sigmoids
    spans: np.ndarray  # (k, 2) character offsets
    span_probs: np.ndarray  # (k, techniques) span classifier distributions


def save_targets(path: Path | str, targets: Sequence[ArticleTargets], meta: dict[str, Any]
                 ) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_tech = len(meta["techniques"])
    np.savez_compressed(
        path,
        meta=np.array(json.dumps({**meta, "format": TARGETS_FORMAT})),
        aids=np.array([t.aid for t in targets]),
        sources=np.array([t.source for t in targets]),
        text_hash=np.array([t.text_hash for t in targets]),
        pieces_hash=np.array([t.pieces_hash for t in targets]),
        n_tokens=np.array([len(t.probs) for t in targets], dtype=np.int32),
        probs=quantise(np.concatenate([t.probs for t in targets]).reshape(-1, 3)),
        tech=quantise(np.concatenate([t.tech for t in targets]).reshape(-1, n_tech)),
        n_spans=np.array([len(t.spans) for t in targets], dtype=np.int32),
        spans=np.concatenate([t.spans for t in targets]).reshape(-1, 2).astype(np.int32),
        span_probs=quantise(np.concatenate([t.span_probs for t in targets])
                            .reshape(-1, n_tech)),
    )
    return path


def load_targets(path: Path | str) -> tuple[dict[str, ArticleTargets], dict[str, Any]]:
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != TARGETS_FORMAT:
            raise ValueError(f"{path}: soft-target format {meta.get('format')}, "
                             f"expected {TARGETS_FORMAT}")
        tok = np.concatenate([[0], np.cumsum(z["n_tokens"])])
        spn = np.concatenate([[0], np.cumsum(z["n_spans"])])
        probs, tech = dequantise(z["probs"]), dequantise(z["tech"])
        span_probs, spans = dequantise(z["span_probs"]), z["spans"]
        out = {}
        for k, aid in enumerate(z["aids"].tolist()):
            a, b, c, d = tok[k], tok[k + 1], spn[k], spn[k + 1]
            out[aid] = ArticleTargets(aid, str(z["sources"][k]), str(z["text_hash"][k]),
                                      str(z["pieces_hash"][k]), renormalise(probs[a:b]),
                                      tech[a:b], spans[c:d], renormalise(span_probs[c:d]))
    return out, meta


def build_targets(teacher_folder: Path | str, data_dir: Path | str, extra_articles: str,
                  out: Path | str, split: str = "train", log: Any = print) -> Path:
    """Run the teacher over ``split`` of ``data_dir`` plus every article of
    ``extra_articles`` and store its soft targets in ``out``."""
    from ..model_io import load_folder
    from ..predictors.decoding import bio_runs
    from ..predictors.encoding import uncached

    teacher = load_folder(teacher_folder)
    encoder = uncached(teacher.encoder)
    corpus = load_split(Path(data_dir), split)
    jobs: list[tuple[Article, str, list[tuple[int, int]] | None]] = []
    for aid, art in corpus.articles.items():
        gold = sorted({(s.start, s.end) for s in corpus.gold.get(aid, [])})
        jobs.append((art, "train", gold))
    extra = read_articles(Path(extra_articles)) if extra_articles else {}
    clash = sorted(set(extra) & set(corpus.articles))
    if clash:
        raise ValueError(f"article {clash[0]} is in both the split and {extra_articles}")
    jobs += [(art, "extra", None) for art in extra.values()]
    log(f"teacher {teacher.name}: {len(corpus.articles)} {split} articles + "
        f"{len(extra)} unlabelled")
    targets: list[ArticleTargets] = []
    t0 = time.monotonic()
    pieces = _first_pieces(encoder)
    for k in range(0, len(jobs), 16):
        chunk = jobs[k : k + 16]
        for (art, source, gold), enc in zip(chunk, encoder.encode([a.text for a, *_ in chunk]),
                                            strict=True):
            spans = gold if gold is not None else [(s, e) for s, e, _ in
                                                   bio_runs(enc, teacher.decode)]
            ids, offsets = pieces(art.text)
            if list(map(tuple, offsets)) != list(map(tuple, enc.offsets)):
                raise ValueError(f"article {art.id}: the teacher's tokens are not its first "
                                 "member's word pieces")
            span_probs = (teacher.technique_probs(enc, [Span(s, e) for s, e in spans])
                          if spans else np.zeros((0, len(teacher.techniques)), np.float32))
            n_tech = len(teacher.techniques)
            tech = enc.tech if enc.tech is not None else np.zeros((len(ids), n_tech))
            targets.append(ArticleTargets(
                art.id, source, text_hash(art.text), pieces_hash(ids),
                np.asarray(enc.probs, np.float32), np.asarray(tech, np.float32),
                np.array(spans, dtype=np.int32).reshape(-1, 2),
                np.asarray(span_probs, np.float32)))
        log(f"teacher: {len(targets)}/{len(jobs)} articles, "
            f"{time.monotonic() - t0:.0f} s")
    meta = {"teacher": teacher.name, "teacher_folder": str(teacher_folder),
            "techniques": list(teacher.techniques), "decode": teacher.decode.to_dict(),
            "data_dir": str(data_dir), "split": split, "extra_articles": extra_articles,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "spans": "train: distinct gold spans; extra: the teacher's BIO spans",
            "span_probs": "span classifier (first stage, no second stage)"}
    path = save_targets(out, targets, meta)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, "
        f"{sum(len(t.probs) for t in targets)} word pieces, "
        f"{sum(len(t.spans) for t in targets)} spans)")
    return path


def _first_pieces(encoder: Any) -> Any:
    """The word pieces of an encoder (an ensemble's first member's)."""
    from ..predictors.encoding import window_encoders

    return window_encoders(encoder)[0].pieces


# -- student examples -------------------------------------------------------------------------
@dataclass
class Prepared:
    """One article's word pieces with the student's targets for every piece and span."""

    ids: np.ndarray  # (tokens,)
    bio: np.ndarray  # (tokens, 3)
    tech: np.ndarray  # (tokens, techniques)
    spans: list[tuple[int, int]]  # token ranges [i, j)
    span_targets: list[np.ndarray]  # (techniques,) each
    feats: list[np.ndarray]


@dataclass
class SoftWindow:
    ids: np.ndarray  # with [CLS] ... [SEP]
    bio: np.ndarray  # (len, 3); rows of the special tokens are zero (not scored)
    tech: np.ndarray  # (len, techniques)
    spans: list[tuple[int, int]]  # window coordinates
    span_targets: list[np.ndarray]
    feats: list[np.ndarray]


def prepare(article: Article, target: ArticleTargets, pieces: Any, techniques: list[str],
            gold: Sequence[Span] | None = None, gold_mix: float = 0.0) -> Prepared:
    """An article's targets on the student's word pieces (which must be the teacher's: same
    text, same piece ids); with ``gold`` (train articles) each target is
    ``gold_mix * gold + (1 - gold_mix) * teacher``."""
    ids, offsets = pieces(article.text)
    if text_hash(article.text) != target.text_hash:
        raise ValueError(f"article {article.id}: text differs from the one the teacher read")
    if pieces_hash(ids) != target.pieces_hash or len(ids) != len(target.probs):
        raise ValueError(f"article {article.id}: the student's word pieces are not the "
                         "teacher's (another vocabulary?)")
    bio, tech = target.probs, target.tech
    lookup = alignment.TokenIndex(offsets)
    gold_by_pos: dict[tuple[int, int], np.ndarray] = {}
    if gold is not None and gold_mix > 0:
        onehot = np.eye(3, dtype=np.float32)[alignment.bio_tags(offsets, gold)]
        bio = gold_mix * onehot + (1 - gold_mix) * bio
        tech = gold_mix * alignment.technique_tags(offsets, gold, techniques) + (
            1 - gold_mix) * tech
        index = {t: k for k, t in enumerate(techniques)}
        for s in gold:
            if s.technique in index:
                row = gold_by_pos.setdefault((s.start, s.end),
                                             np.zeros(len(techniques), np.float32))
                row[index[s.technique]] += 1.0
    lower = article.text.lower()
    spans, span_targets, feats = [], [], []
    for (s, e), teacher_row in zip(target.spans.tolist(), target.span_probs, strict=True):
        i, j = lookup.range(s, e)
        if j <= i:
            continue
        row = teacher_row
        if (s, e) in gold_by_pos:
            g = gold_by_pos[(s, e)]
            row = gold_mix * g / g.sum() + (1 - gold_mix) * teacher_row
        spans.append((i, j))
        span_targets.append(row.astype(np.float32))
        feats.append(surface_features(article.text, s, e, lower))
    return Prepared(np.asarray(ids, np.int64), bio.astype(np.float32), tech.astype(np.float32),
                    spans, span_targets, feats)


def soft_windows(prepared: Sequence[Prepared], pieces: Any, size: int, stride: int,
                 shift: int = 0) -> list[SoftWindow]:
    """Windows of ``size`` word pieces (two of them special) every ``stride``; with
    ``shift`` the second window starts ``shift`` pieces in (``alignment.windows``)."""
    out = []
    for p in prepared:
        n = len(p.ids)
        if not n:
            continue
        for lo, hi in alignment.windows(n, size - 2, stride, shift if shift < stride else 0):
            w = hi - lo + 2
            ids = np.concatenate([[pieces.cls_id], p.ids[lo:hi], [pieces.sep_id]])
            bio = np.zeros((w, 3), np.float32)
            bio[1:-1] = p.bio[lo:hi]
            tech = np.zeros((w, p.tech.shape[1]), np.float32)
            tech[1:-1] = p.tech[lo:hi]
            spans, targets, feats = [], [], []
            for (i, j), t, f in zip(p.spans, p.span_targets, p.feats, strict=True):
                ci, cj = max(i, lo), min(j, hi)
                if cj > ci and (cj - ci) * 2 >= (j - i):
                    spans.append((ci - lo + 1, cj - lo + 1))
                    targets.append(t)
                    feats.append(f)
            out.append(SoftWindow(ids.astype(np.int64), bio, tech, spans, targets, feats))
    return out


def collate_soft(batch: Sequence[SoftWindow], pad_id: int) -> tuple:
    """Tensors of a batch: ids, mask, BIO targets, technique targets, the rows scored (real
    tokens), spans (row, first, end), span targets, span features."""
    width = max(len(w.ids) for w in batch)
    n_tech = batch[0].tech.shape[1]
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    bio = torch.zeros((len(batch), width, 3))
    tech = torch.zeros((len(batch), width, n_tech))
    real = torch.zeros((len(batch), width), dtype=torch.bool)
    spans, targets, feats = [], [], []
    for r, w in enumerate(batch):
        n = len(w.ids)
        ids[r, :n] = torch.from_numpy(w.ids)
        mask[r, :n] = 1
        bio[r, :n] = torch.from_numpy(w.bio)
        tech[r, :n] = torch.from_numpy(w.tech)
        real[r, 1 : n - 1] = True
        for (i, j), t, f in zip(w.spans, w.span_targets, w.feats, strict=True):
            spans.append((r, i, j))
            targets.append(t)
            feats.append(f)
    span_t = torch.tensor(spans, dtype=torch.long).reshape(-1, 3)
    target_t = (torch.from_numpy(np.stack(targets)) if targets
                else torch.zeros((0, n_tech)))
    feat_t = torch.from_numpy(np.stack(feats)).float() if feats else torch.zeros((0, 6))
    return ids, mask, bio, tech, real, span_t, target_t, feat_t


def soft_cross_entropy(logits: Any, target: Any) -> Any:
    """Mean over rows of ``-sum(target * log_softmax(logits))``; its gradient in the logits
    is ``softmax(logits) - target``: zero where the student's distribution is the target."""
    return -(target * torch.log_softmax(logits.float(), dim=-1)).sum(-1).mean()


def distil_loss(bio_logits: Any, tech_logits: Any | None, bio_t: Any, tech_t: Any, real: Any,
                span_logits: Any | None = None, span_t: Any | None = None,
                technique_weight: float = 1.0, span_weight: float = 1.0) -> Any:
    """Soft BIO cross-entropy + soft technique BCE over the real tokens, plus the span
    head's soft cross-entropy when there are spans."""
    loss = soft_cross_entropy(bio_logits[real], bio_t[real])
    if tech_logits is not None and technique_weight:
        loss = loss + technique_weight * torch.nn.functional.binary_cross_entropy_with_logits(
            tech_logits.float()[real], tech_t[real])
    if span_logits is not None and span_t is not None and len(span_t) and span_weight:
        loss = loss + span_weight * soft_cross_entropy(span_logits, span_t)
    return loss


# -- training ---------------------------------------------------------------------------------
def train_student(data_dir: Path | str, out: Path | str, config: TrainConfig,
                  targets_path: Path | str, gold_mix: float = 0.5, log: Any = print,
                  init_from: Path | str | None = None) -> dict[str, Any]:
    """Train a student on the soft targets in ``targets_path`` (see the module doc), export
    it with the teacher's decoding and score the export on valid. Resumes from
    ``out/checkpoint.pt``. ``init_from``: a student's weights (``best.pt``) to start from
    instead of the pretrained encoder with fresh heads (training on, with a new schedule)."""
    from ..evaluation import evaluate_predictor
    from ..model_io import load_folder
    from ..predictors.neural import NeuralPredictor, neural_predictor
    from .export import write_model_folder
    from .model import SpanTagger

    cfg = config
    out, enc_dir, pieces = start_run(cfg, out)
    targets, meta = load_targets(targets_path)
    techniques = list(meta["techniques"])
    train_c = load_split(Path(data_dir), cfg.train_split)
    valid_c = load_split(Path(data_dir), cfg.valid_split)
    if cfg.max_articles:  # smoke tests
        valid_c = Corpus(dict(list(valid_c.articles.items())[: cfg.max_articles]),
                         valid_c.gold)
    leaked = sorted(set(targets) & set(valid_c.articles))
    if leaked:
        raise ValueError(f"the soft targets hold {len(leaked)} {cfg.valid_split} articles "
                         f"(e.g. {leaked[0]}): the student must not train on them")
    extra_dir = cfg.extra_articles or meta.get("extra_articles") or ""
    extra = read_articles(Path(extra_dir)) if extra_dir else {}
    prepared = []
    for aid, t in targets.items():
        if t.source == "train":
            if aid not in train_c.articles:
                continue  # e.g. a cross-validation split that leaves it out
            prepared.append(prepare(train_c.articles[aid], t, pieces, techniques,
                                    train_c.gold.get(aid, []), gold_mix))
        elif aid in extra:
            prepared.append(prepare(extra[aid], t, pieces, techniques))
    if cfg.max_articles:
        prepared = prepared[: cfg.max_articles]
    n_windows = max(len(soft_windows(prepared, pieces, cfg.window, cfg.stride, shift))
                    for shift in SHIFTS[: max(1, cfg.epochs)])
    log(f"student of {meta['teacher']}: {len(prepared)} articles "
        f"({sum(t.source == 'train' for t in targets.values())} train), {n_windows} windows, "
        f"{sum(len(p.spans) for p in prepared)} spans; gold mix {gold_mix}; "
        f"valid: {len(valid_c.articles)} articles (scored, never trained on)")
    model = SpanTagger(_pretrained(enc_dir), len(techniques))
    if init_from:
        model.load_state_dict(torch.load(init_from, weights_only=True))
        cfg.extra["init_from"] = str(init_from)
        log(f"starting from {init_from}")
    run = _DistilRun(model, cfg, out, n_windows, log)
    decode = DecodeConfig(**meta["decode"])

    def as_predictor() -> NeuralPredictor:
        return neural_predictor(pieces, model.torch_runner(), model.numpy_head(), techniques,
                                decode, {"name": "student"}, batch_size=16)

    state = run.state
    while state["epoch"] < cfg.epochs and state["step"] < run.total:
        shift = SHIFTS[state["epoch"] % len(SHIFTS)]
        e0 = time.monotonic()
        run.epoch_soft(soft_windows(prepared, pieces, cfg.window, cfg.stride, shift),
                       pieces.pad_id)
        entry: dict[str, Any] = {"epoch": state["epoch"], "shift": shift}
        if cfg.keep != "last":  # logged only: the last epoch is kept whatever it scores
            entry.update(evaluate_predictor(as_predictor(), valid_c).summary())
        state["minutes"] = state.get("minutes", 0.0) + (time.monotonic() - e0) / 60
        entry["minutes"] = round(state["minutes"], 1)
        state["history"].append(entry)
        log(f"epoch {state['epoch']}: {entry}")
        torch.save(model.state_dict(), out / "best.pt")
        run.checkpoint()

    model.load_state_dict(torch.load(out / "best.pt", weights_only=True))
    cfg.extra.update({"soft_targets": str(targets_path), "gold_mix": gold_mix,
                      "distilled_from": meta["teacher"]})
    write_model_folder(model, out, enc_dir / "tokenizer.json", techniques, cfg, decode,
                       {"history": state["history"], "encoder": cfg.encoder,
                        "encoder_shape": [model.encoder.config.hidden_size,
                                          model.encoder.config.num_hidden_layers],
                        "train_minutes": round(state.get("minutes", 0.0), 1)},
                       data_dir)
    rebuild = rebuild_command(data_dir, out, cfg, targets_path, gold_mix)
    update_manifest(out, rebuild=rebuild + (f" --init-from {init_from}" if init_from else ""))
    ev = evaluate_predictor(load_folder(out), valid_c)
    log(f"exported student, the teacher's decoding: {ev.summary()}")
    return record_scores(out, ev, log)


def rebuild_command(data_dir: Path | str, out: Path | str, cfg: TrainConfig,
                    targets_path: Path | str, gold_mix: float) -> str:
    """The ``propscope train`` command line of this student: the flags of every setting
    that differs from the defaults."""
    defaults = TrainConfig()
    flags = [f"--{k.replace('_', '-')} {v}" for k, v in cfg.to_dict().items()
             if k != "extra" and v != getattr(defaults, k)]
    return " ".join([f"propscope train --data {data_dir} --out {out}",
                     f"--soft-targets {targets_path} --gold-mix {gold_mix}", *flags])


class _DistilRun(_Run):
    """``loop._Run`` (optimiser, schedule, checkpoint, resume) with the soft-target step."""

    def epoch_soft(self, windows: list[SoftWindow], pad_id: int) -> None:
        from ..progress import Progress

        cfg, state = self.cfg, self.state
        self.model.train()
        rng = random.Random(cfg.seed + state["epoch"])
        order = list(range(len(windows)))
        rng.shuffle(order)
        steps = (len(order) + cfg.batch_size - 1) // cfg.batch_size
        bar = Progress(f"epoch {state['epoch'] + 1}/{cfg.epochs}", every=10)
        t0, seen = time.monotonic(), 0
        for b in range(0, len(order), cfg.batch_size):
            if state["step"] >= self.total:
                break
            loss = self._soft_step(collate_soft([windows[i] for i in
                                                 order[b : b + cfg.batch_size]], pad_id))
            state["step"] += 1
            seen += 1
            bar(seen, steps, f"loss {loss:.3f}")
            if seen in (20, 100):
                print(f"[distil] {seen} steps, {(time.monotonic() - t0) / seen:.2f} s/step, "
                      f"{steps} steps this epoch", file=sys.stderr, flush=True)
        state["epoch"] += 1

    def _soft_step(self, batch: tuple) -> float:
        cfg, model = self.cfg, self.model
        ids, mask, bio, tech, real, spans, span_t, feats = batch
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            logits, states, tech_logits = model(ids, mask)
            span_logits = (model.span_logits(states.float(), spans, feats) if len(spans)
                           else None)
            loss = distil_loss(logits, tech_logits, bio, tech, real, span_logits, span_t,
                               cfg.technique_loss_weight, cfg.span_loss_weight)
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        return float(loss.item())


# -- command line -----------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m propscope.training.distil")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("targets", help="run a teacher over the transfer set, store its "
                                       "soft targets")
    t.add_argument("--teacher", default="src/propscope/models/default", help="model folder")
    t.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="PTC folder")
    t.add_argument("--split", default="train", help="labelled split of the transfer set")
    t.add_argument("--extra-articles", default="../shared/unlabeled-news",
                   help="folder of unlabelled article<ID>.txt files ('' for none)")
    t.add_argument("--out", required=True, help="npz file to write")
    c = sub.add_parser("compare", help="score model folders on valid: their own decoding, "
                                       "with and without their second stage")
    c.add_argument("--model", action="append", required=True, help="model folder (repeat)")
    c.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="PTC folder")
    c.add_argument("--split", default="valid")
    c.add_argument("--retune", action="store_true",
                   help="also re-tune each model's decoding on the split (as train does)")
    args = p.parse_args(argv)
    if args.command == "compare":
        for row in compare(args.model, args.data, args.split, args.retune):
            print(json.dumps(row), flush=True)
        return 0
    build_targets(args.teacher, args.data, args.extra_articles, args.out, args.split,
                  log=lambda m: print(m, file=sys.stderr, flush=True))
    return 0


def compare(folders: Sequence[str], data_dir: str, split: str = "valid",
            retune: bool = False) -> list[dict[str, Any]]:
    """SI, TC, FLC, SLC of each model folder on ``split``, with its own decoding; with its
    second stage (if it has one) and without; with ``retune``, also with its decoding
    re-tuned on ``split`` itself (how ``train`` chooses a model's decoding)."""
    from ..evaluation import evaluate_predictor
    from ..model_io import load_folder
    from .loop import encode_corpus, tune

    corpus = load_split(Path(data_dir), split)
    rows: list[dict[str, Any]] = []
    for folder in folders:
        predictor = load_folder(folder)
        t0 = time.monotonic()
        encs = encode_corpus(predictor, corpus)
        seconds = round(time.monotonic() - t0, 1)
        variants = [("own decoding, no second stage", predictor.with_context(None))]
        if predictor.context is not None:
            variants.append(("own decoding, with its second stage", predictor))
        if retune:
            chosen = tune(predictor, corpus, lambda m: None, encs)
            variants.append((f"decoding re-tuned on {split}, no second stage",
                             predictor.with_context(None).with_decode(chosen)))
        for what, p in variants:
            scores = evaluate_predictor(p.holding(encs), corpus).summary()
            rows.append({"model": str(folder), "name": predictor.name, "variant": what,
                         **scores, "encode_seconds": seconds})
    return rows


if __name__ == "__main__":
    raise SystemExit(main())

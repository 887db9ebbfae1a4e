"""``train()``: fine-tune the span tagger on the train split, early-stop on valid, export."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import metrics
from ..config import DecodeConfig, TrainConfig
from ..corpus import Corpus, load_labelled, load_split, merge_corpora
from ..errors import ModelError
from ..evaluation import Evaluation, evaluate_predictor, record_scores
from ..manifest import update_manifest
from ..predictors.decoding import bio_runs, decode
from ..predictors.encoding import uncached
from ..predictors.neural import Encoded, NeuralPredictor, WordPieces, neural_predictor
from ..progress import Progress
from ..spans import Span
from ..techniques import TECHNIQUE_NAMES
from .data import build_windows, collate
from .encoders import encoder_dir
from .folders import check_run_folder, save_whole
from .model import SpanTagger
from .optim import update

Log = Callable[[str], None]


def _subset(c: Corpus, n: int | None) -> Corpus:
    if n is None:
        return c
    ids = list(c.articles)[:n]
    return Corpus({i: c.articles[i] for i in ids}, {i: c.gold[i] for i in ids})


def encode_corpus(predictor: NeuralPredictor, corpus: Corpus) -> list[Encoded]:
    """Encoder outputs for every article of ``corpus``, once, for the tuning grids (read
    past the predictor's cache, which they would only crowd)."""
    encoder = uncached(predictor.encoder)
    ids = list(corpus.articles)
    return [e for k in range(0, len(ids), 16)
            for e in encoder.encode([corpus.articles[i].text for i in ids[k : k + 16]])]


def tune(predictor: NeuralPredictor, corpus: Corpus, log: Log = print,
         encs: list[Encoded] | None = None) -> DecodeConfig:
    """Span decoding, then the labeller, chosen on ``corpus`` from one encoding pass
    (``encs``, the corpus's encodings, when the caller has them already)."""
    encs = encs if encs is not None else encode_corpus(predictor, corpus)
    spans_only = tune_decode(predictor, corpus, encs)
    return tune_labeller(predictor, corpus, encs, log, base=spans_only)


def tune_decode(predictor: NeuralPredictor, corpus: Corpus, encs: list[Encoded],
                his: tuple[float, ...] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
                los: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35),
                max_gap: int = 2) -> DecodeConfig:
    """Span-decoding thresholds (seed, extend) with the best SI F1 on ``corpus``.

    Two scalars on a coarse grid; the gap bridged inside a line is fixed, not tuned.
    """
    ids = list(corpus.articles)
    best, best_f1 = predictor.decode, -1.0
    for hi in his:
        for lo in (x for x in los if x <= hi):
            cand = replace(predictor.decode, span_threshold=hi, extend_threshold=lo,
                           max_gap=max_gap)
            pred = {aid: [Span(s, e) for s, e, _ in bio_runs(enc, cand)]
                    for aid, enc in zip(ids, encs, strict=True)}
            f1 = metrics.si_score(pred, corpus.gold).overall.f1
            if f1 > best_f1:
                best, best_f1 = cand, f1
    return best


def tune_labeller(predictor: NeuralPredictor, corpus: Corpus, encs: list[Encoded],
                  log: Log = print,
                  grid: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5),
                  base: DecodeConfig | None = None) -> DecodeConfig:
    """For models with a per-token technique head: its thresholds, and which labeller
    (span classifier on BIO spans, technique head, or both) gives the best SI F1 + FLC F1
    on ``corpus`` (the two end-to-end measures of the spans ``predict`` writes)."""
    ids = list(corpus.articles)
    base = base or predictor.decode
    if encs and encs[0].tech is None:
        return base

    head = predictor.span_head()

    def score(config: DecodeConfig) -> float:
        pred = {aid: decode(e, config, head) for aid, e in zip(ids, encs, strict=True)}
        return (metrics.si_score(pred, corpus.gold).overall.f1
                + metrics.flc_score(pred, corpus.gold).overall.f1)

    best = replace(base, labeller="span_head")
    best_f1 = score(best)
    log(f"SI + FLC with the span classifier: {best_f1:.4f}")
    for labeller in ("token_head", "union"):
        for hi in grid:
            for lo in (x for x in grid if x <= hi):
                cand = replace(base, labeller=labeller, technique_threshold=hi,
                               technique_extend=lo)
                f1 = score(cand)
                if f1 > best_f1:
                    best, best_f1 = cand, f1
    log(f"labeller chosen on valid SI + FLC: {best.labeller} ({best_f1:.4f})")
    return best


def retune_folder(folder: Path | str, data_dir: Path | str, log: Log = print,
                  valid_c: Corpus | None = None) -> dict[str, Any]:
    """Tune an exported model's decoding on valid and score it (no training)."""
    from ..model_io import load_folder

    folder = Path(folder)
    valid_c = valid_c or load_split(data_dir, "valid")
    ev, _, decoding = tune_and_evaluate(load_folder(folder), valid_c, log)
    update_manifest(folder, decode=decoding.to_dict())
    log(f"decoding tuned on valid: {decoding.to_dict()}")
    return record_scores(folder, ev, log)


def tune_and_evaluate(predictor: NeuralPredictor, corpus: Corpus, log: Log = print
                      ) -> tuple[Evaluation, float, DecodeConfig]:
    """Encode ``corpus`` once, tune the predictor's decoding on it and score it from those
    same encodings. Returns the evaluation, the seconds spent encoding and the decoding
    chosen (the predictor itself is left as it was)."""
    t0 = time.perf_counter()
    encs = encode_corpus(predictor, corpus)
    seconds = time.perf_counter() - t0
    chosen = tune(predictor, corpus, log, encs)
    tuned = predictor.with_decode(chosen).holding(encs)  # scored from the same encodings
    return evaluate_predictor(tuned, corpus), seconds, chosen


def train(data_dir: Path | str, out: Path | str, config: TrainConfig | None = None,
          log: Log = print) -> dict[str, Any]:
    """Train, keep the best epoch by valid SI F1 + TC F1, export the model folder.

    Resumes from ``out/checkpoint.pt`` when it exists. Returns the valid metrics.
    """

    cfg = config or TrainConfig()
    out, enc_dir, pieces = start_run(cfg, out)
    techniques = list(TECHNIQUE_NAMES)
    train_c, valid_c = _training_corpora(data_dir, cfg, log)
    windows = build_windows(train_c, pieces, techniques, cfg.window, cfg.stride)
    log(f"train: {len(train_c.articles)} articles, {len(windows)} windows; "
        f"valid: {len(valid_c.articles)} articles")
    model = SpanTagger(_pretrained(enc_dir, cfg.layers), len(techniques))
    run = _Run(model, cfg, out, len(windows), log)
    decode = DecodeConfig(window=cfg.window, stride=cfg.stride)

    def as_predictor() -> NeuralPredictor:
        return live_predictor(model, pieces, techniques, decode, "training")

    t0 = time.monotonic()
    state = run.state
    while state["epoch"] < cfg.epochs and state["step"] < run.total and state["bad"] < cfg.patience:
        run.epoch(windows, pieces.pad_id)
        if cfg.keep == "last":  # nothing to choose: save the epoch without scoring it
            state["history"].append({"epoch": state["epoch"],
                                     "minutes": round((time.monotonic() - t0) / 60, 1)})
            save_whole(model.state_dict(), out / "best.pt")
        else:
            f = evaluate_predictor(as_predictor(), valid_c).summary()
            state["history"].append({"epoch": state["epoch"], **f,
                                     "minutes": round((time.monotonic() - t0) / 60, 1)})
            log(f"epoch {state['epoch']}: valid {f}")
            run.keep_if_best(f["si"] + f["tc"])
        run.checkpoint()

    model.load_state_dict(torch.load(out / "best.pt", weights_only=True))
    # Decoding is tuned on the exported (INT8) model, whose probabilities are the ones users
    # get: INT8 moves them enough that thresholds tuned on the torch model cost SI/SLC.
    export_run(model, out, enc_dir, techniques, cfg, decode, state["history"],
               (time.monotonic() - t0) / 60, data_dir)
    if cfg.keep == "last":  # cross-validation: the held-out fold tunes nothing either
        return {"epochs": state["epoch"]}
    return retune_folder(out, data_dir, log, valid_c)


def start_run(cfg: TrainConfig, out: Path | str) -> tuple[Path, Path, WordPieces]:
    """A training run's start: its output folder made, every seed set, torch's threads,
    and the pretrained encoder's folder and word pieces."""
    out = check_run_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    enc_dir = encoder_dir(cfg.encoder)
    return out, enc_dir, WordPieces(str(enc_dir / "tokenizer.json"))


def live_predictor(model: SpanTagger, pieces: WordPieces, techniques: list[str],
                   decode: DecodeConfig, name: str) -> NeuralPredictor:
    """The model as it is now (torch), behind the same decoding code the shipped model
    uses: for scoring it between epochs."""
    return neural_predictor(pieces, model.torch_runner(), model.numpy_head(), techniques,
                            decode, {"name": name}, batch_size=16)


def export_run(model: SpanTagger, out: Path, enc_dir: Path, techniques: list[str],
               cfg: TrainConfig, decode: DecodeConfig, history: list, minutes: float,
               data_dir: Path | str) -> None:
    """Write a run's model folder (``export.write_model_folder``) with its history, encoder
    and training time in the manifest."""
    from .export import write_model_folder

    write_model_folder(model, out, enc_dir / "tokenizer.json", techniques, cfg, decode,
                       {"history": history, "encoder": cfg.encoder,
                        "encoder_shape": [model.encoder.config.hidden_size,
                                          model.encoder.config.num_hidden_layers],
                        "train_minutes": round(minutes, 1)},
                       data_dir)


def _training_corpora(data_dir: Path | str, cfg: TrainConfig, log: Log
                      ) -> tuple[Corpus, Corpus]:
    """The train split (with the extra self-training articles) and the valid split."""
    train_c = _subset(load_split(data_dir, cfg.train_split), cfg.max_articles)
    valid_c = _subset(load_split(data_dir, cfg.valid_split), cfg.max_articles)
    if cfg.extra_articles or cfg.extra_labels:
        extra_c = _subset(load_labelled(cfg.extra_articles, cfg.extra_labels), cfg.max_articles)
        log(f"extra (self-training): {len(extra_c.articles)} articles, "
            f"{sum(map(len, extra_c.gold.values()))} spans")
        train_c = merge_corpora(train_c, extra_c)
    return train_c, valid_c


def _pretrained(enc_dir: Path, layers: int | None = None) -> Any:
    """The pretrained transformer, with SDPA attention where the architecture has it; with
    ``layers``, only its first ``layers`` transformer layers (the rest are not loaded)."""
    from transformers import AutoConfig, AutoModel

    extra: dict[str, Any] = {}
    if layers is not None:
        full = AutoConfig.from_pretrained(str(enc_dir)).num_hidden_layers
        if not 1 <= layers <= full:
            raise ModelError(f"--layers must be 1 to {full} for this encoder, not {layers}")
        extra["num_hidden_layers"] = layers
    try:
        return AutoModel.from_pretrained(str(enc_dir), attention_probs_dropout_prob=0.0,
                                         attn_implementation="sdpa", **extra)
    except ValueError:  # architectures without SDPA support (MPNet)
        return AutoModel.from_pretrained(str(enc_dir), attention_probs_dropout_prob=0.0,
                                         attn_implementation="eager", **extra)


class _Run:
    """One training run's optimiser, schedule and state (epoch, step, best score, epochs
    without improvement, history), resumed from ``out/checkpoint.pt`` when it exists."""

    def __init__(self, model: SpanTagger, cfg: TrainConfig, out: Path, n_windows: int,
                 log: Log) -> None:
        self.model, self.cfg, self.out, self.log = model, cfg, out, log
        head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
        self.opt = torch.optim.AdamW(
            [{"params": model.encoder.parameters(), "lr": cfg.lr},
             {"params": head_params, "lr": cfg.head_lr}],
            weight_decay=cfg.weight_decay,
        )
        self.steps_per_epoch = (n_windows + cfg.batch_size - 1) // cfg.batch_size
        total = self.steps_per_epoch * cfg.epochs
        if cfg.max_steps:
            total = min(total, cfg.max_steps)
        self.total = total
        warm = max(1, int(cfg.warmup * total))
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt,
            lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        self.ckpt = out / "checkpoint.pt"
        for left in out.glob(".*.pt.*.tmp"):  # half a save of a killed run (``save_whole``)
            left.unlink(missing_ok=True)
        self.state: dict[str, Any] = {"epoch": 0, "step": 0, "best": -1.0, "bad": 0,
                                      "history": []}
        if self.ckpt.exists():
            saved = torch.load(self.ckpt, weights_only=False)
            model.load_state_dict(saved["model"])
            self.opt.load_state_dict(saved["opt"])
            self.sched.load_state_dict(saved["sched"])
            self.state = saved["state"]
            log(f"resumed from {self.ckpt} at epoch {self.state['epoch']}")

    def epoch(self, windows: list, pad_id: int) -> None:
        """One pass over the windows in this epoch's shuffled order (up to the step limit)."""
        cfg, state = self.cfg, self.state
        self.model.train()
        rng = random.Random(cfg.seed + state["epoch"])
        order = list(range(len(windows)))
        rng.shuffle(order)
        steps = (len(order) + cfg.batch_size - 1) // cfg.batch_size
        bar = Progress(f"epoch {state['epoch'] + 1}/{cfg.epochs}", every=10)
        seen = 0
        for b in range(0, len(order), cfg.batch_size):
            if state["step"] >= self.total:
                break
            loss = self._step(self._collate([windows[i] for i in
                                             order[b : b + cfg.batch_size]], pad_id))
            state["step"] += 1
            seen += 1
            bar(seen, steps, f"loss {loss:.3f}")
        state["epoch"] += 1

    #: a batch of windows as tensors (``data.collate``: gold labels)
    _collate = staticmethod(collate)

    def _loss(self, batch: tuple) -> Any:
        """The loss of one batch against its gold labels."""
        cfg, model = self.cfg, self.model
        ids, mask, tags, techs, spans, labels, feats = batch
        logits, states, tech_logits = model(ids, mask)
        loss = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, 3), tags.reshape(-1), ignore_index=-100)
        if cfg.technique_loss_weight:
            real = tags != -100
            loss = loss + cfg.technique_loss_weight * (
                torch.nn.functional.binary_cross_entropy_with_logits(
                    tech_logits.float()[real], techs[real]))
        if len(labels):
            span_logits = model.span_logits(states.float(), spans, feats)
            loss = loss + cfg.span_loss_weight * torch.nn.functional.cross_entropy(
                span_logits.float(), labels)
        return loss

    def _step(self, batch: tuple) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cfg.bf16):
            loss = self._loss(batch)
        return update(self.model, self.opt, self.sched, loss)

    def keep_if_best(self, score: float) -> None:
        """Save the weights as ``best.pt`` when ``score`` beats the best so far."""
        if score > self.state["best"]:
            self.state["best"], self.state["bad"] = score, 0
            save_whole(self.model.state_dict(), self.out / "best.pt")
        else:
            self.state["bad"] += 1

    def checkpoint(self) -> None:
        save_whole({"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                    "sched": self.sched.state_dict(), "state": self.state}, self.ckpt)

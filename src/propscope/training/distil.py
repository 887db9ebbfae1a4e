"""Distillation: one student trained on a teacher's soft targets (issue 12).

Two steps:

1. ``soft_targets.build_targets``: a teacher's soft targets over the transfer set (the
   train split plus unlabelled articles), stored in a compressed npz.

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
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..config import DEFAULT_DATA_DIR, DecodeConfig, TrainConfig
from ..corpus import Corpus, load_split, read_articles
from ..evaluation import record_scores
from ..manifest import update_manifest
from .folders import save_whole
from .loop import _pretrained, _Run, export_run, live_predictor, start_run
from .soft_examples import Prepared, collate_soft, prepare, soft_windows
from .soft_targets import ArticleTargets, build_targets, load_targets

#: window layouts, epoch by epoch: the second window starts this many word pieces in
#: (0: the plain layout), so window edges fall in other places each epoch
SHIFTS = (0, 96, 48, 144)



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
    from .model import SpanTagger

    cfg = config
    out, enc_dir, pieces = start_run(cfg, out)
    targets, meta = load_targets(targets_path)
    techniques = list(meta["techniques"])
    prepared, valid_c = _transfer_set(data_dir, cfg, targets, meta, pieces, gold_mix)
    n_windows = max(len(soft_windows(prepared, pieces, cfg.window, cfg.stride, shift))
                    for shift in SHIFTS[: max(1, cfg.epochs)])
    log(f"student of {meta['teacher']}: {len(prepared)} articles "
        f"({sum(t.source == 'train' for t in targets.values())} train), {n_windows} windows, "
        f"{sum(len(p.spans) for p in prepared)} spans; gold mix {gold_mix}; "
        f"valid: {len(valid_c.articles)} articles (scored, never trained on)")
    model = SpanTagger(_pretrained(enc_dir, cfg.layers), len(techniques))
    if init_from:
        model.load_state_dict(torch.load(init_from, weights_only=True))
        cfg.extra["init_from"] = str(init_from)
        log(f"starting from {init_from}")
    run = _DistilRun(model, cfg, out, n_windows, log)
    decode = DecodeConfig(**meta["decode"])

    state = run.fit(prepared, pieces, lambda: evaluate_predictor(
        live_predictor(model, pieces, techniques, decode, "student"), valid_c))

    model.load_state_dict(torch.load(out / "best.pt", weights_only=True))
    cfg.extra.update({"soft_targets": str(targets_path), "gold_mix": gold_mix,
                      "distilled_from": meta["teacher"]})
    export_run(model, out, enc_dir, techniques, cfg, decode, state["history"],
               state.get("minutes", 0.0), data_dir)
    rebuild = rebuild_command(data_dir, out, cfg, targets_path, gold_mix)
    update_manifest(out, rebuild=rebuild + (f" --init-from {init_from}" if init_from else ""))
    ev = evaluate_predictor(load_folder(out), valid_c)
    log(f"exported student, the teacher's decoding: {ev.summary()}")
    return record_scores(out, ev, log)


def _transfer_set(data_dir: Path | str, cfg: TrainConfig, targets: dict[str, ArticleTargets],
                  meta: dict[str, Any], pieces: Any, gold_mix: float
                  ) -> tuple[list[Prepared], Corpus]:
    """The student's examples (train articles of ``cfg.train_split`` holding soft targets,
    with their gold mixed in, and the unlabelled ones) and the valid corpus, which no
    soft target may come from."""
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
    techniques = list(meta["techniques"])
    prepared = []
    for aid, t in targets.items():
        if t.source == "train":
            if aid not in train_c.articles:
                continue  # e.g. a cross-validation split that leaves it out
            prepared.append(prepare(train_c.articles[aid], t, pieces, techniques,
                                    train_c.gold.get(aid, []), gold_mix))
        elif aid in extra:
            prepared.append(prepare(extra[aid], t, pieces, techniques))
    return (prepared[: cfg.max_articles] if cfg.max_articles else prepared), valid_c


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

    def fit(self, prepared: Sequence[Prepared], pieces: Any, score: Any) -> dict[str, Any]:
        """Train the remaining epochs (each on windows shifted by ``SHIFTS``), saving the
        weights (``best.pt``) and a checkpoint after each; ``score()`` (valid) is logged
        unless ``keep`` is last. Returns the run's state."""
        cfg, state = self.cfg, self.state
        while state["epoch"] < cfg.epochs and state["step"] < self.total:
            shift = SHIFTS[state["epoch"] % len(SHIFTS)]
            e0 = time.monotonic()
            self.epoch(soft_windows(prepared, pieces, cfg.window, cfg.stride, shift),
                       pieces.pad_id)
            entry: dict[str, Any] = {"epoch": state["epoch"], "shift": shift}
            if cfg.keep != "last":  # logged only: the last epoch is kept whatever it scores
                entry.update(score().summary())
            state["minutes"] = state.get("minutes", 0.0) + (time.monotonic() - e0) / 60
            entry["minutes"] = round(state["minutes"], 1)
            state["history"].append(entry)
            self.log(f"epoch {state['epoch']}: {entry}")
            save_whole(self.model.state_dict(), self.out / "best.pt")
            self.checkpoint()
        return state

    #: a batch of windows as tensors, with the soft targets
    _collate = staticmethod(collate_soft)

    def _loss(self, batch: tuple) -> Any:
        """The loss of one batch against its soft targets (``distil_loss``)."""
        cfg, model = self.cfg, self.model
        ids, mask, bio, tech, real, spans, span_t, feats = batch
        logits, states, tech_logits = model(ids, mask)
        span_logits = model.span_logits(states.float(), spans, feats) if len(spans) else None
        return distil_loss(logits, tech_logits, bio, tech, real, span_logits, span_t,
                           cfg.technique_loss_weight, cfg.span_loss_weight)


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

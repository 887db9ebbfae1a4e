"""``propscope evaluate``: score prediction files, or run a model on a corpus split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import config, metrics
from ..corpus import check_labels, load_split, read_articles, read_labels
from ..errors import InputError, LabelError
from ..progress import Progress
from ..techniques import TECHNIQUE_NAMES
from .common import add_model_argument

NAME = "evaluate"
HELP = ("score PRED against GOLD (SemEval-2020 Task 11 SI, TC, FLC, SLC), or run a model "
        "on a split with --data/--split")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pred", nargs="?", metavar="PRED",
                   help="predicted labels file (PTC TSV); without it, the model is run")
    p.add_argument("gold", nargs="?", metavar="GOLD", help="gold labels file (PTC TSV)")
    p.add_argument("--measure", choices=("si", "tc", "flc", "slc"), default="si",
                   help="measure for a PRED/GOLD pair (default: si)")
    p.add_argument("--articles", help="article folder (needed for slc; checks offsets)")
    p.add_argument("--per-technique", action="store_true",
                   help="also print precision, recall and F1 per technique")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--data", help="PTC folder: run the model on --split and print all measures")
    p.add_argument("--split", default="valid",
                   help="split of --data: train or valid (splits.json), foldK or cvK (folds.json) "
                   "(default: valid)")
    p.add_argument("--plots", help="folder for PNGs: TC confusion matrix, per-technique F1")
    p.add_argument("--record", action="store_true",
                   help="write the figures into the model folder (--model FOLDER, --split "
                   "valid): the manifest's metrics_valid and metrics_valid.json")
    add_model_argument(p)


def score_files(pred: Path, gold: Path, measure: str,
                articles: Path | None = None) -> metrics.Score:
    """One measure from two TSV files (3 or 4 columns)."""
    p, g = read_labels(pred), read_labels(gold)
    texts: dict[str, str] = {}
    if articles is not None:
        arts = read_articles(articles)
        check_labels(g, arts, where=str(gold))
        try:
            check_labels(p, arts, where=str(pred))
        except LabelError as e:  # scored as given, as the reference scorer does
            print(f"propscope: warning: {e}", file=sys.stderr)
        texts = {aid: a.text for aid, a in arts.items()}
    if measure == "si":
        return metrics.si_score(p, g)
    if measure == "flc":
        return metrics.flc_score(p, g)
    if measure == "tc":
        return metrics.tc_score(p, g)
    if not texts:
        raise InputError("the slc measure needs --articles DIR (sentences are its lines)")
    return metrics.slc_score(p, g, texts)


def format_score(score: metrics.Score, per_technique: bool) -> str:
    lines = []
    if per_technique:
        for name, prf in score.per_technique.items():
            lines.append(f"{name}: P={prf.precision:.6f} R={prf.recall:.6f} F1={prf.f1:.6f} "
                         f"(n={prf.support})")
    o = score.overall
    lines += [f"P={o.precision:.6f}", f"R={o.recall:.6f}", f"F1={o.f1:.6f}"]
    return "\n".join(lines) + "\n"


def format_confusion(matrix: list[list[int]]) -> str:
    short = [n[:6] for n in TECHNIQUE_NAMES]
    lines = ["TC confusion (rows: gold, columns: predicted)",
             " " * 8 + " ".join(f"{s:>6}" for s in short)]
    for s, row in zip(short, matrix, strict=True):
        lines.append(f"{s:>7} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines) + "\n"


def evaluate_split(data: Path, split: str, model: str | None = None):
    """The split, the model's evaluation on it and the model's info."""
    from ..evaluation import evaluate_predictor
    from ..model_io import load_model

    corpus = load_split(data, split)
    predictor = load_model(model)
    return (corpus, evaluate_predictor(predictor, corpus, progress=Progress("evaluate")),
            predictor.info)


def run(args: argparse.Namespace) -> int:
    if args.record and args.pred and not args.data:
        raise InputError("--record scores a model folder: use --data DIR --split valid "
                         "--model FOLDER, not PRED and GOLD files")
    if args.data or not (args.pred and args.gold):
        if not args.data and not (args.pred or args.gold):
            args.data = str(config.DEFAULT_DATA_DIR)
        if not args.data:
            raise InputError("give PRED and GOLD files, or --data DIR --split NAME")
        if args.record:
            _check_record(args.split, args.model)
        corpus, ev, info = evaluate_split(Path(args.data), args.split, args.model)
        _warn_in_sample(args.split, info)
        if args.record:
            from ..evaluation import record_scores

            record_scores(Path(args.model), ev, log=lambda line: print(line, file=sys.stderr))
        matrix = metrics.confusion(ev.classified, corpus.gold, TECHNIQUE_NAMES)
        if args.plots:
            from ..render.plots import write_plots

            for path in write_plots(ev.scores, matrix, Path(args.plots)):
                print(f"wrote {path}", file=sys.stderr)
        if args.json:
            print(json.dumps({**ev.to_dict(), "tc_confusion": matrix}, indent=2))
            return 0
        for name, score in ev.scores.items():
            print(f"== {name.upper()} ({args.split})")
            sys.stdout.write(format_score(score, args.per_technique))
        sys.stdout.write(format_confusion(matrix))
        return 0
    score = score_files(Path(args.pred), Path(args.gold), args.measure,
                        Path(args.articles) if args.articles else None)
    if args.json:
        print(json.dumps(score.to_dict(), indent=2))
    else:
        sys.stdout.write(format_score(score, args.per_technique))
    return 0


def _check_record(split: str, model: str | None) -> None:
    """``--record`` writes a model folder's valid figures: refuse anything else up front."""
    if split != "valid":
        raise InputError(f"--record writes the valid figures; it needs --split valid, not "
                         f"{split!r}")
    if model is None or not (Path(model) / "manifest.json").is_file():
        raise InputError("--record needs --model FOLDER, a model folder with a manifest.json")


def _warn_in_sample(split: str, info: dict) -> None:
    """Say so when the model's second stage or marker classifier saw ``split``."""
    seen = []
    fitted_on = str(info.get("second_stage_fitted_on") or "")
    if split in fitted_on.split("+"):
        seen.append(f"its second stage (technique classification with the span set) was "
                    f"fitted on {split!r}")
    trained_on = str(info.get("marker_trained_on") or "")
    if trained_on == "all" or split in trained_on.split("+"):
        seen.append(f"its marker span classifier was trained on {trained_on!r}")
    if seen:
        print(f"propscope: warning: {' and '.join(seen)}: its TC and FLC there are "
              "in-sample; see the manifest's context_cv for cross-validated figures",
              file=sys.stderr)

"""Does a marker-based span classifier help technique classification (issue 10, item 3)?

The winning TC systems of SemEval-2020 Task 11 read each span marked inside its sentence
(``... [s] span [/s] ...``) with an encoder fine-tuned for classification alone. This study
trains such a classifier in 5-fold CV over ``folds.json`` (each fold's spans named by a
classifier trained on the other four folds' gold spans) and compares, on the same rows as
the shipped second stage (``runs/cv-minilm/stage_rows.pkl``, the fold models' out-of-fold
rows):

- the tagger's pooled span head alone, the marker classifier alone, the two joined
  (``predictors.marker.combine``: the geometric mean);
- the second stage (l2 30, balance 0.2) on the span head, on the two joined (what a model
  with a marker classifier ships), and with the marker classifier's log probabilities as
  span-set features instead.

The recipe is ``propscope.training.marker.RECIPE`` (MiniLM, 3 epochs, lr 8e-5, classes
re-weighted by count ** -0.3); ``python -m propscope.training.marker MODEL`` trains the same
on all 371 articles for a model folder.

    python benchmarks/marker_cv.py train [--encoder minilm] [--folds 0,1,2,3,4] [--threads 1]
    python benchmarks/marker_cv.py report

``train`` writes ``runs/marker-cv/<encoder>/fold<k>.npz`` (probabilities of every distinct
gold span of the held-out fold) and resumes: a fold already written is skipped. With
``--keep`` it writes to ``<encoder>-kept/`` and keeps each fold's classifier too.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from propscope.corpus import load_split, split_ids
from propscope.techniques import TECHNIQUE_NAMES
from propscope.training.context_fit import Rows, classify_rows, cross_validate, fit, gold_of

DATA = Path("../shared/ptc")
OUT = Path("runs/marker-cv")
STAGE_ROWS = Path("runs/cv-minilm/stage_rows.pkl")


def train_fold(k: int, recipe: dict, threads: int, keep: bool = False,
               out: Path | None = None, extra: Callable | None = None) -> Path:
    """Train on the gold spans of every fold but ``k`` and write the probabilities of fold
    ``k``'s spans (skipped when written already); with ``keep``, into ``<encoder>-kept/``
    with the classifier itself (``fold<k>/``, as a model folder's ``marker/``), for naming
    the fold models' predicted spans out of fold. ``out``: write there instead;
    ``extra(pieces, gold_y)``: more training inputs and their labels, besides the gold
    ones (``marker_selftrain.py``'s pseudo-labelled spans)."""
    from propscope.predictors.encoding import WordPieces
    from propscope.training import marker
    from propscope.training.encoders import encoder_dir

    out = out or OUT / (recipe["encoder"] + ("-kept" if keep else "")) / f"fold{k}.npz"
    if out.exists():
        print(f"fold {k}: {out} exists, skipped", flush=True)
        return out
    pieces = WordPieces(str(encoder_dir(recipe["encoder"]) / "tokenizer.json"))
    corpus = load_split(DATA)
    train_x, train_y, _ = marker.examples(corpus, split_ids(DATA, f"cv{k}"), pieces)
    more_x, more_y = extra(pieces, train_y) if extra else ([], [])
    train_x, train_y = train_x + more_x, train_y + more_y
    test_x, _, keys = marker.examples(corpus, split_ids(DATA, f"fold{k}"), pieces)
    start = time.time()
    model = marker.train(train_x, train_y, pieces.pad_id, recipe, threads,
                         log=lambda line: print(f"fold {k} {line}", flush=True))
    probs = marker.predict(model, test_x, pieces.pad_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    if keep:
        marker.export(model, encoder_dir(recipe["encoder"]) / "tokenizer.json",
                      out.parent / f"fold{k}")
    np.savez_compressed(out, probs=probs, keys=np.array([f"{a}:{s}:{e}" for a, s, e in keys]))
    added = f" ({len(more_x)} extra)" if more_x else ""
    print(f"fold {k}: {sum(map(len, train_y))} training rows{added}, {len(test_x)} held-out "
          f"spans, {(time.time() - start) / 60:.1f} min -> {out}", flush=True)
    return out


def report(encoder: str) -> int:
    from propscope import metrics
    from propscope.training.context_fit import rows_of_table, with_marker_probs
    from propscope.training.marker import out_of_fold

    folds, techniques = pickle.loads(STAGE_ROWS.read_bytes())
    assert list(techniques) == list(TECHNIQUE_NAMES)
    t = len(techniques)
    done = [k for k in range(5) if (OUT / encoder / f"fold{k}.npz").exists()]
    if not done:
        print(f"no folds in {OUT / encoder}", file=sys.stderr)
        return 2
    if len(done) < 5:
        print(f"only folds {done} so far: figures over those", file=sys.stderr)
    table = out_of_fold(OUT / encoder, done)
    folds = [folds[k] for k in done]
    allrows = Rows.concat(folds)
    gold = gold_of(allrows, techniques)
    marker = rows_of_table(allrows, table)
    tagger = np.exp(allrows.x[:, :t])

    def tc(p):
        return metrics.tc_score(classify_rows(p, allrows, techniques), gold)

    results = {name: tc(p) for name, p in [("tagger span head", tagger),
                                            ("marker classifier", marker),
                                            ("joined (geometric mean)", tagger * marker)]}

    def in_set_block(rows: Rows) -> Rows:
        m = rows_of_table(rows, table)
        cut = rows.x.shape[1] - t  # the lexicon block stays last
        x = np.concatenate([rows.x[:, :cut], np.log(np.clip(m, 1e-4, 1.0)), rows.x[:, cut:]],
                           axis=1)
        return Rows(x.astype(np.float32), rows.y, rows.article, rows.span)

    stage = {"stage (span head)": folds,
             "stage, span head joined (shipped)": [with_marker_probs(f, table, t)
                                                   for f in folds],
             "stage + marker log-probs as features": [in_set_block(f) for f in folds]}
    per_fold: dict[str, list[float]] = {}
    for name, fs in stage.items() if len(folds) > 1 else ():
        results[name], probs = cross_validate(fs, techniques,
                                              lambda r: fit(r, t, {}, l2=30, balance=0.2))
        at = np.cumsum([0] + [len(f.y) for f in fs])
        per_fold[name] = [
            round(metrics.tc_score(classify_rows(probs[at[k] : at[k + 1]], f, techniques),
                                   gold_of(f, techniques)).overall.f1, 3)
            for k, f in enumerate(fs)]
    print(f"{'':36s} {'TC':>6s} " + " ".join(f"{n[:10]:>10s}" for n in techniques))
    for name, score in results.items():
        per = " ".join(f"{score.per_technique[n].f1:10.3f}" if n in score.per_technique
                       else f"{'-':>10s}" for n in techniques)
        print(f"{name:36s} {score.overall.f1:6.4f} {per}")
    for name, values in per_fold.items():
        print(f"{name}: per fold {values}, mean {np.mean(values):.3f} +- {np.std(values):.3f}")
    (OUT / encoder / "report.json").write_text(json.dumps(
        {k: {"tc": v.overall.f1, "per_technique": {n: s.f1 for n, s in v.per_technique.items()}}
         for k, v in results.items()}, indent=1))
    return 0


def main() -> int:
    from propscope.training.marker import RECIPE

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["train", "report"])
    ap.add_argument("--encoder", default=RECIPE["encoder"])
    ap.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    ap.add_argument("--lr", type=float, default=RECIPE["lr"])
    ap.add_argument("--balance", type=float, default=RECIPE["balance"])
    ap.add_argument("--seed", type=int, default=RECIPE["seed"])
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", action="store_true",
                    help="also keep each fold's classifier (into <encoder>-kept/)")
    args = ap.parse_args()
    if args.what == "report":
        return report(args.encoder)
    recipe = dict(RECIPE, encoder=args.encoder, epochs=args.epochs, lr=args.lr,
                  balance=args.balance, seed=args.seed)
    for k in map(int, args.folds.split(",")):
        train_fold(k, recipe, args.threads, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())

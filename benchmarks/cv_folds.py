"""Five-fold cross-validation of a training recipe: out-of-fold encodings of all 371 articles.

For each fold K of ``folds.json``: train on the other four folds (``--train-split cvK``),
keep the last epoch (the held-out fold chooses nothing), export, and encode the held-out
articles with the exported (INT8) model. The encodings (BIO and technique probabilities,
encoder states) are pickled to ``OUT/foldK/oof.pkl``; tuning, the second stage and the
calibration are then fitted on the pooled out-of-fold encodings (``benchmarks/cv_fit.py``).
Every fold resumes (training from its checkpoint; a finished fold is skipped).

    python benchmarks/cv_folds.py --out runs/cv-minilm --epochs 5 --lr 8e-5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from propscope.config import TrainConfig
from propscope.training.loop import train
from propscope.training.oof import write_oof


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--out", default="runs/cv-minilm")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    for k in (int(x) for x in args.folds.split(",")):
        folder = Path(args.out) / f"fold{k}"
        oof = folder / "oof.pkl"
        if oof.exists():
            log(f"fold {k}: done")
            continue
        cfg = TrainConfig(encoder=args.encoder, epochs=args.epochs, lr=args.lr, seed=args.seed,
                          train_split=f"cv{k}", valid_split=f"fold{k}", keep="last",
                          patience=args.epochs + 1)
        if not (folder / "manifest.json").exists():
            train(args.data, folder, cfg, log=log)
        write_oof(folder, args.data, k, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())

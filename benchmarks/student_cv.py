"""Five-fold CV of the fast student recipe against its teacher (issue 12, item 1).

For each fold K of ``folds.json``, with the fold model ``runs/cv-minilm/foldK`` (the fast
recipe trained on the other four folds) as the teacher:

1. its soft targets over the other four folds' articles plus the unlabelled news
   (``OUT/targets-foldK.npz``);
2. a student trained on them as the 7+3-epoch student was (BENCHMARKS, "One MiniLM student"):
   7 epochs at 1e-4 from the pretrained MiniLM (``OUT/s7-foldK``), then 3 more at 5e-5 from
   those weights (``OUT/foldK``), windows every 254, the last epoch kept (the held-out fold
   chooses nothing);
3. the held-out fold encoded by the student (``OUT/foldK/oof.pkl``, as ``cv_folds.py``
   writes it), so that ``cv_report.py --cv OUT`` scores the student's out-of-fold articles
   exactly as ``cv_report.py --cv runs/cv-minilm`` scores the teacher's.

Every step resumes: finished files are kept, trainings continue from their checkpoints.
About 100 minutes of training a fold on 2 quiet cores.

    python benchmarks/student_cv.py [--folds 0,1,2,3,4] [--out runs/cv-student] [--layers 4]
    python benchmarks/cv_report.py --cv runs/cv-student --keep-decode src/propscope/models/default

Set beside the teacher's folds with the marker classifier, and kept across sessions
(BENCHMARKS, "The student in cross-validation, fold by fold"):

    python benchmarks/marker_flc.py --cv runs/cv-student --folds K \
        --save benchmarks/results/cv-spans/student
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from propscope.config import TrainConfig
from propscope.training.distil import train_student
from propscope.training.oof import write_oof
from propscope.training.soft_targets import build_targets

#: the 7+3-epoch student's recipe (runs/distil/minilm-student-7ep, then -7p3ep)
FIRST = TrainConfig(encoder="minilm", stride=254, epochs=7, lr=1e-4, seed=21, keep="last",
                    patience=99)
SECOND = replace(FIRST, epochs=3, lr=5e-5, seed=22)
GOLD_MIX = 0.5


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--teachers", default="runs/cv-minilm")
    ap.add_argument("--extra-articles", default="../shared/unlabeled-news")
    ap.add_argument("--out", default="runs/cv-student")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--teachers-targets", default="runs/cv-student",
                    help="a folder whose targets-foldK.npz are reused if OUT lacks them")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=None,
                    help="students keep only MiniLM's first N layers (default: all six)")
    args = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    for k in (int(x) for x in args.folds.split(",")):
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        student, first = out / f"fold{k}", out / f"s7-fold{k}"
        oof = student / "oof.pkl"
        if oof.exists():
            log(f"fold {k}: done")
            continue
        targets = out / f"targets-fold{k}.npz"
        shared = Path(args.teachers_targets) / targets.name
        if not targets.exists() and shared.exists():
            targets = shared  # the teacher's soft targets, built once for another student
        if not targets.exists():
            build_targets(Path(args.teachers) / f"fold{k}", args.data, args.extra_articles,
                          targets, f"cv{k}", log=log)
        splits = {"train_split": f"cv{k}", "valid_split": f"fold{k}", "layers": args.layers,
                  "threads": args.threads, "extra_articles": args.extra_articles}
        if not (first / "manifest.json").exists():
            train_student(args.data, first, replace(FIRST, **splits), targets, GOLD_MIX, log)
        if not (student / "manifest.json").exists():
            train_student(args.data, student, replace(SECOND, **splits), targets, GOLD_MIX,
                          log, init_from=first / "best.pt")
        write_oof(student, args.data, k, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Self-training the marker span classifier on unlabelled news (issue 10, item 3): a pilot.

The winning TC systems self-trained on unlabelled news. For each fold K of ``folds.json``,
with nothing that saw fold K's labels:

1. the fold's tagger (``CV/foldK``, trained on the other folds) finds spans in the 400
   unlabelled articles (benchmark decoding) and names them with its span head joined with
   the fold's marker classifier (``TEACHER/foldK``, trained on the other folds' gold spans);
   a span whose top technique has probability ``--min-prob`` or more becomes a training
   row with that technique (``OUT/pseudo-foldK.json``), at most ``--cap`` times the
   technique's gold rows, the most confident first (the gold mix kept);
2. a marker classifier is trained as ``marker_cv.py train`` trains one (the same recipe,
   ``training/marker.RECIPE``), on the other folds' gold spans plus those rows, and names
   fold K's gold spans (``OUT/foldK.npz``, the format ``marker_cv.py`` writes, so that
   ``--marker-oof OUT`` works wherever the teacher's folder does once all five exist);
3. ``--report``: TC (given gold spans) on the folds done, the marker alone and joined with
   the span head of ``CV``'s fold rows, against the teacher's fold classifiers on the same
   rows.

    python benchmarks/marker_selftrain.py --folds 0,1
    python benchmarks/marker_selftrain.py --folds 0,1 --report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from propscope.corpus import read_articles

DATA = Path("../shared/ptc")


def pseudo_rows(k: int, cv: Path, teacher: Path, extra: Path, min_prob: float,
                out: Path) -> list[dict]:
    """Fold ``k``'s pseudo-labelled spans of the unlabelled articles (cached in ``out``)."""
    if out.exists():
        return json.loads(out.read_text())
    from propscope.model_io import load_folder, load_marker
    from propscope.spans import Span

    tagger = load_folder(cv / f"fold{k}")
    tagger = tagger.with_context(None).with_marker(
        load_marker(teacher / f"fold{k}", list(tagger.techniques)))
    articles = {a: x.text for a, x in read_articles(extra).items()}
    rows, start = [], time.time()
    for n, (aid, text) in enumerate(articles.items()):
        enc = tagger.encode([text])[0]
        spans = sorted({(s.start, s.end) for s in tagger.spans_from(enc)})
        if not spans:
            continue
        probs = tagger.classifier_probs(enc, [Span(a, b) for a, b in spans])
        for (a, b), p in zip(spans, probs, strict=True):
            if p.max() >= min_prob:
                rows.append({"id": aid, "start": a, "end": b, "technique": int(p.argmax()),
                             "p": round(float(p.max()), 3)})
        if n % 50 == 0:
            print(f"fold {k}: {n}/{len(articles)} articles, {len(rows)} rows, "
                  f"{time.time() - start:.0f}s", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows))
    return rows


def capped(rows: list[dict], gold_y: list[list[int]], cap: float) -> list[dict]:
    """At most ``cap`` times a technique's gold rows of it, the most confident first, so
    that the mix of techniques stays the gold one (Loaded Language is over half the pseudo
    rows otherwise)."""
    gold = np.bincount([t for ts in gold_y for t in ts], minlength=32)
    kept: list[dict] = []
    taken = np.zeros_like(gold)
    for r in sorted(rows, key=lambda r: -r["p"]):
        if taken[r["technique"]] < cap * gold[r["technique"]]:
            kept.append(r)
            taken[r["technique"]] += 1
    return kept


def train_fold(k: int, args) -> Path:
    """``marker_cv.py``'s fold training with the pseudo-labelled spans added."""
    from marker_cv import train_fold as train_marker_fold

    from propscope.training.marker import RECIPE

    def pseudo(pieces, gold_y: list[list[int]]) -> tuple[list, list[list[int]]]:
        rows = capped(pseudo_rows(k, args.cv, args.teacher, args.extra_articles,
                                  args.min_prob, args.out / f"pseudo-fold{k}.json"),
                      gold_y, args.cap)
        texts = {a: x.text for a, x in read_articles(args.extra_articles).items()}
        return ([pieces.marked(texts[r["id"]], r["start"], r["end"]) for r in rows],
                [[r["technique"]] for r in rows])

    return train_marker_fold(k, dict(RECIPE), args.threads, out=args.out / f"fold{k}.npz",
                             extra=pseudo)


def report(folds: list[int], args) -> dict:
    from propscope import metrics
    from propscope.corpus import load_split
    from propscope.predictors.marker import combine
    from propscope.training.context_fit import Rows, classify_rows, cv_rows, gold_of, rows_of_table
    from propscope.training.marker import out_of_fold

    all_folds, techniques = cv_rows(DATA, load_split(DATA), args.cv)
    rows = Rows.concat([all_folds[k] for k in folds])
    t = len(techniques)
    head = np.exp(rows.x[:, :t])
    gold = gold_of(rows, techniques)
    out: dict = {"folds": folds, "rows": len(rows.y)}

    def tc(p: np.ndarray) -> float:
        return round(metrics.tc_score(classify_rows(p, rows, techniques), gold).overall.f1, 4)

    out["span_head"] = tc(head)
    for name, folder in (("teacher", args.teacher), ("self_trained", args.out)):
        m = rows_of_table(rows, out_of_fold(folder, folds))
        out[name] = {"marker": tc(m), "joined": tc(combine(head, m))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", default="0,1")
    ap.add_argument("--cv", type=Path, default=Path("runs/cv-student-l4"))
    ap.add_argument("--teacher", type=Path, default=Path("runs/marker-cv/minilm-kept"))
    ap.add_argument("--extra-articles", type=Path, default=Path("../shared/unlabeled-news"))
    ap.add_argument("--out", type=Path, default=Path("runs/marker-st"))
    ap.add_argument("--min-prob", type=float, default=0.5)
    ap.add_argument("--cap", type=float, default=0.5,
                    help="pseudo rows of a technique: at most this times its gold rows")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    folds = [int(k) for k in args.folds.split(",")]
    if args.report:
        print(json.dumps(report(folds, args), indent=1))
        return 0
    for k in folds:
        train_fold(k, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

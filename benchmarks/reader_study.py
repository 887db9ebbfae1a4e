"""The reader operating point, cross-validated: calibration (ECE, reliability diagram) and
the threshold sweep (labelled-span precision, articles with a span, marked text).

    python benchmarks/reader_study.py --cv runs/cv-minilm --plot docs/eval/reliability-fast.png
    python benchmarks/reader_study.py --model src/propscope/models/default   # on valid

Each fold's spans (the model's benchmark decoding) are calibrated by a map fitted on the
other folds; the figures pool every fold's out-of-fold output. ``--write MODEL`` stores
the calibration fitted on all folds and the chosen threshold in MODEL's manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from propscope import metrics
from propscope.corpus import load_split
from propscope.reader import ReaderConfig, calibrate, reader_spans
from propscope.training.calibration_fit import (
    expected_calibration_error,
    fit_calibration,
    span_hits,
)
from propscope.training.oof import oof_folds


def by_technique(spans, hits):
    scores: dict[str, list[float]] = {}
    ys: dict[str, list[bool]] = {}
    for s, h in zip(spans, hits, strict=True):
        scores.setdefault(s.technique, []).append(s.score)
        ys.setdefault(s.technique, []).append(h)
    return ({t: np.array(v) for t, v in scores.items()},
            {t: np.array(v, dtype=float) for t, v in ys.items()})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--cv")
    ap.add_argument("--model", default="src/propscope/models/default")
    ap.add_argument("--plot")
    ap.add_argument("--target", type=float, default=0.55, help="CV precision to reach")
    ap.add_argument("--write", help="model folder whose manifest gets the reader settings")
    ap.add_argument("--decode", action="append", default=[],
                    help="JSON DecodeConfig fields for the reader's spans (repeat to compare)")
    args = ap.parse_args()
    corpus = load_split(Path(args.data))
    source = list(oof_folds(args.data, args.cv, None if args.cv else args.model))
    for variant in args.decode or ["{}"]:
        print(f"== decode {variant}", file=sys.stderr)
        study(args, corpus, source, json.loads(variant))
    return 0


def study(args: argparse.Namespace, corpus, source, variant: dict) -> None:
    folds = []
    for fold in source:
        predictor = fold.predictor.with_decode(replace(fold.predictor.decode, **variant))
        pred = {a: predictor.spans_from(e)
                for a, e in zip(fold.ids, fold.encodings, strict=True)}
        hits = {a: span_hits(pred[a], corpus.gold[a]) for a in fold.ids}
        folds.append((fold, pred, hits))
    texts = {a: corpus.articles[a].text for f, _, _ in folds for a in f.ids}
    gold = {a: corpus.gold[a] for a in texts}

    def pooled(fs):
        sp = [s for _, p, _ in fs for a in p for s in p[a]]
        hs = [h for _, _, hh in fs for a in hh for h in hh[a]]
        return by_technique(sp, hs)

    # cross-validated calibration: each fold mapped by the others' fit
    calibrated: dict[str, list] = {}
    conf, ys = [], []
    for k, (fold, pred, hits) in enumerate(folds):
        cal = fit_calibration(*pooled([f for j, f in enumerate(folds) if j != k]))
        for a in fold.ids:
            calibrated[a] = (cal, pred[a])
            conf += [s.score for s in calibrate(pred[a], cal)]
            ys += hits[a]
    conf_a, ys_a = np.array(conf), np.array(ys, dtype=float)
    raw = np.array([s.score for _, p, _ in folds for a in p for s in p[a]])
    ece, table = expected_calibration_error(conf_a, ys_a)
    ece_raw, table_raw = expected_calibration_error(np.clip(raw, 0, 1), ys_a)
    report = {"articles": len(texts), "spans": len(conf), "hit_rate": round(ys_a.mean(), 4),
              "ece_raw": round(ece_raw, 4), "ece_calibrated_cv": round(ece, 4),
              "benchmark": {k: round(v.overall.f1, 4) for k, v in {
                  "si": metrics.si_score({a: c[1] for a, c in calibrated.items()}, gold),
                  "flc": metrics.flc_score({a: c[1] for a, c in calibrated.items()}, gold),
              }.items()},
              "sweep": []}
    gold_chars = sum(b - a for g in gold.values() for a, b in metrics.merge_ranges(g))
    with_gold = [a for a in texts if gold[a]]
    chosen = None
    for cut in np.round(np.arange(0.2, 0.85, 0.05), 2):
        out = {a: reader_spans(texts[a], p, ReaderConfig(calibration=cal), threshold=cut)
               for a, (cal, p) in calibrated.items()}
        flc = metrics.flc_score(out, gold).overall
        marked = sum(b - a for o in out.values() for a, b in metrics.merge_ranges(o))
        row = {"threshold": float(cut), "precision": round(flc.precision, 4),
               "recall": round(flc.recall, 4), "f1": round(flc.f1, 4),
               "articles_with_span": round(sum(bool(out[a]) for a in with_gold)
                                           / max(1, len(with_gold)), 3),
               "marked_vs_gold": round(marked / max(1, gold_chars), 3),
               "spans": sum(map(len, out.values()))}
        report["sweep"].append(row)
        print(row, file=sys.stderr)
        if chosen is None and flc.precision >= args.target:
            chosen = row
    report["chosen"] = chosen
    report["decode"] = variant
    print(json.dumps(report, indent=1))
    if args.plot:
        plot(table, table_raw, ece, ece_raw, args.plot, args.cv or args.model)
    if args.write and chosen:
        final = fit_calibration(*pooled(folds))
        write_reader(Path(args.write), ReaderConfig(threshold=chosen["threshold"],
                                                    decode=variant, calibration=final), report)


def write_reader(folder: Path, config: ReaderConfig, report: dict) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["reader"] = {**config.to_dict(),
                          "cv": {k: report[k] for k in ("ece_calibrated_cv", "chosen")}}
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def plot(table, table_raw, ece, ece_raw, path, source) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#888", lw=1, ls="--", label="perfect")
    for tab, name, e in ((table_raw, "raw score", ece_raw), (table, "calibrated (CV)", ece)):
        ax.plot([c for c, _, _ in tab], [a for _, a, _ in tab], marker="o",
                label=f"{name}, ECE {e:.3f}")
    ax.set_xlabel("confidence shown")
    ax.set_ylabel("share of spans an annotator marked (same technique)")
    ax.set_title(f"Reliability: {Path(str(source)).name}", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())

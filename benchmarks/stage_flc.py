"""Should the second stage also name the spans ``predict`` finds (FLC)? Cross-validated.

On ``valid`` the shipped fast model's stage, renaming its BIO spans, gains FLC (0.269 ->
0.275, ``context_transfer.py``'s ``flc``), where five folds of the older recipe said it cost
0.006 (``cv_report.py --context``). This settles it for the shipped recipe: each fold model
of ``--cv`` decodes its held-out articles as ``marker_flc.py`` does (the shipped decoding,
span head joined with the fold's marker classifier), once as shipped (no stage) and once
with a second stage fitted on the other four folds' rows (marker joined, lexicon without
the fold, the shipped setting) naming its BIO spans, through the predictor's own code path
(``with_context(stage, in_predict=True)``). SI, FLC and SLC pooled over the held-out
articles, and FLC per fold.

    python benchmarks/stage_flc.py --cv runs/cv-student-l4 --balance 0
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from propscope import metrics
from propscope.corpus import load_split
from propscope.predictors.decoding import decode
from propscope.training.context_fit import Rows, cv_rows, fit, fold_lexicon, marker_join
from propscope.training.oof import oof_folds

sys.path.insert(0, str(Path(__file__).parent))
from marker_flc import joined_decoding, span_summary  # noqa: E402

DATA = Path("../shared/ptc")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", default="runs/cv-student-l4")
    ap.add_argument("--kept", default="runs/marker-cv/minilm-kept")
    ap.add_argument("--keep-decode", default="src/propscope/models/default")
    ap.add_argument("--l2", type=float, default=30.0)
    ap.add_argument("--balance", type=float, default=0.0)
    ap.add_argument("--floors", help="also score these score floors (min_score), e.g. "
                    "0.1,0.15,0.2: spans are decoded once with none, then filtered")
    args = ap.parse_args()
    corpus = load_split(DATA)
    keep = json.loads((Path(args.keep_decode) / "manifest.json").read_text())["decode"]
    rows, techniques = cv_rows(DATA, corpus, args.cv)
    join = marker_join(args.kept, len(techniques))
    rows = [join(r) for r in rows]
    names = ("no stage", "stage")
    spans: dict[str, dict] = {n: {} for n in names}
    per_fold: dict[str, list[float]] = {n: [] for n in names}
    floors = [float(f) for f in args.floors.split(",")] if args.floors else []
    unfloored: dict[str, dict] = {n: {} for n in names}
    for fold in oof_folds(DATA, args.cv):
        k = fold.k
        config, joined, marked = joined_decoding(fold, Path(args.kept), keep)
        floor = config.min_score
        config = replace(config, min_score=0.0)  # the floor applied below (decode's last step)
        stage = fit(Rows.concat([r for j, r in enumerate(rows) if j != k]), len(techniques),
                    fold_lexicon(corpus, DATA, k, techniques), l2=args.l2,
                    balance=args.balance)
        staged = marked.with_context(stage, in_predict=True)
        for name, namer in (("no stage", joined), ("stage", staged.span_head())):
            raw = {a: decode(e, config, namer) for a, e in zip(fold.ids, fold.encodings,
                                                               strict=True)}
            unfloored[name].update(raw)
            got = {a: [s for s in x if s.score >= floor] for a, x in raw.items()}
            gold = {a: corpus.gold[a] for a in got}
            per_fold[name].append(round(metrics.flc_score(got, gold).overall.f1, 4))
            spans[name].update(got)
        print(f"fold {k}: FLC {per_fold['no stage'][-1]} -> {per_fold['stage'][-1]}",
              file=sys.stderr, flush=True)
    out: dict = {"cv": args.cv, "setting": f"l2={args.l2},balance={args.balance}"}
    for name in names:
        out[name] = span_summary(spans[name], corpus, per_fold[name])
    for name in names:
        for f in floors:
            got = {a: [s for s in x if s.score >= f] for a, x in unfloored[name].items()}
            gold = {a: corpus.gold[a] for a in got}
            texts = {a: corpus.articles[a].text for a in got}
            out[f"{name}, floor {f}"] = {
                "si": round(metrics.si_score(got, gold).overall.f1, 4),
                "flc": round(metrics.flc_score(got, gold).overall.f1, 4),
                "slc": round(metrics.slc_score(got, gold, texts).overall.f1, 4)}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

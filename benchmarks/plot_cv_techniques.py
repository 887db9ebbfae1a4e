"""Per-technique 5-fold CV F1 of the fast recipe, before and after, as a picture (issue 10).

Reads the JSON the CV scripts wrote (no model, no corpus):

- TC: ``stage_shift.py --out`` of the MiniLM teacher's fold models (before: span head) and
  of the shipped 4-layer student's (after: span head joined with the marker classifier,
  then the shipped second stage);
- FLC: ``marker_flc.py --saved`` of both (before: span head; after: joined).

    python benchmarks/plot_cv_techniques.py --out docs/eval/cv_per_technique.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

R = Path("benchmarks/results")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tc-before", type=Path, default=R / "stage-shift-teacher-minilm.json")
    ap.add_argument("--tc-after", type=Path, default=R / "stage-shift-student-l4.json")
    ap.add_argument("--flc-before", type=Path, default=R / "cv-flc-teacher-minilm.json")
    ap.add_argument("--flc-after", type=Path, default=R / "cv-flc-student-l4.json")
    ap.add_argument("--stage", default="0.0", help="the shipped stage's balance setting")
    ap.add_argument("--out", type=Path, default=Path("docs/eval/cv_per_technique.png"))
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before, after = (json.loads(p.read_text()) for p in (args.tc_before, args.tc_after))
    flc_b, flc_a = (json.loads(p.read_text()) for p in (args.flc_before, args.flc_after))
    techniques = list(after["settings"][args.stage]["f1"])
    series = {
        "TC": [("before: teacher fold models, span head", before["no_stage"]["span_head"]),
               ("after: student + marker classifier", after["no_stage"]["joined"]),
               ("after: + second stage (shipped)",
                {"tc": after["settings"][args.stage]["tc"],
                 "f1": after["settings"][args.stage]["f1"]})],
        "FLC": [("before: teacher fold models, span head",
                 {"tc": flc_b["span head"]["flc"], "f1": flc_b["span head"]["flc_per_technique"]}),
                ("after: student + marker classifier (shipped)",
                 {"tc": flc_a["joined"]["flc"], "f1": flc_a["joined"]["flc_per_technique"]})],
    }
    colours = ["#9e9e9e", "#7fa7d8", "#1f5fa8"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 7), sharey=True)
    ys = range(len(techniques))
    for ax, (measure, rows) in zip(axes, series.items(), strict=True):
        h = 0.8 / len(rows)
        for k, (label, data) in enumerate(rows):
            values = [data["f1"].get(t, 0.0) for t in techniques]
            ax.barh([y + (k - (len(rows) - 1) / 2) * h for y in ys], values, height=h,
                    color=colours[k] if len(rows) == 3 else colours[2 * k],
                    label=f"{label}: {data['tc']:.3f}")
        ax.set_title(f"{measure} F1 per technique, 5-fold CV over 371 articles")
        ax.set_xlim(0, 1)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="upper right", fontsize=8, title="micro-F1, all techniques",
                  title_fontsize=8)
    axes[0].set_yticks(list(ys), [t.replace("_", " ") for t in techniques], fontsize=8)
    axes[0].invert_yaxis()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

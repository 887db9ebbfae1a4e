"""PNG pictures of an evaluation: TC confusion matrix and per-technique F1 (matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import metrics
from ..errors import PropscopeError
from ..techniques import TECHNIQUE_NAMES, TECHNIQUES


def write_plots(scores: Mapping[str, metrics.Score], confusion: list[list[int]],
                folder: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PropscopeError("--plots needs matplotlib: pip install matplotlib") from None
    folder.mkdir(parents=True, exist_ok=True)
    labels = [TECHNIQUES[n].label for n in TECHNIQUE_NAMES]
    fig, ax = plt.subplots(figsize=(10, 9))
    rows = [[v / max(1, sum(r)) for v in r] for r in confusion]
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i, r in enumerate(confusion):
        for j, v in enumerate(r):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                        color="white" if rows[i][j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Technique classification on gold spans (row-normalised colour, counts)")
    fig.tight_layout()
    conf_path = folder / "tc_confusion.png"
    fig.savefig(conf_path, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 6))
    y = range(len(TECHNIQUE_NAMES))
    for k, (measure, offset) in enumerate((("tc", -0.2), ("flc", 0.2))):
        per = scores[measure].per_technique
        ax.barh([v + offset for v in y], [per[n].f1 if n in per else 0 for n in TECHNIQUE_NAMES],
                height=0.4, label=measure.upper(), color=("#1c7ed6", "#f08c00")[k])
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.legend()
    ax.set_title("Per-technique F1")
    fig.tight_layout()
    f1_path = folder / "per_technique_f1.png"
    fig.savefig(f1_path, dpi=110)
    plt.close(fig)
    return [conf_path, f1_path]

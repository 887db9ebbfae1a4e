"""Training the marker span classifier (``predictors/marker.py``) on gold spans, and storing
it in a model folder.

    python -m propscope.training.marker MODEL_FOLDER [--data ../shared/ptc] [--split all]

trains one on the gold spans of ``--split`` (``all``: every article; or ``train``, ``cvK``,
...), writes it to ``MODEL_FOLDER/marker/`` (INT8 ONNX encoder, head, tokenizer) and names it
in the folder's manifest, with the recipe. ``--use-bundled`` instead names the one bundled
with propscope's default model (the accurate package has no room for a copy);
``--copy-bundled`` copies it in (a model that is to become the default keeps it).
``benchmarks/marker_cv.py`` cross-validates the same recipe.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import DEFAULT_DATA_DIR
from ..corpus import Corpus, load_split
from ..manifest import read_manifest, update_manifest
from ..predictors.encoding import WordPieces
from ..techniques import TECHNIQUE_NAMES
from .encoders import encoder_dir
from .export import export_module
from .optim import update, warmup_then_decay

Log = Callable[[str], Any]
#: the recipe cross-validated in benchmarks/marker_cv.py (BENCHMARKS.md)
RECIPE = {"encoder": "minilm", "epochs": 3, "lr": 8e-5, "head_lr": 1e-3, "batch_size": 16,
          "balance": 0.3, "seed": 0}
Marked = tuple[list[int], int, int]


def examples(corpus: Corpus, ids: Sequence[str], pieces: WordPieces
             ) -> tuple[list[Marked], list[list[int]], list[tuple[str, int, int]]]:
    """The marked input of every distinct gold span of ``ids``, its gold technique indices and
    its (article, start, end)."""
    index = {t: k for k, t in enumerate(TECHNIQUE_NAMES)}
    xs, ys, keys = [], [], []
    for aid in ids:
        text = corpus.articles[aid].text
        labels: dict[tuple[int, int], list[int]] = {}
        for s in corpus.gold[aid]:
            labels.setdefault((s.start, s.end), []).append(index[s.technique])
        for (a, b), ts in sorted(labels.items()):
            xs.append(pieces.marked(text, a, b))
            ys.append(ts)
            keys.append((aid, a, b))
    return xs, ys, keys


def out_of_fold(folder: Path | str, folds: Sequence[int] = range(5)
                ) -> dict[tuple[str, int, int], np.ndarray]:
    """The probabilities ``benchmarks/marker_cv.py train`` wrote for every held-out span of
    ``folds`` (``fold<k>.npz``, all five by default), by (article, start, end)."""
    table: dict[tuple[str, int, int], np.ndarray] = {}
    missing = [k for k in folds if not (Path(folder) / f"fold{k}.npz").exists()]
    if missing:
        raise FileNotFoundError(f"{folder}: no probabilities of folds {missing}")
    for k in folds:
        with np.load(Path(folder) / f"fold{k}.npz") as z:
            for key, row in zip(z["keys"].tolist(), z["probs"], strict=True):
                aid, a, b = key.rsplit(":", 2)
                table[(aid, int(a), int(b))] = row
    return table


class MarkerModel(nn.Module):
    """The encoder and a linear head over (CLS, open marker, mean of the span's tokens), as
    ``predictors.marker.pool`` reads them."""

    def __init__(self, encoder: nn.Module, n_techniques: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(3 * encoder.config.hidden_size, n_techniques)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, inside: torch.Tensor,
                opens: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        mean = (states * inside[..., None]).sum(1) / inside.sum(1).clamp(min=1)[:, None]
        marker = states[torch.arange(len(ids)), opens]
        return self.head(self.dropout(torch.cat([states[:, 0], marker, mean], dim=-1)))


def batch(xs: Sequence[Marked], idx: Sequence[int], pad: int):
    """Padded tensors of the inputs ``idx``: ids, mask, the span's tokens, open positions."""
    n = max(len(xs[k][0]) for k in idx)
    ids = torch.full((len(idx), n), pad, dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    inside = torch.zeros((len(idx), n))
    for r, k in enumerate(idx):
        seq, o, c = xs[k]
        ids[r, : len(seq)] = torch.tensor(seq)
        mask[r, : len(seq)] = 1
        inside[r, o + 1 : c] = 1
    return ids, mask, inside, torch.tensor([xs[k][1] for k in idx])


def train(xs: Sequence[Marked], ys: Sequence[Sequence[int]], pad: int, recipe: dict[str, Any],
          threads: int = 1, log: Log = print) -> MarkerModel:
    """Fine-tune ``recipe['encoder']`` on one row per gold label (cross-entropy, classes
    re-weighted by ``count ** -balance``), linear warm-up over a tenth of the steps, then
    linear decay."""
    from transformers import AutoModel

    torch.manual_seed(recipe["seed"])
    rng = random.Random(recipe["seed"])
    torch.set_num_threads(threads)
    rows = [(i, t) for i, ts in enumerate(ys) for t in ts]
    n_tech = len(TECHNIQUE_NAMES)
    counts = np.bincount([t for _, t in rows], minlength=n_tech).astype(np.float64)
    w = np.maximum(counts, 1) ** -recipe["balance"]
    weights = torch.tensor(w / (w * counts).sum() * counts.sum(), dtype=torch.float)
    model = MarkerModel(AutoModel.from_pretrained(str(encoder_dir(recipe["encoder"]))), n_tech)
    opt = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": recipe["lr"]},
                             {"params": model.head.parameters(), "lr": recipe["head_lr"]}],
                            weight_decay=0.01)
    size = recipe["batch_size"]
    steps = recipe["epochs"] * ((len(rows) + size - 1) // size)
    sched = warmup_then_decay(opt, steps)
    start = time.time()
    model.train()
    for epoch in range(recipe["epochs"]):
        order = list(range(len(rows)))
        rng.shuffle(order)
        # buckets of similar length, so that padding is small, in random order
        chunks = [sorted(order[i : i + 50 * size], key=lambda r: len(xs[rows[r][0]][0]))
                  for i in range(0, len(order), 50 * size)]
        groups = [c[i : i + size] for c in chunks for i in range(0, len(c), size)]
        rng.shuffle(groups)
        total = 0.0
        for n, group in enumerate(groups):
            logits = model(*batch(xs, [rows[r][0] for r in group], pad))
            y = torch.tensor([rows[r][1] for r in group])
            total += update(model, opt, sched,
                            nn.functional.cross_entropy(logits, y, weight=weights))
            if n % 100 == 0:
                log(f"epoch {epoch + 1} step {n}/{len(groups)} loss {total / (n + 1):.3f} "
                    f"{time.time() - start:.0f}s")
    model.eval()
    return model


def predict(model: MarkerModel, xs: Sequence[Marked], pad: int) -> np.ndarray:
    """Probabilities (inputs, techniques), one input per call (as at inference)."""
    out = []
    with torch.inference_mode():
        for k in range(len(xs)):
            out.append(torch.softmax(model(*batch(xs, [k], pad)), -1)[0].numpy())
    return np.stack(out).astype(np.float32)


class _States(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export(model: MarkerModel, tokenizer_json: Path, folder: Path) -> list[str]:
    """Write ``folder``: encoder.onnx (INT8 dynamic weights; states only), head.npz and
    tokenizer.json. Returns the file names."""
    folder.mkdir(parents=True, exist_ok=True)
    export_module(_States(model.encoder.float().eval()), ["states"], folder / "encoder.onnx")
    np.savez(folder / "head.npz", weights=model.head.weight.detach().float().numpy(),
             bias=model.head.bias.detach().float().numpy())
    shutil.copy(tokenizer_json, folder / "tokenizer.json")
    return ["encoder.onnx", "head.npz", "tokenizer.json"]


def attach(model_folder: Path, data: Path, split: str, recipe: dict[str, Any], threads: int,
           log: Log = print) -> dict[str, Any]:
    """Train on ``split``'s gold spans and store the classifier in ``model_folder/marker``,
    named in its manifest (with its files, so that a missing one is a one-line error)."""
    manifest = read_manifest(model_folder)
    if manifest["techniques"] != list(TECHNIQUE_NAMES):
        raise SystemExit(f"{model_folder}: its techniques are not propscope's 14")
    tokenizer_json = encoder_dir(recipe["encoder"]) / "tokenizer.json"
    pieces = WordPieces(str(tokenizer_json))
    corpus = load_split(data, None if split == "all" else split)
    xs, ys, _ = examples(corpus, list(corpus.articles), pieces)
    log(f"marker classifier: {len(xs)} spans of {len(corpus.articles)} articles ({split})")
    start = time.time()
    model = train(xs, ys, pieces.pad_id, recipe, threads, log)
    files = export(model, tokenizer_json, model_folder / "marker")
    record = {"folder": "marker", "trained_on": split, "spans": len(xs),
              "recipe": recipe, "minutes": round((time.time() - start) / 60, 1),
              "rebuild": f"python -m propscope.training.marker MODEL --split {split}"}
    listed = [f for f in manifest.get("files", []) if not f.startswith("marker/")]
    update_manifest(model_folder, marker=record, files=listed + [f"marker/{f}" for f in files])
    log(f"wrote {model_folder / 'marker'}: {json.dumps(record)}")
    return record


def _bundled(default_dir: Path) -> dict[str, Any]:
    """The default model's manifest, which must name a marker classifier."""
    manifest = read_manifest(default_dir)
    if not manifest.get("marker"):
        raise SystemExit(f"{default_dir} carries no marker classifier")
    return manifest


def use_bundled(model_folder: Path, log: Log = print) -> dict[str, Any]:
    """Name the marker classifier bundled with propscope's default model in
    ``model_folder``'s manifest, instead of a copy (a model package kept under its size
    limit), pinned by the SHA-256 of its head: the second stage is fitted for that one."""
    from ..config import DEFAULT_MODEL_DIR
    from ..model_io import file_sha256

    bundled = _bundled(DEFAULT_MODEL_DIR)["marker"]
    record = {**{k: v for k, v in bundled.items() if k != "rebuild"}, "source": "bundled",
              "folder": "marker",
              "head_sha256": file_sha256(DEFAULT_MODEL_DIR / "marker" / "head.npz"),
              "rebuild": "python -m propscope.training.marker MODEL --use-bundled"}
    update_manifest(model_folder, marker=record)
    log(f"{model_folder}: uses the bundled marker classifier ({record['head_sha256'][:12]})")
    return record


def copy_bundled(model_folder: Path, log: Log = print) -> dict[str, Any]:
    """Copy the marker classifier bundled with propscope's default model, its files and
    manifest record, into ``model_folder``: for a model that is to replace the default (the
    accurate package's ``use_bundled`` pin, a SHA-256 of its head, stays true)."""
    from ..config import DEFAULT_MODEL_DIR

    bundled = _bundled(DEFAULT_MODEL_DIR)
    record = bundled["marker"]
    folder = record["folder"]
    shutil.copytree(DEFAULT_MODEL_DIR / folder, model_folder / folder, dirs_exist_ok=True)
    manifest = read_manifest(model_folder)
    listed = [f for f in manifest.get("files", []) if not f.startswith(f"{folder}/")]
    files = [f for f in bundled["files"] if f.startswith(f"{folder}/")]
    update_manifest(model_folder, marker=record, files=listed + files)
    log(f"{model_folder}: a copy of the bundled marker classifier ({', '.join(files)})")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m propscope.training.marker",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("model", help="model folder to store the classifier in")
    ap.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    ap.add_argument("--split", default="all", help="all, train, valid, foldK or cvK")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--use-bundled", action="store_true",
                    help="train nothing: name the classifier bundled with propscope's default "
                    "model (pinned by its SHA-256) instead of a copy")
    ap.add_argument("--copy-bundled", action="store_true",
                    help="train nothing: copy the classifier bundled with propscope's default "
                    "model into the folder (a model that is to replace the default)")
    args = ap.parse_args(argv)
    if args.use_bundled:
        use_bundled(Path(args.model))
    elif args.copy_bundled:
        copy_bundled(Path(args.model))
    else:
        attach(Path(args.model), Path(args.data), args.split, dict(RECIPE), args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Static INT8 encoders (issue 12 item 2): which quantisation, how fast, how accurate.

``variants``: one member's encoder quantised several ways; for each, how far its outputs
are from the fp32 graph's on valid windows (the shipped dynamic INT8 graph for scale), and
whether a window's outputs change with its batch-mates.

    python benchmarks/static_int8.py variants --member src/propscope/models/default/0-minilm-st1

``speed``: the bare encoders of whole model folders on the valid windows, folders
alternated, median of ``--runs``; windows per call and threads as given; windows sorted by
length (or not) before batching.

    python benchmarks/static_int8.py speed --models A,B --batch 1,8 --threads 2

``accuracy``: valid SI/TC/FLC/SLC of model folders (decoding as stored).

    python benchmarks/static_int8.py accuracy --models A,B
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from propscope.training.quantize import (
    StaticSettings,
    calibration_windows,
    fp32_encoder,
    quantize_encoder,
)

# StaticSettings' defaults: QDQ, MinMax, per-channel weights, MatMul outputs fp32, the
# projections only (attention's Q.K and P.V MatMuls, both inputs activations, stay fp32)
VARIANTS: dict[str, dict[str, Any]] = {
    "qdq": {},
    "qdq_attn": {"exclude": ()},  # attention's Q.K and P.V INT8 too
    "qop": {"format": "QOperator"},
    "qdq_qout": {"float_outputs": False},  # MatMul outputs re-quantised
    "qdq_tensor": {"per_channel": False},
    "qdq_pct": {"method": "Percentile", "percentile": 99.999},
    "qdq_pct9999": {"method": "Percentile", "percentile": 99.99},
    "qdq_entropy": {"method": "Entropy"},
    "qdq_ffn_fp32": {"exclude": ("/attention/self/MatMul",
                                 *(f"layer.{i}/output/dense" for i in range(6)))},
    "qdq_gather": {"ops": ("MatMul", "Gather")},
}


def session(path: Path | str, threads: int = 2):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run_windows(sess, rows: Sequence[np.ndarray], batch: int, pad_id: int = 0,
                by_length: bool = True) -> list[list[np.ndarray]]:
    """Every row's outputs (cut to its length), ``batch`` rows per call; rows sorted by length
    first with ``by_length`` (outputs returned in the rows' order)."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i])) if by_length \
        else list(range(len(rows)))
    out: list[list[np.ndarray]] = [[] for _ in rows]
    for b in range(0, len(order), batch):
        chunk = order[b : b + batch]
        width = max(len(rows[i]) for i in chunk)
        ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, i in enumerate(chunk):
            ids[r, : len(rows[i])] = rows[i]
            mask[r, : len(rows[i])] = 1
        res = sess.run(None, {"input_ids": ids, "attention_mask": mask})
        for r, i in enumerate(chunk):
            out[i] = [a[r, : len(rows[i])] for a in res]
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def distance(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> dict[str, float]:
    """Mean over tokens of the largest BIO-probability difference, and of the technique
    sigmoid differences; 99.9th percentile of the BIO one."""
    bio = np.concatenate([np.abs(_softmax(x[0]) - _softmax(y[0])).max(-1)
                          for x, y in zip(a, b, strict=True)])
    out = {"bio_mean": float(bio.mean()), "bio_p999": float(np.percentile(bio, 99.9))}
    if len(a[0]) > 2:
        sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        tech = np.concatenate([np.abs(sig(x[2]) - sig(y[2])).ravel()
                               for x, y in zip(a, b, strict=True)])
        out["tech_mean"] = float(tech.mean())
    return {k: round(v, 5) for k, v in out.items()}


def cmd_variants(args: argparse.Namespace) -> None:
    member = Path(args.member)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    fp32 = cache / f"{member.name}.fp32.onnx"
    if not fp32.exists():
        fp32_encoder(member, fp32)
    calib = calibration_windows(member, args.data, args.articles)
    rows = calibration_windows(member, args.data, args.valid_articles, split="valid")
    print(json.dumps({"calibration_windows": len(calib), "valid_windows": len(rows)}),
          flush=True)
    ref = run_windows(session(fp32), rows, 1)
    shipped = run_windows(session(member / "encoder.onnx"), rows, 1)
    print(json.dumps({"variant": "dynamic (shipped)", **distance(shipped, ref)}), flush=True)
    for name in args.variants.split(","):
        path = cache / f"{member.name}.{name}.onnx"
        t0 = time.perf_counter()
        if not path.exists():
            settings = StaticSettings(**{**VARIANTS[name], "articles": args.articles})
            quantize_encoder(fp32, path, calib, settings)
        built = time.perf_counter() - t0
        sess = session(path)
        alone = run_windows(sess, rows, 1)
        mixed = run_windows(sess, rows, 8, by_length=False)
        moved = max(float(np.abs(x[0] - y[0]).max()) for x, y in zip(alone, mixed, strict=True))
        print(json.dumps({"variant": name, **distance(alone, ref),
                          "vs_shipped": distance(alone, shipped)["bio_mean"],
                          "batch_moves_logits_by": moved, "build_s": round(built, 1),
                          "mb": round(path.stat().st_size / 2**20, 1)}), flush=True)


def _member_paths(folder: Path) -> list[Path]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return [folder / m for m in manifest.get("members", [])] or [folder]


def cmd_speed(args: argparse.Namespace) -> None:
    from propscope.predictors.neural import WordPieces

    folders = [Path(m) for m in args.models.split(",")]
    first = _member_paths(folders[0])[0]
    pieces = WordPieces(str(first / "tokenizer.json"))
    rows = calibration_windows(first, args.data, args.articles, split="valid")
    tokens = sum(len(r) for r in rows)
    setups = [(f, b, t, s) for f in folders for b in map(int, args.batch.split(","))
              for t in map(int, args.threads.split(",")) for s in args.sort.split(",")]
    sessions = {(f, t): [session(m / "encoder.onnx", t) for m in _member_paths(f)]
                for f in folders for t in map(int, args.threads.split(","))}
    times: dict[tuple, list[float]] = {s: [] for s in setups}
    for _ in range(args.runs):  # alternate every setup within each repeat
        for setup in setups:
            f, b, t, s = setup
            t0 = time.perf_counter()
            for sess in sessions[(f, t)]:
                run_windows(sess, rows, b, pieces.pad_id, by_length=s == "length")
            times[setup].append(time.perf_counter() - t0)
    for (f, b, t, s), ts in times.items():
        med = statistics.median(ts)
        print(json.dumps({"model": str(f), "windows_per_call": b, "threads": t, "order": s,
                          "windows": len(rows), "tokens": tokens,
                          "runs_s": [round(x, 2) for x in ts], "median_s": round(med, 2),
                          "tokens_per_s_per_encoder": round(
                              tokens * len(sessions[(f, t)]) / med)}), flush=True)


def cmd_accuracy(args: argparse.Namespace) -> None:
    from propscope.corpus import load_split
    from propscope.evaluation import evaluate_predictor
    from propscope.model_io import load_folder

    valid = load_split(args.data, "valid")
    for folder in args.models.split(","):
        predictor = load_folder(folder)
        t0 = time.perf_counter()
        figures = evaluate_predictor(predictor, valid).summary()
        print(json.dumps({"model": folder, **figures,
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("variants")
    v.add_argument("--member", default="src/propscope/models/default/0-minilm-st1")
    v.add_argument("--variants", default=",".join(VARIANTS))
    v.add_argument("--articles", type=int, default=120, help="train articles to calibrate")
    v.add_argument("--valid-articles", type=int, default=10)
    v.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "static-int8"))
    s = sub.add_parser("speed")
    s.add_argument("--models", required=True)
    s.add_argument("--batch", default="1,8")
    s.add_argument("--threads", default="2")
    s.add_argument("--sort", default="length", help="length, given, or both")
    s.add_argument("--articles", type=int, default=88, help="valid articles")
    s.add_argument("--runs", type=int, default=3)
    a = sub.add_parser("accuracy")
    a.add_argument("--models", required=True)
    for p in (v, s, a):
        p.add_argument("--data", default="../shared/ptc")
    args = ap.parse_args()
    {"variants": cmd_variants, "speed": cmd_speed, "accuracy": cmd_accuracy}[args.cmd](args)


if __name__ == "__main__":
    main()

"""Time ``analyze`` over the valid articles: articles/s, tokens/s, peak memory, load time.

Also times the raw encoder (ONNX Runtime) on the same windows, for the overhead ratio,
and states the compute bound (model FLOPs per token against the CPU's peak).

    python benchmarks/analyze_speed.py [--model PATH] [--runs 3] [--data ../shared/ptc]

``--model`` given several times times the folders side by side: each repeat runs them one
after the other (old, new, old, new, ...) on the same articles, so that load from other
processes falls on all of them alike; one report per folder, with its speed-up over the first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from propscope import analyze
from propscope.config import onnx_threads
from propscope.corpus import load_split
from propscope.model_io import load_folder
from propscope.predictors.encoding import window_encoders


def encoder_flops_per_token(hidden: int, layers: int, seq: int) -> float:
    """Forward FLOPs per token of a BERT-style encoder (2 x MACs): projections + attention."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * 4 * hidden) + 2 * 2 * seq * hidden
    return layers * per_layer


def encoder_seconds(encoder, texts: list[str], runs: int) -> tuple[float, int]:
    """Median seconds of the bare encoder (a WindowEncoder) over the pipeline's windows
    (every reading's layout), and their tokens."""
    from propscope import alignment

    size, stride, pieces = encoder.window - 2, encoder.stride, encoder.pieces
    windows = []
    for t in texts:
        ids, _ = pieces(t)
        for grid in alignment.window_grids(len(ids), size, stride, encoder.readings):
            for lo, hi in grid:
                windows.append([pieces.cls_id, *ids[lo:hi], pieces.sep_id])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for b in range(0, len(windows), encoder.batch_size):
            batch = windows[b : b + encoder.batch_size]
            width = max(len(w) for w in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, w in enumerate(batch):
                ids[r, : len(w)] = w
                mask[r, : len(w)] = 1
            encoder.runner(ids, mask)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), sum(len(w) for w in windows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", default=None,
                    help="model folder (several: timed side by side, runs alternating)")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8, help="articles per analyze call")
    ap.add_argument("--ghz", type=float, default=3.7, help="core clock for the compute bound")
    ap.add_argument("--record", action="store_true",
                    help="write each folder's articles/s into its manifest (``speed``, which "
                         "``propscope models`` shows)")
    args = ap.parse_args()

    from propscope.config import DEFAULT_MODEL_DIR

    folders = [Path(m) for m in args.model] if args.model else [DEFAULT_MODEL_DIR]
    corpus = load_split(Path(args.data), "valid")
    texts = [a.text for a in corpus.articles.values()]
    loaded = []
    for folder in folders:
        t0 = time.perf_counter()
        predictor = load_folder(folder)
        loaded.append((folder, predictor, time.perf_counter() - t0))
    runs: list[list[float]] = [[] for _ in loaded]
    for _ in range(args.runs):
        for k, (_, predictor, _) in enumerate(loaded):
            fresh = predictor.holding()  # an empty cache: every run encodes again
            t0 = time.perf_counter()
            for i in range(0, len(texts), args.batch):
                analyze(texts[i : i + args.batch], predictor=fresh)
            runs[k].append(time.perf_counter() - t0)
    reports = [report(folder, predictor, load_s, texts, runs[k], args)
               for k, (folder, predictor, load_s) in enumerate(loaded)]
    for r in reports[1:]:
        r["speedup_over_first"] = round(r["articles_per_s"] / reports[0]["articles_per_s"], 2)
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    if args.record:
        for folder, r in zip(folders, reports, strict=True):
            record(folder, r, args)


def _shown(folder: Path) -> Path:
    """``folder`` relative to the working directory where it lies below it."""
    try:
        return folder.resolve().relative_to(Path.cwd())
    except ValueError:
        return folder


def record(folder: Path, r: dict, args: argparse.Namespace) -> None:
    """Store the measured speed in ``folder``'s manifest (its other keys as they were)."""
    path = folder / "manifest.json"
    text = path.read_text()
    manifest = json.loads(text)
    manifest["speed"] = {
        "articles_per_s": r["articles_per_s"],
        "threads": onnx_threads() or os.cpu_count(),  # 0: ONNX Runtime's default, all cores
        "command": (f"python benchmarks/analyze_speed.py --model {_shown(folder)} "
                    f"--runs {args.runs}"),
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
        "what": f"analyze, reader mode with targets, {r['articles']} valid articles, "
                f"{args.batch} a call, median of {args.runs} runs",
    }
    indent = 2 if text.startswith("{\n  \"") else 1
    path.write_text(json.dumps(manifest, indent=indent, ensure_ascii=False) + "\n")
    print(f"recorded {r['articles_per_s']} articles/s in {path}", file=sys.stderr)


def report(folder: Path, predictor, load_s: float, texts: list[str], runs: list[float],
           args: argparse.Namespace) -> dict:
    """One folder's figures: ``runs`` are its whole-pipeline seconds; its bare encoders
    are timed here on the same windows."""
    encoders = window_encoders(predictor.encoder)
    n_tokens = sum(len(encoders[0].pieces(t)[0]) for t in texts)
    total = statistics.median(runs)

    # the raw encoder(s) on the same windows the pipeline runs (an ensemble: every member's)
    members = getattr(predictor, "members", [predictor])
    enc, window_tokens, total_flops = 0.0, 0, 0.0
    for member, encoder in zip(members, encoders, strict=True):
        seconds, tokens = encoder_seconds(encoder, texts, args.runs)
        enc += seconds
        window_tokens += tokens
        manifest = json.loads((Path(member.info["path"]) / "manifest.json").read_text())
        hidden, layers = manifest.get("encoder_shape", [384, 6])
        total_flops += tokens * encoder_flops_per_token(hidden, layers, member.decode.window)
    flops = total_flops / window_tokens
    # Zen 4 runs AVX-512 on two 256-bit VNNI pipes: 2 x 32 int8 MACs = 128 int8 ops per cycle
    # per core; 2 cores at --ghz. /proc/cpuinfo reports 2.6 GHz (base); EPYC Zen 4 parts
    # boost to about 3.7 GHz, and MPNet measured above the 2.6 GHz bound, so 3.7 is the default.
    # (An INT8 bound: encoders that keep some weights fp32 cannot reach it.)
    ghz = args.ghz
    peak_int8 = 2 * ghz * 1e9 * 128
    return {
        "model": str(folder),
        "articles": len(texts),
        "tokens": n_tokens,
        "load_s": round(load_s, 2),
        "readings": predictor.decode.readings,
        "runs_s": [round(r, 2) for r in runs],
        "articles_per_s": round(len(texts) / total, 2),
        "tokens_per_s": round(n_tokens / total),
        "encoder_tokens_per_s": round(window_tokens / enc),
        "pipeline_tokens_per_s_of_encoded": round(window_tokens / total),
        "overhead_ratio": round(total / enc, 2),
        "window_tokens_over_article_tokens": round(window_tokens / n_tokens, 2),
        "encoder_flops_per_token": flops,
        "peak_int8_ops_per_s": peak_int8,
        "compute_bound_tokens_per_s_int8": round(peak_int8 / flops),
        "encoder_share_of_peak": round(window_tokens / enc / (peak_int8 / flops), 3),
        # the process's peak (with several folders: all of them loaded)
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "windows_per_call": encoders[0].batch_size,
    }


if __name__ == "__main__":
    main()

"""SmoothQuant before dynamic INT8 for the accurate profile's MPNet (issue 12, items 2-3).

Builds fully dynamic-INT8 encoders from the fp32 graph with the down-projections' inputs
smoothed at several ``alpha`` (``training/smoothquant.py``) and compares, on valid windows,
how far each one's outputs are from fp32: the package's encoder (down-projections INT8
weights, fp32 products), plain full INT8, and the smoothed ones.

    python benchmarks/smooth_int8.py --fp32 runs/mpnet-quant/encoder.fp32.onnx \
        --folder models/propscope-model-accurate/src/propscope_model_accurate/model \
        --alphas 0.5,0.65,0.8 --work runs/smooth
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from static_int8 import distance, run_windows, session

from propscope.training.quantize import calibration_windows
from propscope.training.smoothquant import (
    ALL_PROJECTIONS,
    DOWN_PROJECTIONS,
    channel_ranges,
    smoothed_int8,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fp32", required=True, help="the encoder's fp32 ONNX graph")
    ap.add_argument("--folder", required=True, help="model folder (tokenizer, windows)")
    ap.add_argument("--plain", default="", help="a plain full-INT8 encoder to compare")
    ap.add_argument("--alphas", default="0.5,0.65,0.8")
    ap.add_argument("--names", default="down", help="down (down-projections) or all")
    ap.add_argument("--articles", type=int, default=24, help="train articles to calibrate")
    ap.add_argument("--valid-articles", type=int, default=10)
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--work", default="runs/smooth")
    args = ap.parse_args()
    folder, fp32, work = Path(args.folder), Path(args.fp32), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    calib = calibration_windows(folder, args.data, args.articles)
    rows = calibration_windows(folder, args.data, args.valid_articles, split="valid")
    t0 = time.perf_counter()
    names = ALL_PROJECTIONS if args.names == "all" else DOWN_PROJECTIONS
    ranges = channel_ranges(fp32, calib, names)
    peaks = {"/".join(k.split("/")[4:-1]): round(float(v.max() / max(np.median(v), 1e-6)))
             for k, v in ranges.items()}
    print(json.dumps({"calibration_windows": len(calib), "valid_windows": len(rows),
                      "calibrate_s": round(time.perf_counter() - t0, 1),
                      "largest_over_median_channel": peaks}), flush=True)
    ref = run_windows(session(fp32), rows, 1)
    compare = {"package (INT8 weights, fp32 down-projections)": folder / "encoder.onnx"}
    if args.plain:
        compare["plain full INT8"] = Path(args.plain)
    for alpha in map(float, args.alphas.split(",")):
        out = work / f"{args.names}-alpha{alpha:g}"
        out.mkdir(exist_ok=True)
        target = out / "encoder.onnx"
        if not target.exists():
            smoothed_int8(fp32, target, ranges, alpha)
        compare[f"smoothed alpha {alpha:g}, full INT8"] = target
    for name, path in compare.items():
        print(json.dumps({"encoder": name, "path": str(path),
                          **distance(run_windows(session(path), rows, 1), ref)}), flush=True)


if __name__ == "__main__":
    main()

"""SmoothQuant for dynamic INT8 encoders: move activation outliers into the weights.

Dynamic INT8 scales each call's activations by their largest value. The inputs of
MPNet's feed-forward down-projections (GELU outputs, 3,072 channels) have a few channels
with outliers far above the rest, so one scale for the whole tensor leaves the other
channels a handful of levels, which is why full INT8 cost the accurate profile a point of
SI and TC and why its down-projections computed in fp32.

SmoothQuant (Xiao et al., 2023) divides channel ``j`` of the activation by
``s_j = max|X_j| ** alpha / max|W_j| ** (1 - alpha)`` and multiplies row ``j`` of the weight by
``s_j``: the product is unchanged in exact arithmetic, while the activation's range shrinks and
the weight (quantised per output column) absorbs it. A GELU stands between the previous
weight and these activations, so the division cannot be folded into it: it is an explicit
``Mul`` by a constant vector (one multiply per activation, nothing against the GEMM).

    rows = quantize.calibration_windows(folder, data, articles)
    ranges = channel_ranges(fp32, rows, ALL_PROJECTIONS)
    smoothed_int8(fp32, out, ranges, alpha=0.9)   # smooth, then dynamic INT8 throughout

or, for a model folder, ``python -m propscope.training.smoothquant FOLDER --run RUN``.
Alpha 0.5, the paper's default, is worse than no smoothing on MPNet: its outliers are too
large for the weights to take half (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: MPNet's feed-forward down-projections (in BERT's naming this also takes attention's output
#: projection, ``attention/output/dense``, which smoothing leaves exact in fp32 too)
DOWN_PROJECTIONS = ("/output/dense/",)
#: every projection with a constant weight (attention's Q.K and P.V have none), in MPNet's
#: naming (``attn/q`` ... ``attn/o``) and BERT's (MiniLM: ``self/query`` ... ``output/dense``)
ALL_PROJECTIONS = ("/output/dense/", "/intermediate/dense/", "/attn/q/", "/attn/k/", "/attn/v/",
                   "/attn/o/", "/self/query/", "/self/key/", "/self/value/")


def _targets(graph, names: Sequence[str]) -> list:
    """MatMul nodes whose name contains one of ``names`` and whose weight is a constant."""
    inits = {t.name for t in graph.initializer}
    return [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits
            and any(k in n.name for k in names)]


def channel_ranges(fp32: Path, rows: Sequence[np.ndarray],
                   names: Sequence[str] = DOWN_PROJECTIONS) -> dict[str, np.ndarray]:
    """Per input channel, the largest |activation| entering each target MatMul over the
    calibration windows (``rows``: token ids, one window per call, no padding)."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(fp32))
    nodes = _targets(model.graph, names)
    known = {o.name for o in model.graph.output}
    for n in nodes:
        if n.input[0] not in known:
            model.graph.output.append(onnx.helper.make_tensor_value_info(
                n.input[0], onnx.TensorProto.FLOAT, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    wanted = [n.input[0] for n in nodes]
    peak: dict[str, np.ndarray] = {}
    for row in rows:
        outs = sess.run(wanted, {"input_ids": row[None, :],
                                 "attention_mask": np.ones((1, len(row)), np.int64)})
        for node, x in zip(nodes, outs, strict=True):
            m = np.abs(x.reshape(-1, x.shape[-1])).max(axis=0)
            peak[node.name] = np.maximum(peak.get(node.name, m), m)
    return peak


def smooth(fp32: Path, dst: Path, ranges: dict[str, np.ndarray], alpha: float = 0.5) -> Path:
    """Write ``fp32`` with each MatMul named in ``ranges`` smoothed (a ``Mul`` by ``1 / s``
    on its input, its weight's rows times ``s``). MatMuls reading one activation (attention's
    query, key and value) share one ``s`` and one ``Mul``, so that the quantised graph still
    quantises that activation once. Still fp32: quantise it after."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(fp32))
    inits = {t.name: t for t in model.graph.initializer}
    groups: dict[str, list] = {}
    for node in model.graph.node:
        if node.name in ranges:
            groups.setdefault(node.input[0], []).append(node)
    muls: dict[str, str] = {}  # activation -> the name of the Mul that smooths it
    for act_name, members in groups.items():
        act = np.maximum(np.max([ranges[n.name] for n in members], axis=0), 1e-5)
        weights = [numpy_helper.to_array(inits[n.input[1]]) for n in members]  # (in, out)
        wmax = np.maximum(np.max([np.abs(w).max(axis=1) for w in weights], axis=0), 1e-5)
        s = (act ** alpha / wmax ** (1 - alpha)).astype(np.float32)
        for n, w in zip(members, weights, strict=True):
            init = inits[n.input[1]]
            init.CopyFrom(numpy_helper.from_array((w * s[:, None]).astype(np.float32),
                                                  init.name))
        muls[act_name] = f"{members[0].name}_smooth"
        model.graph.initializer.append(numpy_helper.from_array((1.0 / s).astype(np.float32),
                                                               f"{muls[act_name]}_inv"))
    nodes = []
    for node in model.graph.node:
        nodes.append(node)
        for name in node.output:  # the Mul right after what it smooths
            if name in muls:
                nodes.append(onnx.helper.make_node("Mul", [name, f"{muls[name]}_inv"],
                                                   [f"{muls[name]}_out"], name=muls[name]))
    for node in nodes:
        if node.name in ranges:
            node.input[0] = f"{muls[node.input[0]]}_out"
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(dst), save_as_external_data=True, location=f"{dst.name}.data")
    return dst


def smoothed_int8(fp32: Path, out: Path, ranges: dict[str, np.ndarray],
                  alpha: float = 0.9) -> Path:
    """``fp32`` smoothed (``smooth``) and quantised to dynamic INT8 throughout, written to
    ``out``."""
    from .export import quantize_onnx

    with tempfile.TemporaryDirectory() as tmp:
        return quantize_onnx(smooth(fp32, Path(tmp) / "smoothed.onnx", ranges, alpha), out)


def smooth_folder(folder: Path, fp32: Path, data: Path | str, alpha: float = 0.9,
                  names: Sequence[str] = ALL_PROJECTIONS, articles: int = 24,
                  max_mb: float = 90.0, log=print) -> dict:
    """Replace model folder ``folder``'s encoder by ``fp32`` smoothed (calibrated on the
    windows of ``articles`` train-split articles) and quantised to dynamic INT8 throughout,
    its weights split into files of at most ``max_mb`` MiB; record how in the manifest
    (``smoothquant``). Decoding, heads and second stage stay as they are. Returns the
    record."""
    from .export import split_onnx_data
    from .quantize import calibration_windows

    rows = calibration_windows(folder, data, articles)
    log(f"calibrating on {len(rows)} windows of {articles} train articles")
    ranges = channel_ranges(fp32, rows, names)
    for old in folder.glob("encoder.onnx*"):
        old.unlink()
    smoothed_int8(fp32, folder / "encoder.onnx", ranges, alpha)
    parts = split_onnx_data(folder / "encoder.onnx", int(max_mb * 2**20))
    record = {"alpha": alpha, "projections": list(names), "calibration_articles": articles,
              "calibration_windows": len(rows), "matmuls": len(ranges),
              "quantization": "dynamic INT8, every projection"}
    manifest = json.loads((folder / "manifest.json").read_text())
    files = [f for f in manifest["files"] if not f.startswith("encoder.onnx")]
    manifest.update(files=sorted({*files, "encoder.onnx", *parts}), smoothquant=record)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"{folder}: {len(ranges)} MatMuls smoothed (alpha {alpha}), weights in {parts}")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    from .export import fp32_from_checkpoint

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="the model folder whose encoder is replaced")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="training folder with best.pt (fp32 source)")
    src.add_argument("--fp32", type=Path, help="an fp32 ONNX graph of the same model")
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--projections", choices=("all", "down"), default="all")
    ap.add_argument("--articles", type=int, default=24, help="train articles to calibrate")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--max-mb", type=float, default=90.0, help="largest weights file, MiB")
    args = ap.parse_args(argv)
    names = ALL_PROJECTIONS if args.projections == "all" else DOWN_PROJECTIONS
    needed = [args.folder / "manifest.json", args.fp32 or args.run / "best.pt"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        print(f"smoothquant: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = args.fp32
        if fp32 is None:
            encoder = json.loads((args.folder / "manifest.json").read_text())["encoder"]
            fp32 = fp32_from_checkpoint(args.run, encoder, Path(tmp) / "encoder.fp32.onnx")
        smooth_folder(args.folder, fp32, args.data, args.alpha, names, args.articles,
                      args.max_mb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Static INT8 quantisation of a model folder's encoders (issue 12, item 2).

Dynamic INT8 (``training/export.py``) scales each call's activations by that call's largest
value, so windows encoded together change each other's outputs and the predictor runs one
window per call. Static INT8 fixes every activation scale once, calibrated on windows of
training articles: outputs no longer depend on batch-mates, so windows can be batched.

The source of the fp32 graph:

- a folder whose ``encoder.onnx`` is fp32 (``train --no-quantize`` style), used as is;
- a folder whose ``encoder.onnx`` is dynamic INT8 (what ``train`` ships): its weights are
  de-quantised back to an fp32 graph (``dequantize_dynamic``). The INT8 weights are exactly
  the shipped ones (symmetric per-channel scales: re-quantising ``q * s`` gives ``q``); only
  the activations get new, fixed scales. The shipped members keep no fp32 ONNX and no torch
  checkpoint, so this is how the shipped model is quantised statically.

    python -m propscope.training.quantize SRC_FOLDER OUT_FOLDER [--format QDQ]
        [--method MinMax] [--ops MatMul] [--articles 120] [--data ../shared/ptc]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import alignment
from ..corpus import load_split
from ..errors import PropscopeError
from .folders import replace_model_folder

#: the manifest key (and its value) that marks statically quantised encoders
QUANTIZATION_KEY = "quantization"


@dataclass(frozen=True)
class StaticSettings:
    """How to quantise: ONNX Runtime's ``quantize_static`` options that matter here."""

    format: str = "QDQ"  # "QDQ" (QuantizeLinear/DequantizeLinear pairs) or "QOperator"
    method: str = "MinMax"  # "MinMax", "Percentile" or "Entropy"
    per_channel: bool = True
    ops: tuple[str, ...] = ("MatMul",)  # op types to quantise (Gather, Add, ...: also try)
    # node-name substrings that stay fp32: by default attention's Q.K and P.V MatMuls
    exclude: tuple[str, ...] = ("/attention/self/MatMul",)
    percentile: float = 99.999  # for method Percentile
    articles: int = 120  # train-split articles whose windows calibrate
    reduce_range: bool = False
    activation: str = "QUInt8"  # activation type: QUInt8 (u8s8, VNNI) or QInt8
    # MatMuls with a constant weight only (QOperator format; QDQ ignores it, so attention's
    # Q.K and P.V are left out by name: ``exclude``)
    const_b_only: bool = True
    # MatMul outputs stay fp32 (QDQ: DequantizeLinear -> MatMul fuses to
    # MatMulIntegerToFloat, as dynamic INT8 runs; no re-quantisation of the output)
    float_outputs: bool = True
    seed: int = 0

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["ops"] = list(self.ops)
        d["exclude"] = list(self.exclude)
        return d


# -- the fp32 source -------------------------------------------------------------------------
def is_dynamic_int8(path: Path) -> bool:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return any(n.op_type in ("DynamicQuantizeLinear", "MatMulInteger") for n in graph.node)


def dequantize_dynamic(src: Path, dst: Path) -> Path:
    """An fp32 graph from ``quantize_dynamic``'s output: every
    ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)`` becomes
    ``MatMul(x, (W_q - zp) * s)``, and every de-quantised ``Gather`` of an INT8 table a
    ``Gather`` of the fp32 table. Nodes left without consumers are dropped."""
    import onnx

    model = onnx.load(str(src))
    graph = model.graph
    index = _GraphIndex(graph)
    new_inits: list[Any] = []
    replace: dict[str, Any] = {}  # output name -> replacing node
    drop: set[str] = set()
    for n in graph.node:
        if n.op_type == "MatMulInteger":
            found = index.matmul(n)
        elif n.op_type == "DequantizeLinear" and n.input[0] not in index.arr:
            found = index.gather(n)
        else:
            found = None
        if found is not None:
            init, node, dropped = found
            new_inits.append(init)
            replace[node.output[0]] = node
            drop.update(dropped)
    nodes = [replace[n.output[0]] if n.name in drop else n for n in graph.node
             if n.name not in drop or n.output[0] in replace]
    nodes = _prune(nodes, {o.name for o in graph.output})
    used = {i for n in nodes for i in n.input}
    graph.ClearField("node")
    graph.node.extend(_topological(nodes, [i.name for i in graph.input]
                                   + [t.name for t in new_inits] + list(index.inits)))
    keep_inits = [t for t in graph.initializer if t.name in used]
    graph.ClearField("initializer")
    graph.initializer.extend(keep_inits + [t for t in new_inits if t.name in used])
    graph.ClearField("value_info")
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return dst


class _GraphIndex:
    """A quantised graph's initializers (as arrays), producers and consumers, and the fp32
    replacement of each de-quantisable pattern: ``(new initializer, new node, names of the
    nodes it replaces)``."""

    def __init__(self, graph: Any) -> None:
        from onnx import numpy_helper

        self.inits = {i.name: i for i in graph.initializer}
        self.arr = {name: numpy_helper.to_array(t) for name, t in self.inits.items()}
        self.consumers: dict[str, list[Any]] = {}
        for n in graph.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.producer = {o: n for n in graph.node for o in n.output}

    def dequant(self, q: str, scale: str, zp: str | None) -> np.ndarray:
        w = self.arr[q].astype(np.float32)
        z = self.arr[zp].astype(np.float32) if zp else np.float32(0)
        return (w - z) * self.arr[scale].astype(np.float32)

    def matmul(self, n: Any) -> tuple[Any, Any, set[str]]:
        """``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale)`` as one MatMul."""
        from onnx import helper, numpy_helper

        x_q, w_q, _x_zp, w_zp = (list(n.input) + [""] * 4)[:4]
        dql = self.producer[x_q]
        assert dql.op_type == "DynamicQuantizeLinear", dql.op_type
        (cast,) = self.consumers[n.output[0]]
        (mul,) = self.consumers[cast.output[0]]
        assert cast.op_type == "Cast" and mul.op_type == "Mul", (cast.op_type, mul.op_type)
        # the scale Mul feeding the output Mul: Mul(x_scale, w_scale)
        other = next(i for i in mul.input if i != cast.output[0])
        scales_mul = self.producer[other]
        w_scale = next(i for i in scales_mul.input if i in self.arr)
        name = w_q.removesuffix("_quantized")
        init = numpy_helper.from_array(self.dequant(w_q, w_scale, w_zp or None), name)
        node = helper.make_node("MatMul", [dql.input[0], name], [mul.output[0]],
                                name=n.name.removesuffix("_quant"))
        return init, node, {n.name, cast.name, mul.name, scales_mul.name}

    def gather(self, n: Any) -> tuple[Any, Any, set[str]] | None:
        """A ``DequantizeLinear`` of a ``Gather`` of an INT8 table as a ``Gather`` of the fp32
        table (None when it de-quantises something else)."""
        from onnx import helper, numpy_helper

        gather = self.producer[n.input[0]]
        if gather.op_type != "Gather":
            return None
        table_q, indices = gather.input[0], gather.input[1]
        name = table_q.removesuffix("_quantized")
        zp = n.input[2] if len(n.input) > 2 else None
        init = numpy_helper.from_array(self.dequant(table_q, n.input[1], zp), name)
        node = helper.make_node(
            "Gather", [name, indices], [n.output[0]], name=gather.name,
            axis=next((a.i for a in gather.attribute if a.name == "axis"), 0))
        return init, node, {gather.name, n.name}


def _prune(nodes: list[Any], outputs: set[str]) -> list[Any]:
    """``nodes`` without those whose outputs nobody uses (DynamicQuantizeLinear, ...),
    repeated until none is left."""
    while True:
        used = {i for n in nodes for i in n.input} | outputs
        kept = [n for n in nodes if any(o in used for o in n.output)]
        if len(kept) == len(nodes):
            return nodes
        nodes = kept


def _topological(nodes: Sequence[Any], known: Sequence[str]) -> list[Any]:
    have = set(known) | {""}
    out, todo = [], list(nodes)
    while todo:
        rest = []
        for n in todo:
            if all(i in have for i in n.input):
                out.append(n)
                have.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(todo):
            raise ValueError(f"graph has a cycle or a missing input near {rest[0].name}")
        todo = rest
    return out


def fp32_encoder(folder: Path, dst: Path) -> Path:
    """An fp32 ONNX encoder for the single-model folder ``folder``, written to ``dst``."""
    src = folder / "encoder.onnx"
    if is_dynamic_int8(src):
        return dequantize_dynamic(src, dst)
    shutil.copy(src, dst)
    return dst


# -- calibration -----------------------------------------------------------------------------
def calibration_windows(folder: Path, data: Path | str, articles: int, seed: int = 0,
                        split: str = "train") -> list[np.ndarray]:
    """Token-id rows ([CLS] window [SEP]) of ``articles`` train-split articles, laid out as
    the predictor lays them out (the folder's window and stride)."""
    from ..predictors.neural import WordPieces

    manifest = json.loads((folder / "manifest.json").read_text())
    window, stride = manifest["decode"]["window"], manifest["decode"]["stride"]
    pieces = WordPieces(str(folder / "tokenizer.json"))
    corpus = load_split(Path(data), split)
    ids = sorted(corpus.articles)
    rng = np.random.default_rng(seed)
    chosen = [ids[i] for i in sorted(rng.permutation(len(ids))[:articles])]
    rows = []
    for aid in chosen:
        tokens, _ = pieces(corpus.articles[aid].text)
        if not tokens:
            continue
        for grid in alignment.window_grids(len(tokens), window - 2, stride, 1):
            for lo, hi in grid:
                rows.append(np.array([pieces.cls_id, *tokens[lo:hi], pieces.sep_id],
                                     dtype=np.int64))
    return rows


class WindowReader:
    """ONNX Runtime's CalibrationDataReader over windows, one window per feed (no padding:
    padded positions would widen the ranges with values the model never uses)."""

    def __init__(self, rows: Sequence[np.ndarray]) -> None:
        self.rows = list(rows)
        self._it: Iterator[np.ndarray] = iter(self.rows)

    def get_next(self) -> dict[str, np.ndarray] | None:
        row = next(self._it, None)
        if row is None:
            return None
        return {"input_ids": row[None, :], "attention_mask": np.ones((1, len(row)), np.int64)}

    def rewind(self) -> None:
        self._it = iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def quantize_encoder(fp32: Path, out: Path, rows: Sequence[np.ndarray],
                     settings: StaticSettings) -> Path:
    """``quantize_static`` of ``fp32`` into ``out`` with activation ranges from ``rows``."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class _Reader(WindowReader, CalibrationDataReader):
        pass

    if settings.method != "MinMax":
        # the histogram calibrators stack every feed's outputs into one array: windows of
        # one length only (the full windows, nearly all of them)
        lengths = [len(r) for r in rows]
        common = max(set(lengths), key=lengths.count)
        rows = [r for r in rows if len(r) == common]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        # ORT's graph clean-up and ONNX shape inference, as the quantiser recommends
        # (symbolic shape inference fails on BERT's position-id slice: Min(512, seq))
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        graph = onnx.load(str(pre), load_external_data=False).graph
        exclude = [n.name for n in graph.node if any(k in n.name for k in settings.exclude)]
        extra: dict[str, Any] = {"CalibTensorRangeSymmetric": False,
                                 "ActivationSymmetric": settings.activation == "QInt8",
                                 "MatMulConstBOnly": settings.const_b_only}
        if settings.float_outputs:
            extra["OpTypesToExcludeOutputQuantization"] = list(settings.ops)
        if settings.method == "Percentile":
            extra["CalibPercentile"] = settings.percentile
        quantize_static(
            str(pre), str(out), _Reader(rows),
            quant_format=QuantFormat.QDQ if settings.format == "QDQ" else QuantFormat.QOperator,
            op_types_to_quantize=list(settings.ops),
            per_channel=settings.per_channel,
            reduce_range=settings.reduce_range,
            activation_type=getattr(QuantType, settings.activation),
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
            calibrate_method=getattr(CalibrationMethod, settings.method),
            calibration_providers=["CPUExecutionProvider"],
            extra_options=extra,
        )
    return out


# -- whole folders ---------------------------------------------------------------------------
def quantize_folder(src: Path | str, out: Path | str, data: Path | str,
                    settings: StaticSettings = StaticSettings(),
                    command: str | None = None) -> Path:
    """A copy of model folder ``src`` (single or ensemble) at ``out`` whose encoders are
    static INT8, calibrated on ``settings.articles`` train-split articles' windows. Each
    quantised manifest records how (``quantization``; ``kind: static`` makes the loader
    batch the windows), the top one also the ``command`` that rebuilds it."""
    src, out = Path(src), Path(out)
    replace_model_folder(out, [src])
    shutil.copytree(src, out, dirs_exist_ok=True)
    manifest = json.loads((src / "manifest.json").read_text())
    members = manifest.get("members") or []
    for name in members or [""]:
        _quantize_single(out / name if name else out, src / name if name else src, data,
                         settings)
    top = json.loads((out / "manifest.json").read_text())
    top["name"] = f"{manifest.get('name', src.name)}-static"
    (out / "manifest.json").write_text(json.dumps(top, indent=2) + "\n")
    write_record(out, {**_record(settings, src), **({"command": command} if command else {})})
    return out


def write_record(folder: Path, record: dict[str, Any]) -> None:
    """Record how ``folder``'s encoder was quantised in its manifest (``quantization``)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest[QUANTIZATION_KEY] = record
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _record(settings: StaticSettings, src: Path) -> dict[str, Any]:
    return {"kind": "static", **settings.describe(), "source": str(src),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _quantize_single(folder: Path, src: Path, data: Path | str,
                     settings: StaticSettings) -> None:
    rows = calibration_windows(folder, data, settings.articles, settings.seed)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = fp32_encoder(folder, Path(tmp) / "fp32.onnx")
        quantize_encoder(fp32, folder / "encoder.onnx", rows, settings)
    write_record(folder, {**_record(settings, src), "windows": len(rows)})


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Static INT8 quantisation of a model folder")
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--data", default="../shared/ptc")
    ap.add_argument("--format", default="QDQ", choices=("QDQ", "QOperator"))
    ap.add_argument("--method", default="MinMax", choices=("MinMax", "Percentile", "Entropy"))
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor")
    ap.add_argument("--ops", default="MatMul", help="op types to quantise, comma-separated")
    ap.add_argument("--exclude", default="/attention/self/MatMul",
                    help="node-name substrings kept fp32 (default: attention's Q.K, P.V)")
    ap.add_argument("--articles", type=int, default=120)
    ap.add_argument("--percentile", type=float, default=99.999)
    args = ap.parse_args(argv)
    settings = StaticSettings(format=args.format, method=args.method,
                              per_channel=not args.per_tensor,
                              ops=tuple(o for o in args.ops.split(",") if o),
                              exclude=tuple(e for e in args.exclude.split(",") if e),
                              articles=args.articles, percentile=args.percentile)
    command = "python -m propscope.training.quantize " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    try:
        print(quantize_folder(args.src, args.out, args.data, settings, command))
    except PropscopeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

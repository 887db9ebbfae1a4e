"""Writing a trained model folder: ONNX encoder (INT8), tokenizer, span head, manifest."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..config import DEFAULT_DATA_DIR, MODEL_FORMAT, DecodeConfig, TrainConfig
from .model import SpanTagger

OUTPUTS = ["bio_logits", "states", "technique_logits"]


class _Exportable(torch.nn.Module):
    def __init__(self, model: SpanTagger, technique_head: bool) -> None:
        super().__init__()
        self.model = model
        self.outputs = 3 if technique_head else 2

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.model(input_ids, attention_mask)[: self.outputs]


def export_onnx(model: SpanTagger, path: Path, quantize: bool = True,
                keep_fp32: tuple[str, ...] = (), technique_head: bool = True,
                weight_only: tuple[str, ...] = ()) -> Path:
    """Export the encoder and its heads to ONNX; with ``quantize``, INT8 dynamic weights (VNNI).
    Without ``technique_head`` (a model trained without its loss) that output is left out.

    Do this last: after tracing, the torch model no longer gives its former outputs
    (seen with transformers 5); the exported graph does (tests/test_train.py checks it).
    """
    outputs = OUTPUTS if technique_head else OUTPUTS[:2]
    return export_module(_Exportable(model.float().eval(), technique_head), outputs, path,
                         quantize, keep_fp32, weight_only)


def fp32_from_checkpoint(run: Path, encoder: str, path: Path) -> Path:
    """The fp32 ONNX graph of a training folder's best epoch (``run/best.pt``), written to
    ``path``: the source for quantising it another way (``smoothquant.py``,
    ``benchmarks/quant_study.py``)."""
    from transformers import AutoModel

    from ..techniques import TECHNIQUE_NAMES
    from .encoders import encoder_dir

    shape = json.loads((run / "manifest.json").read_text()).get("encoder_shape")
    layers = {"num_hidden_layers": shape[1]} if shape else {}  # a student of fewer layers
    enc = AutoModel.from_pretrained(str(encoder_dir(encoder)), attn_implementation="eager",
                                    **layers)
    model = SpanTagger(enc, len(TECHNIQUE_NAMES))
    model.load_state_dict(torch.load(run / "best.pt", weights_only=True), strict=False)
    return export_onnx(model, path, quantize=False)


def export_module(module: torch.nn.Module, outputs: list[str], path: Path,
                  quantize: bool = True, keep_fp32: tuple[str, ...] = (),
                  weight_only: tuple[str, ...] = ()) -> Path:
    """Export ``module`` (``input_ids``, ``attention_mask`` -> ``outputs``, every one with
    dynamic batch and sequence axes) to ONNX at ``path``; with ``quantize``, INT8 dynamic
    weights (``quantize_onnx``)."""
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    fp32 = path.with_suffix(".fp32.onnx")
    with torch.no_grad():
        torch.onnx.export(
            module, (ids, mask), str(fp32),
            input_names=["input_ids", "attention_mask"], output_names=outputs,
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                          "attention_mask": {0: "batch", 1: "seq"},
                          **{name: {0: "batch", 1: "seq"} for name in outputs}},
            opset_version=17, dynamo=False,
        )
    if not quantize:
        fp32.replace(path)
        return path
    quantize_onnx(fp32, path, keep_fp32, weight_only)
    fp32.unlink()
    return path


def quantize_onnx(fp32: Path, path: Path, keep_fp32: tuple[str, ...] = (),
                  weight_only: tuple[str, ...] = ()) -> Path:
    """INT8 dynamic weights (VNNI), per channel; MatMul/Gather nodes whose name contains one
    of ``keep_fp32`` (e.g. ``"/output/dense/"``, the feed-forward down-projections) stay fp32.
    Those whose name contains one of ``weight_only`` store INT8 weights (per output channel,
    symmetric) but compute in fp32 on fp32 activations: the file is as small as full INT8,
    while the activations (MPNet's down-projection inputs have outliers that one dynamic
    scale per call crushes) keep their precision."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    exclude = [n.name for n in graph.node if any(k in n.name for k in keep_fp32 + weight_only)]
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=exclude)
    if weight_only:
        int8_weights_only(path, weight_only)
    return path


def int8_weights_only(path: Path, names: tuple[str, ...]) -> int:
    """Give the fp32 MatMuls whose node name contains one of ``names`` INT8 weights with one
    scale per output column, de-quantised at run time (``DequantizeLinear``, opset 13+), so
    the product stays fp32. Returns how many MatMuls changed."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {t.name: t for t in model.graph.initializer}
    nodes, changed = [], 0
    for node in model.graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) > 1 else None
        if (w is None or not any(k in node.name for k in names)
                or w.data_type != onnx.TensorProto.FLOAT):
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(w)
        scale = (np.abs(weight).max(axis=0) / 127.0).astype(np.float32)
        scale[scale == 0] = 1.0
        q = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        base = w.name
        model.graph.initializer.remove(w)
        model.graph.initializer.extend([
            numpy_helper.from_array(q, f"{base}_q8"),
            numpy_helper.from_array(scale, f"{base}_s8"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{base}_z8")])
        nodes.append(onnx.helper.make_node(
            "DequantizeLinear", [f"{base}_q8", f"{base}_s8", f"{base}_z8"], [f"{base}_deq"],
            name=f"{node.name}_deq", axis=1))
        node.input[1] = f"{base}_deq"
        nodes.append(node)
        changed += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(path))
    return changed


def write_model_folder(
    model: SpanTagger,
    out: Path,
    tokenizer_json: Path,
    techniques: list[str],
    train_config: TrainConfig,
    decode: DecodeConfig,
    extra: dict[str, Any] | None = None,
    data_dir: Path | str = DEFAULT_DATA_DIR,
) -> Path:
    """Export ``model`` into the folder ``out`` with its manifest (``data_dir``: the corpus
    it was trained on, for the manifest's rebuild command)."""
    out.mkdir(parents=True, exist_ok=True)
    keep = tuple(k for k in train_config.keep_fp32.split(",") if k)
    weight_only = tuple(k for k in train_config.int8_weights_only.split(",") if k)
    export_onnx(model, out / "encoder.onnx", quantize=train_config.quantize, keep_fp32=keep,
                technique_head=train_config.technique_loss_weight > 0,
                weight_only=weight_only)
    shutil.copy(tokenizer_json, out / "tokenizer.json")
    head = model.numpy_head()
    np.savez(out / "span_head.npz", w1=head.w1, b1=head.b1, w2=head.w2, b2=head.b2)
    manifest = {
        "format": MODEL_FORMAT,
        "name": out.name,
        "propscope_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "techniques": techniques,
        "files": ["encoder.onnx", "tokenizer.json", "span_head.npz"],
        "train_config": train_config.to_dict(),
        "decode": decode.to_dict(),
        "rebuild": f"propscope train --data {data_dir} --out models/{out.name}",
        **(extra or {}),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def split_onnx_data(path: Path, max_bytes: int = 90 * 2**20) -> list[str]:
    """Move ``path``'s weights out of the graph into ``<name>.data0``, ``.data1``, ... beside
    it, each at most ``max_bytes`` (a tensor larger than that gets a file of its own), so that
    no file of a model package is too large for its host (issue 12: none over 95 MB). ONNX
    Runtime finds the files next to the graph. Returns the names of the files written (none
    when the graph with its weights is no larger than ``max_bytes``: it stays whole)."""
    import onnx
    from onnx.external_data_helper import set_external_data

    if path.stat().st_size <= max_bytes:
        return []

    model = onnx.load(str(path))
    chunks: list[list[bytes]] = [[]]
    sizes = [0]
    names = [f"{path.name}.data0"]
    for tensor in model.graph.initializer:
        array = onnx.numpy_helper.to_array(tensor)
        raw = array.tobytes()
        if len(raw) < 1024:
            continue
        if sizes[-1] and sizes[-1] + len(raw) > max_bytes:
            chunks.append([])
            sizes.append(0)
            names.append(f"{path.name}.data{len(names)}")
        # one layout whatever the tensor held (raw bytes or typed fields), then moved out
        tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))
        set_external_data(tensor, location=names[-1], offset=sizes[-1], length=len(raw))
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        chunks[-1].append(raw)
        sizes[-1] += len(raw)
    for name, parts in zip(names, chunks, strict=True):
        (path.parent / name).write_bytes(b"".join(parts))
    onnx.save(model, str(path))
    return names

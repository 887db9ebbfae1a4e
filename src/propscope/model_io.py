"""Loading a model folder (manifest + ONNX encoder + span head, or an ensemble of such
folders) into a predictor."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .config import DEFAULT_MODEL_DIR, MODEL_FORMAT, PROFILES, DecodeConfig
from .errors import ModelError
from .span_features import SpanHead
from .techniques import TECHNIQUES


def read_manifest(folder: Path | str) -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError("no such model folder", where=str(folder))
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError("incomplete model folder: no manifest.json", where=str(folder)) from None
    except json.JSONDecodeError as e:
        raise ModelError(f"manifest.json is not valid JSON ({e.msg})", where=str(folder)) from None
    if manifest.get("format") != MODEL_FORMAT:
        raise ModelError(f"model format {manifest.get('format')!r} is not supported "
                         f"(this propscope reads format {MODEL_FORMAT})", where=str(folder))
    for name in manifest.get("files", []):
        if not (folder / name).is_file():
            raise ModelError(f"incomplete model folder: {name} is missing", where=str(folder))
    unknown = [t for t in manifest.get("techniques", []) if t not in TECHNIQUES]
    if unknown or not manifest.get("techniques"):
        raise ModelError(f"manifest lists unknown techniques {unknown}", where=str(folder))
    return manifest


class OnnxRunner:
    def __init__(self, path: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the ONNX encoder ({str(e).splitlines()[0]})",
                             where=str(path)) from None

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(None, {"input_ids": ids, "attention_mask": mask}))


def load_folder(folder: Path | str, threads: int | None = None):
    from .predictors.neural import NeuralPredictor, WordPieces

    folder = Path(folder)
    manifest = read_manifest(folder)
    decode = DecodeConfig(**manifest.get("decode", {}))
    info = {"name": manifest.get("name", folder.name),
            "version": manifest.get("propscope_version"),
            "created": manifest.get("created"),
            "path": str(folder)}
    if manifest.get("kind") == "ensemble":
        from .predictors.ensemble import EnsemblePredictor

        members = [load_folder(folder / name, threads) for name in manifest.get("members", [])]
        if not members:
            raise ModelError("ensemble manifest lists no members", where=str(folder))
        if any(m.techniques != tuple(manifest["techniques"]) for m in members):
            raise ModelError("ensemble members name other techniques than its manifest",
                             where=str(folder))
        return EnsemblePredictor(members, decode, info)
    try:
        head = SpanHead.load(str(folder / "span_head.npz"))
        pieces = WordPieces(str(folder / "tokenizer.json"))
    except Exception as e:
        raise ModelError(f"cannot read model files ({e})", where=str(folder)) from None
    n_threads = threads if threads is not None else int(os.environ.get("PROPSCOPE_THREADS", 0))
    runner = OnnxRunner(folder / "encoder.onnx", n_threads)
    return NeuralPredictor(pieces, runner, head, manifest["techniques"], decode, info)


@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None):
    """The predictor in ``path`` (default: the shipped model), loaded once per process.

    ``path`` may also name a profile (``fast``, ``accurate``; see ``config.PROFILES``); the
    name ``keywords`` gives the tiny rule-based test predictor (no weights).
    """
    if path == "keywords":
        from .predictors.keywords import KeywordPredictor

        return KeywordPredictor()
    if path in PROFILES:
        folder = PROFILES[path]
        if not folder.is_dir():
            raise ModelError(f"profile {path!r} is not installed at {folder}; build it with "
                             "`make accurate` in a propscope checkout (README: Profiles)")
        return load_folder(folder)
    return load_folder(Path(path) if path else DEFAULT_MODEL_DIR)

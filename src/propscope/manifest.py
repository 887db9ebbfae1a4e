"""A model folder's manifest.json: the keys it may hold (``MANIFEST_SCHEMA``), their
checking (``check_manifest``), reading a folder's manifest (``read_manifest``) and setting
some of its fields (``update_manifest``)."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import MODEL_FORMAT, DecodeConfig
from .errors import ModelError
from .files import write_text_whole
from .techniques import TECHNIQUES

#: The keys a manifest.json may hold, with their JSON type; ``!`` marks a required key.
#: Written by training/export.py (single models) and training/ensemble.py (ensembles).
MANIFEST_SCHEMA: dict[str, str] = {
    "format": "integer!",
    "techniques": "list of strings!",
    "kind": "string",  # "ensemble", or absent for a single model
    "name": "string",
    "propscope_version": "string",
    "created": "string",
    "members": "list of strings",  # ensembles: member folder names
    "files": "list of strings",  # every file the folder must hold
    "decode": "object",  # DecodeConfig fields (checked against DecodeConfig)
    "train_config": "object",
    "rebuild": "string",
    "history": "list",
    "encoder": "string",
    "encoder_shape": "list",
    "train_minutes": "number",
    "metrics_valid": "object",
    "marker": "object",  # the marker span classifier: its folder and how it was trained
    "context": "string",  # the second stage's file (context.npz)
    "context_in_predict": "boolean",  # it also names the spans predict finds (else classify)
    "context_cv": "object",  # how the second stage was fitted and what it scored
    "decode_cv": "object",  # how decoding settings were chosen in cross-validation
    "reader": "object",  # the reader operating point (reader.ReaderConfig)
    "profile": "string",  # the profile (config.PROFILES) an installed model package serves
    # measured speed, shown by ``propscope models``: {"articles_per_s": number, "threads":
    # integer, "command": string} (benchmarks/analyze_speed.py)
    "speed": "object",
    # how the encoder was quantised (training/quantize.py): {"kind": "static", ...} marks
    # fixed activation scales, so the loader batches its windows (model_io.STATIC_BATCH)
    "quantization": "object",
    # activation outliers moved into the weights before dynamic INT8 (training/smoothquant.py):
    # alpha, projections, calibration; informational (the graph itself carries the Muls)
    "smoothquant": "object",
}

_IS: dict[str, Callable[[Any], bool]] = {
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "null": lambda v: v is None,
}
_A = {"boolean": "true or false", "integer": "an integer", "number": "a number",
      "string": "a string", "object": "an object", "list": "a list",
      "list of strings": "a list of strings", "null": "null"}
_JSON_TYPE = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
              list: "a list", dict: "an object", type(None): "null"}


def _decode_schema() -> dict[str, str]:
    """DecodeConfig's fields as schema entries, e.g. ``extend_threshold: number or null``."""
    hints = typing.get_type_hints(DecodeConfig)
    names = {int: "integer", float: "number", str: "string", type(None): "null"}
    return {f.name: " or ".join(names[t] for t in (typing.get_args(hints[f.name])
                                                    or (hints[f.name],)))
            for f in dataclasses.fields(DecodeConfig)}


def _check_keys(data: dict[str, Any], schema: dict[str, str], prefix: str, where: str) -> None:
    for key, value in data.items():
        if key not in schema:
            raise ModelError(f"manifest.json has an unknown key {prefix + key!r} (known: "
                             f"{', '.join(schema)})", where=where)
        specs = schema[key].rstrip("!").split(" or ")
        if not any(_IS[s](value) for s in specs):
            want = " or ".join(_A[s] for s in specs)
            raise ModelError(f"manifest.json: {prefix + key!r} must be {want}, not "
                             f"{_JSON_TYPE.get(type(value), type(value).__name__)}", where=where)
    for key, spec in schema.items():
        if spec.endswith("!") and key not in data:
            raise ModelError(f"manifest.json has no {prefix + key!r}", where=where)


def check_manifest(manifest: Any, where: str) -> None:
    """Raise a ModelError naming the key when ``manifest`` does not fit MANIFEST_SCHEMA."""
    if not isinstance(manifest, dict):
        raise ModelError("manifest.json must hold a JSON object", where=where)
    if manifest.get("format") != MODEL_FORMAT:
        raise ModelError(f"model format {manifest.get('format')!r} is not supported "
                         f"(this propscope reads format {MODEL_FORMAT})", where=where)
    _check_keys(manifest, MANIFEST_SCHEMA, "", where)
    _check_keys(manifest.get("decode", {}), _decode_schema(), "decode.", where)
    if manifest.get("kind", "ensemble") != "ensemble":
        raise ModelError(f"manifest.json: 'kind' must be \"ensemble\" or absent, not "
                         f"{manifest['kind']!r}", where=where)
    unknown = [t for t in manifest["techniques"] if t not in TECHNIQUES]
    if unknown or not manifest["techniques"]:
        raise ModelError(f"manifest.json: 'techniques' lists unknown techniques {unknown}",
                         where=where)


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
    except (OSError, UnicodeDecodeError) as e:
        raise ModelError(f"cannot read manifest.json ({e})", where=str(folder)) from None
    check_manifest(manifest, str(folder))
    for name in manifest.get("files", []):
        if not (folder / name).is_file():
            raise ModelError(f"incomplete model folder: {name} is missing", where=str(folder))
    return manifest


def update_manifest(folder: Path | str, **fields: Any) -> None:
    """Set fields of a model folder's manifest.json, keeping the rest."""
    path = Path(folder) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(fields)
    write_text_whole(path, json.dumps(manifest, indent=2) + "\n")

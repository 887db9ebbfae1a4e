"""``propscope models``: every model propscope can find (the shipped one, installed model
packages, the cache folder) with its profile, encoder, size, figures and place."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..config import PROFILES
from ..errors import ModelError
from ..model_io import FoundModel, _member_folders, find_models, read_manifest, validate_folder

NAME = "models"
HELP = "list the models propscope can find: bundled, installed packages, the cache folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--check", action="store_true",
                   help="also load every file of every model (slower; finds corrupt files)")


def run(args: argparse.Namespace) -> int:
    rows = [describe(m, check=args.check) for m in find_models()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("\n".join(format_row(r) for r in rows))
    return 0


def folder_size(folder: Path) -> int:
    """Bytes of every file below ``folder``."""
    return sum((Path(root) / f).stat().st_size
               for root, _, files in os.walk(folder) for f in files)


def _encoder_of(manifest: dict[str, Any]) -> str | None:
    name = manifest.get("encoder")
    shape = manifest.get("encoder_shape")
    if name and isinstance(shape, list) and len(shape) == 2:
        return f"{name} ({shape[0]}-d, {shape[1]} layers)"
    return name


def encoder_text(folder: Path, manifest: dict[str, Any]) -> str | None:
    """``minilm (384-d, 6 layers)``, or ``2 x minilm (384-d, 6 layers)`` for an ensemble;
    ``; marker classifier: minilm`` after it when the folder carries one."""
    marker = manifest.get("marker") or {}
    suffix = (f"; marker classifier: {(marker.get('recipe') or {}).get('encoder', '?')}"
              if marker else "")
    if manifest.get("kind") != "ensemble":
        text = _encoder_of(manifest)
        return text + suffix if text else text
    counts = Counter(_encoder_of(read_manifest(m)) or "?"
                     for m in _member_folders(folder, manifest))
    return " + ".join(f"{n} x {e}" if n > 1 else e for e, n in counts.items()) + suffix


def _profile(model: FoundModel, manifest: dict[str, Any]) -> str | None:
    if isinstance(manifest.get("profile"), str):
        return manifest["profile"]
    if model.use.startswith("--profile "):
        return model.use.split()[1]
    path = model.path.resolve() if model.path else None
    return next((n for n, f in PROFILES.items() if path and f.resolve() == path), None)


def describe(model: FoundModel, check: bool = False) -> dict[str, Any]:
    """One model as a JSON-ready dict; a model that does not read is ``broken`` with its
    one-line ``error``."""
    row: dict[str, Any] = {
        "name": model.path.name if model.path else model.use.split()[-1],
        "source": model.source, "package": model.package, "use": model.use,
        "profile": None, "status": "ok", "error": model.error,
        "path": str(model.path) if model.path else None}
    if model.error is None and model.path is not None:
        try:
            row.update(_manifest_fields(model, check))
        except (ModelError, OSError) as e:
            row["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
    if row["error"]:
        row["status"] = "broken"
    return row


def _manifest_fields(model: FoundModel, check: bool) -> dict[str, Any]:
    assert model.path is not None
    manifest = read_manifest(model.path)
    encoder = encoder_text(model.path, manifest)
    if check:
        validate_folder(model.path)
    speed = manifest.get("speed") or {}
    return {
        "name": manifest.get("name", model.path.name),
        "profile": _profile(model, manifest),
        "encoder": encoder,
        "size_bytes": folder_size(model.path),
        "metrics_valid": manifest.get("metrics_valid"),
        "context_cv": manifest.get("context_cv"),
        "reader_cv": (manifest.get("reader") or {}).get("cv"),
        "articles_per_s": speed.get("articles_per_s"),
        "speed": speed or None,
    }


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "?"


def _cv_text(row: dict[str, Any]) -> str | None:
    parts = []
    ctx = row.get("context_cv") or {}
    cv = ctx.get("cv_tc") or {}
    other = ctx.get("fold_models_cv_tc") or {}  # CV of the fold models the stage read
    if "with" in cv:
        parts.append(f"CV TC {_num(cv.get('without'))} -> {_num(cv['with'])} with the "
                     "second stage")
    elif "with" in other:
        parts.append(f"second stage: CV TC {_num(other.get('without'))} -> "
                     f"{_num(other['with'])} on the fold models it was fitted on (another "
                     "recipe)")
    elif "tc_with" in ctx:
        parts.append(f"TC {_num(ctx.get('tc_without'))} -> {_num(ctx['tc_with'])} with the "
                     "second stage")
    reader = row.get("reader_cv") or {}
    chosen = reader.get("chosen") or {}
    if "precision" in chosen:
        parts.append(f"reader precision {_num(chosen['precision'])} at threshold "
                     f"{chosen.get('threshold')}, ECE {_num(reader.get('ece_calibrated_cv'))}")
    return "; ".join(parts) or None


def _speed_text(row: dict[str, Any]) -> str:
    speed = row.get("speed") or {}
    if row.get("articles_per_s") is None:
        return "not recorded"
    threads = f" ({speed['threads']} threads)" if "threads" in speed else ""
    return f"{row['articles_per_s']} articles/s{threads}"


def format_row(row: dict[str, Any]) -> str:
    """A model as a few aligned lines for the terminal."""
    where = row["source"] + (f" ({row['package']})" if row["package"] else "")
    head = f"{row['name']}  [{row['profile'] or 'no profile'}]  {where}"
    lines = [head + ("  BROKEN" if row["status"] == "broken" else ""), f"  use      {row['use']}"]
    if row["status"] == "broken":
        lines.append(f"  error    {row['error']}")
    else:
        valid = row.get("metrics_valid") or {}
        # a second stage fitted on valid scores TC there in-sample: say so beside it
        seen = "valid" in str((row.get("context_cv") or {}).get("fitted_on") or "").split("+")
        lines += [f"  encoder  {row.get('encoder') or '?'}",
                  f"  size     {row['size_bytes'] / 1e6:.1f} MB",
                  "  valid    " + ("  ".join(
                      f"{k.upper()} {_num(v)}" + (" (in-sample)" if k == "tc" and seen else "")
                      for k, v in valid.items()) or "not recorded"),
                  f"  CV       {_cv_text(row) or 'not recorded'}",
                  f"  speed    {_speed_text(row)}"]
    if row["path"]:
        lines.append(f"  path     {row['path']}")
    return "\n".join(lines) + "\n"

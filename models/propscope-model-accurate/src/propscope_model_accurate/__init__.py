"""The model folder of propscope's ``accurate`` profile, installed as a package.

propscope finds it through the ``propscope.models`` entry point ``accurate``, which names
:func:`model_path`.
"""

from __future__ import annotations

from pathlib import Path

#: The model folder (manifest.json, encoders, span heads, ...) shipped as package data.
MODEL_DIR = Path(__file__).resolve().parent / "model"


def model_path() -> str:
    """The path of the installed model folder."""
    return str(MODEL_DIR)

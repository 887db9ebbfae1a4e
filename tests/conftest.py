from __future__ import annotations

import os
from pathlib import Path

import pytest

from propscope.config import DEFAULT_MODEL_DIR

ROOT = Path(__file__).resolve().parents[1]
PTC = Path(os.environ.get("PROPSCOPE_DATA", ROOT.parent / "shared" / "ptc"))
VECTORS = PTC / "scorer-vectors"


@pytest.fixture(scope="session")
def ptc() -> Path:
    if not (PTC / "splits.json").exists():
        pytest.skip(f"PTC data not found at {PTC}")
    return PTC


@pytest.fixture(scope="session")
def tokenizer_json() -> str:
    return str(DEFAULT_MODEL_DIR / "tokenizer.json")


@pytest.fixture(scope="session")
def shipped_model():
    from propscope.model_io import load_model

    return load_model(None)

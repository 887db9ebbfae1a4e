from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from propscope.config import DEFAULT_MODEL_DIR

ROOT = Path(__file__).resolve().parents[1]
PTC = Path(os.environ.get("PROPSCOPE_DATA", ROOT.parent / "shared" / "ptc"))
VECTORS = PTC / "scorer-vectors"


def needs_spacy() -> pytest.MarkDecorator:
    """Skip a module when spaCy or its pipeline is missing (propscope[targets]), never under
    CI, which installs them."""
    from propscope.targets import TargetsUnavailable, load_nlp

    try:
        load_nlp()
        missing = False
    except TargetsUnavailable:
        missing = True
    return pytest.mark.skipif(os.environ.get("CI") != "true" and missing,
                              reason="spaCy is not installed (propscope[targets])")


@pytest.fixture(scope="session")
def ptc() -> Path:
    if not (PTC / "splits.json").exists():
        pytest.skip(f"PTC data not found at {PTC}")
    return PTC


#: what a model folder adds on top of its tagger (manifest keys)
STAGES = ("marker", "context", "context_cv", "reader")


@functools.cache
def single_model_dir() -> Path:
    """The shipped tagger alone: the shipped folder's first member when it is an ensemble,
    else a copy of the shipped folder without what it adds on top of its tagger (marker
    classifier, second stage, reader settings), made once per test session."""
    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    if manifest.get("kind") == "ensemble":
        return DEFAULT_MODEL_DIR / manifest["members"][0]
    if not any(k in manifest for k in STAGES):
        return DEFAULT_MODEL_DIR
    out = Path(tempfile.mkdtemp(prefix="propscope-tagger-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    files = [f for f in manifest["files"]
             if not f.startswith("marker/") and f != manifest.get("context")]
    for f in files:
        shutil.copy2(DEFAULT_MODEL_DIR / f, out / f)
    bare = {k: v for k, v in manifest.items() if k not in STAGES}
    (out / "manifest.json").write_text(json.dumps({**bare, "files": files}, indent=1))
    return out


@pytest.fixture(scope="session")
def tokenizer_json() -> str:
    return str(single_model_dir() / "tokenizer.json")


@pytest.fixture(scope="session")
def shipped_model():
    from propscope.model_io import load_model

    return load_model(None)


@pytest.fixture
def exploding_keywords(monkeypatch):
    """The keyword predictor, raising on any batch with a text containing BOOM (a failure
    inside one article's analysis)."""
    from propscope.predictors.keywords import KeywordPredictor

    orig = KeywordPredictor.predict

    def predict(self, texts, mode="benchmark"):
        if any("BOOM" in t for t in texts):
            raise RuntimeError("model exploded")
        return orig(self, texts, mode)

    monkeypatch.setattr(KeywordPredictor, "predict", predict)


def start_server(args: list[str], log_path: Path):
    """``propscope serve ARGS`` on a free local port, its output in ``log_path``.
    Returns the process, its base URL and the open log (the caller waits for the server,
    stops it and closes the log)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "propscope.cli.main", "serve", "--host", "127.0.0.1",
         "--port", str(port), *args], stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}", log


def stop_server(proc, log) -> None:
    """Stop a server ``start_server`` started and close its log."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()

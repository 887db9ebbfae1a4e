"""Faults a careless world brings to batch runs: broken model folders and manifests
(issue 16, part B)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from propscope.config import DEFAULT_MODEL_DIR  # noqa: E402
from propscope.errors import ModelError  # noqa: E402
from propscope.model_io import check_model, read_manifest  # noqa: E402

TEXT = "The so-called experts pushed a radical plan.\n"


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "propscope.cli.main", *argv],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def news(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (folder / f"article{k:03d}.txt").write_text(f"Story {k}: a radical plan failed.\n")
    return folder


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the shipped (ensemble) model folder that a test may break."""
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    return folder


def member(folder: Path) -> Path:
    return folder / json.loads((folder / "manifest.json").read_text())["members"][-1]


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


# --- model folders: every file loads in the main process, before workers start ---------

@pytest.mark.parametrize("name", ["encoder.onnx", "span_head.npz", "tokenizer.json"])
def test_corrupt_model_file_is_one_line_before_workers(model_copy, tmp_path, name):
    broken = member(model_copy) / name
    truncate(broken)
    with pytest.raises(ModelError, match=f"{broken}: cannot "):
        check_model(str(model_copy))
    done = cli("batch", str(news(tmp_path / "in", 3)), "--out", str(tmp_path / "out"),
               "--model", str(model_copy), "--workers", "2", "-q")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith(f"propscope: error: {broken}: cannot ")
    assert not (tmp_path / "out").exists()  # nothing was started


def test_a_model_that_fails_in_the_workers_is_one_line(model_copy, tmp_path):
    """Should a file break after the check, workers do not print tracebacks either."""
    truncate(member(model_copy) / "span_head.npz")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import propscope.model_io as m\nm.check_model = lambda path: None\n")
    env = {"PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    done = cli("batch", str(news(tmp_path / "in", 3)), "--out", str(tmp_path / "out"),
               "--model", str(model_copy), "--workers", "2", "-q", env=env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "span_head.npz: cannot read the span head" in lines[0]
    assert manifest_of(tmp_path / "out")["status"] == "failed"


# --- manifests: a schema, messages naming the key --------------------------------------

def test_shipped_manifests_fit_the_schema():
    folders = [p.parent for p in DEFAULT_MODEL_DIR.rglob("manifest.json")]
    assert len(folders) >= 2
    for folder in folders:
        assert read_manifest(folder)["techniques"]
    check_model(None)


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"techniques": "Doubt"}, "'techniques' must be a list of strings, not a string"),
    ({"members": 3}, "'members' must be a list of strings, not an integer"),
    ({"name": ["x"]}, "'name' must be a string, not a list"),
    ({"decode": {"window": "wide"}}, "'decode.window' must be an integer, not a string"),
    ({"decode": {"windows": 256}}, "unknown key 'decode.windows'"),
    ({"decode": {"extend_threshold": None, "span_threshold": 1}}, None),
    ({"kind": "single"}, "'kind' must be \"ensemble\" or absent"),
])
def test_manifest_errors_name_the_key(model_copy, change, message):
    path = model_copy / "manifest.json"
    m = json.loads(path.read_text())
    m.update(change)
    path.write_text(json.dumps(m))
    if message is None:
        read_manifest(model_copy)
        return
    with pytest.raises(ModelError, match="manifest.json") as e:
        read_manifest(model_copy)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_manifest_errors_through_the_cli(model_copy, tmp_path):
    path = model_copy / "manifest.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps({**m, "colour": "red"}))
    (tmp_path / "a.txt").write_text(TEXT)
    done = cli("analyze", str(tmp_path / "a.txt"), "--model", str(model_copy), "--format",
               "json")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "unknown key 'colour'" in done.stderr and "internal error" not in done.stderr
    path.write_text(json.dumps({**m, "techniques": "Doubt;Slogans"}))
    done = cli("batch", str(tmp_path / "a.txt"), "--out", str(tmp_path / "out"),
               "--model", str(model_copy), "-q")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "'techniques' must be a list of strings" in done.stderr
    assert "'D', 'o'" not in done.stderr

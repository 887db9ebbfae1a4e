"""Model packages found through the ``propscope.models`` entry points, profiles resolved to
them, and ``propscope models``: a broken package is one line, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propscope import config, model_io
from propscope.cli.main import main
from propscope.config import DEFAULT_MODEL_DIR
from propscope.errors import ModelError

from .conftest import ROOT, single_model_dir

TEMPLATE = ROOT / "models" / "propscope-model-accurate"
MODULE = "propscope_model_accurate"
SPEED = {"articles_per_s": 1.7, "threads": 2, "command": "benchmarks/analyze_speed.py"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_tiny_model(folder: Path) -> Path:
    """A model folder whose manifest is valid and whose files exist: the tokenizer and span
    head are the shipped ones (2 MB), the encoder is 9 bytes that are not ONNX."""
    folder.mkdir(parents=True)
    manifest = json.loads((single_model_dir() / "manifest.json").read_text())
    manifest.update(name="tiny-student", profile="accurate", speed=SPEED)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in ("tokenizer.json", "span_head.npz"):
        shutil.copy(single_model_dir() / name, folder / name)
    (folder / "encoder.onnx").write_bytes(b"not onnx!")
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The repository's package template with a tiny model in it, pip-installed into a
    folder of its own (as `make install-accurate` installs it, without the network)."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "propscope-model-accurate"
    shutil.copytree(TEMPLATE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "model"))
    write_tiny_model(src / "src" / MODULE / "model")
    target = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", "--target", str(target),
                           str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """An empty cache folder and no model loaded or imported from elsewhere."""
    monkeypatch.setattr(config, "MODELS_HOME", tmp_path / "cache")
    monkeypatch.setitem(config.PROFILES, "accurate", tmp_path / "cache" / "accurate")
    sys.modules.pop(MODULE, None)
    model_io.load_model.cache_clear()
    yield
    sys.modules.pop(MODULE, None)
    model_io.load_model.cache_clear()


@pytest.fixture
def installed(monkeypatch, site, tmp_path) -> Path:
    """The installed package on sys.path (a copy: tests may break it); its model folder."""
    copy = shutil.copytree(site, tmp_path / "site")
    monkeypatch.syspath_prepend(str(copy))
    return copy / MODULE / "model"


class FakeEntryPoint:
    """What ``importlib.metadata`` gives, for packages that need not exist."""

    def __init__(self, name: str, target: object) -> None:
        self.name, self.value, self.dist, self._target = name, f"fake_{name}:path", None, target

    def load(self) -> object:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


def fake_packages(monkeypatch, **targets: object) -> None:
    eps = [FakeEntryPoint(name, t) for name, t in sorted(targets.items())]
    monkeypatch.setattr(model_io, "_entry_points", lambda: eps)


def rows(capsys, *argv: str) -> dict[str, dict]:
    code, out, err = run(capsys, "models", "--json", *argv)
    assert code == 0 and err == ""
    return {f"{r['source']}:{r['use']}": r for r in json.loads(out)}


def test_installed_package_serves_its_profile_and_its_name(installed):
    folder = model_io.model_folder("accurate")
    assert folder.resolve() == installed.resolve()
    assert (folder / "manifest.json").is_file()  # package data: the model was installed
    assert model_io.model_folder(None) == model_io.model_folder("fast") == DEFAULT_MODEL_DIR
    assert model_io.read_manifest(folder)["name"] == "tiny-student"


def test_package_found_by_the_profile_its_manifest_declares(monkeypatch, tmp_path):
    student = write_tiny_model(tmp_path / "student")
    fake_packages(monkeypatch, other=str(tmp_path), student=lambda: student)
    assert model_io.model_folder("accurate") == student
    assert model_io.model_folder("student") == student  # --model NAME


def test_profile_falls_back_to_the_cache_then_says_how_to_install(monkeypatch, tmp_path):
    fake_packages(monkeypatch)
    with pytest.raises(ModelError) as e:
        model_io.model_folder("accurate")
    message = str(e.value)
    assert "\n" not in message and "make install-accurate" in message
    cached = write_tiny_model(config.PROFILES["accurate"])
    assert model_io.model_folder("accurate") == cached


def test_unknown_name_is_one_line(monkeypatch, capsys, tmp_path):
    fake_packages(monkeypatch)
    article = tmp_path / "a.txt"
    article.write_text("The so-called experts lied.")
    code, _, err = run(capsys, "analyze", str(article), "--model", "no-such-model")
    assert code == 2 and err.count("\n") == 1
    assert "nor an installed model package" in err


def test_models_lists_bundled_installed_and_cache(capsys, installed):
    write_tiny_model(config.MODELS_HOME / "mine")
    found = rows(capsys)
    bundled = found["bundled:--profile fast"]
    assert bundled["status"] == "ok" and bundled["profile"] == "fast"
    assert bundled["encoder"].startswith(("minilm", "2 x minilm"))
    assert bundled["encoder"].endswith("; marker classifier: minilm")
    shipped = json.loads((config.DEFAULT_MODEL_DIR / "manifest.json").read_text())
    assert bundled["metrics_valid"]["si"] == pytest.approx(shipped["metrics_valid"]["si"])
    ctx = bundled["context_cv"]
    cv_tc = ctx.get("cv_tc") or ctx["fold_models_cv_tc"]  # the second stage's fold rows
    assert cv_tc["with"] > cv_tc["without"] > 0 and bundled["reader_cv"]["chosen"]
    pkg = found["installed:--profile accurate"]
    assert pkg["package"] == "propscope-model-accurate 0.1.0" and pkg["status"] == "ok"
    assert (pkg["name"], pkg["profile"], pkg["articles_per_s"]) == ("tiny-student",
                                                                    "accurate", 1.7)
    assert pkg["size_bytes"] == sum(f.stat().st_size for f in installed.iterdir())
    assert Path(pkg["path"]).resolve() == installed.resolve()
    cache = found[f"cache:--model {config.MODELS_HOME / 'mine'}"]
    assert cache["status"] == "ok" and cache["encoder"].startswith("minilm (384-d")

    code, out, _ = run(capsys, "models")
    assert code == 0
    block = next(b for b in out.split("\n\n") if b.startswith("tiny-student"))
    assert "[accurate]  installed (propscope-model-accurate 0.1.0)" in block
    assert "use      --profile accurate" in block and "1.7 articles/s (2 threads)" in block
    assert f"path     {installed}" in block and "SI 0.4" in block
    assert "(in-sample)" not in block  # the tiny student's second stage saw no split
    # the bundled model's second stage was fitted with valid: its valid TC says so
    shipped = next(b for b in out.split("\n\n") if "bundled" in b.split("\n")[0])
    manifest = json.loads((config.DEFAULT_MODEL_DIR / "manifest.json").read_text())
    ctx = manifest["context_cv"]
    cv_tc = ctx.get("cv_tc") or ctx["fold_models_cv_tc"]
    assert f"TC {manifest['metrics_valid']['tc']:.3f} (in-sample)" in shipped
    assert f"CV TC {cv_tc['without']:.3f} -> {cv_tc['with']:.3f}" in shipped
    if "cv_tc" not in ctx:  # fitted on another recipe's fold rows: said so
        assert "on the fold models it was fitted on (another recipe)" in shipped


def test_broken_packages_are_listed_with_one_line_each(monkeypatch, capsys, tmp_path):
    fake_packages(monkeypatch, crashes=ImportError("No module named 'fake_crashes'"),
                  number=lambda: 42, empty=lambda: str(tmp_path / "nothing"))
    code, out, err = run(capsys, "models", "--json")
    assert code == 0 and "Traceback" not in out + err
    broken = {r["use"]: r for r in json.loads(out) if r["source"] == "installed"}
    assert set(broken) == {"--model crashes", "--model number", "--model empty"}
    assert all(r["status"] == "broken" and "\n" not in r["error"] for r in broken.values())
    assert "No module named 'fake_crashes'" in broken["--model crashes"]["error"]
    assert "gives int, not the path" in broken["--model number"]["error"]
    assert "holds no model folder" in broken["--model empty"]["error"]
    code, out, _ = run(capsys, "models")
    assert code == 0 and out.count("BROKEN") == 3


def test_missing_file_is_one_line_everywhere(capsys, installed, tmp_path):
    (installed / "tokenizer.json").unlink()
    pkg = rows(capsys)["installed:--profile accurate"]
    assert pkg["status"] == "broken" and "tokenizer.json is missing" in pkg["error"]
    article = tmp_path / "a.txt"
    article.write_text("The so-called experts lied.")
    code, out, err = run(capsys, "analyze", str(article), "--profile", "accurate")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "incomplete model folder: tokenizer.json is missing" in err


def test_corrupt_file_is_one_line_everywhere(capsys, installed, tmp_path):
    assert rows(capsys)["installed:--profile accurate"]["status"] == "ok"  # files are there
    pkg = rows(capsys, "--check")["installed:--profile accurate"]
    assert pkg["status"] == "broken" and "cannot load the ONNX encoder" in pkg["error"]
    article = tmp_path / "a.txt"
    article.write_text("The so-called experts lied.")
    code, _, err = run(capsys, "analyze", str(article), "--model", "accurate")
    assert code == 2 and err.count("\n") == 1 and "cannot load the ONNX encoder" in err


@pytest.mark.model
def test_a_valid_package_analyses(monkeypatch, capsys, tmp_path):
    fake_packages(monkeypatch, accurate=lambda: DEFAULT_MODEL_DIR)
    article = tmp_path / "a.txt"
    article.write_text("The so-called experts pushed a disastrous plan.\n")
    code, out, err = run(capsys, "analyze", str(article), "--profile", "accurate",
                         "--format", "json")
    assert code == 0, err
    assert json.loads(out)["model"]["path"] == str(DEFAULT_MODEL_DIR)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_install_accurate_refuses_a_package_without_model(tmp_path):
    empty = shutil.copytree(TEMPLATE, tmp_path / "pkg",
                            ignore=shutil.ignore_patterns("build", "*.egg-info", "model"))
    done = subprocess.run(["make", "-s", "--no-print-directory", "install-accurate",
                           f"ACCURATE_PKG={empty}", "PIP=false"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode != 0
    first = done.stderr.splitlines()[0]
    assert first.startswith("install-accurate:") and "holds no model;" in first
    assert "make accurate" in first

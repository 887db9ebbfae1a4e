"""A model folder packaged for a pip package (training/package.py): checkpoints left out,
weights split into bounded files, the profile recorded, and the same spans as before."""

from __future__ import annotations

import json
import shutil

import pytest

from propscope.errors import ModelError
from propscope.model_io import load_folder

from .conftest import single_model_dir

pytest.importorskip("onnx")

from propscope.training.package import main, package_folder  # noqa: E402

TEXT = ("The corrupt, lying elite betrayed our great nation again.\n"
        "Everyone knows they will destroy everything we love unless we stop them now.")


def test_packaged_folder_is_bounded_and_predicts_the_same(tmp_path, capsys):
    src = single_model_dir()
    run = tmp_path / "run"
    run.mkdir()
    for f in json.loads((src / "manifest.json").read_text())["files"]:
        (run / f).write_bytes((src / f).read_bytes())
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["files"] = [*manifest["files"], "best.pt"]  # a run folder's checkpoint
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "best.pt").write_bytes(b"weights for training only")
    out = tmp_path / "model"
    assert main([str(run), str(out), "--max-mb", "16", "--rebuild", "make accurate"]) == 0
    packaged = json.loads((out / "manifest.json").read_text())
    assert packaged["profile"] == "accurate" and packaged["rebuild"] == "make accurate"
    assert packaged["decode"] == manifest["decode"]
    assert "best.pt" not in packaged["files"] and not (out / "best.pt").exists()
    data = [f for f in packaged["files"] if f.startswith("encoder.onnx.data")]
    assert len(data) == 2  # 23 MB of weights
    assert all((out / f).stat().st_size <= 16 * 2**20 for f in packaged["files"])
    assert sorted(p.name for p in out.iterdir()) == sorted([*packaged["files"], "manifest.json"])
    assert capsys.readouterr().out.startswith(f"{out}: 5 files")
    before = load_folder(src).predict([TEXT])[0]
    after = load_folder(out).predict([TEXT])[0]
    assert after == before


def test_an_ensemble_is_refused(tmp_path):
    from propscope.training.ensemble import write_ensemble_folder

    ensemble = write_ensemble_folder([single_model_dir()] * 2, tmp_path / "ens")
    with pytest.raises(ModelError, match="not an ensemble"):
        package_folder(ensemble, tmp_path / "m", "accurate")


def test_a_folder_with_a_marker_classifier_is_packaged_whole(tmp_path):
    """Files in subfolders (the marker classifier's) keep their place."""
    from propscope.training.marker import copy_bundled

    src, out = tmp_path / "src", tmp_path / "model"
    shutil.copytree(single_model_dir(), src)
    copy_bundled(src, log=lambda _: None)
    manifest = package_folder(src, out, "fast")
    marker = [f for f in manifest["files"] if f.startswith("marker/")]
    assert marker and all((out / f).is_file() for f in marker)
    assert load_folder(out).marker is not None


def test_decoding_settings_can_be_changed_and_are_checked(tmp_path):
    src = single_model_dir()
    out = tmp_path / "model"
    manifest = package_folder(src, out, "accurate", decode={"second_label_ratio": 0.9})
    assert manifest["decode"]["second_label_ratio"] == 0.9
    assert load_folder(out).decode.second_label_ratio == 0.9
    with pytest.raises(ModelError, match="not decoding settings: colour"):
        package_folder(src, tmp_path / "other", "accurate", decode={"colour": 1})

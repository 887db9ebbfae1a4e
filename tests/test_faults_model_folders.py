"""Training tools never write over a model or files they were not meant to replace.

``propscope train --out``, ``propscope ensemble --out``, the packager and the quantiser each
write a whole folder. Pointed at a finished model, at one of their own inputs or at a
folder of other files, they stop with one line and leave it as it was."""

from __future__ import annotations

import json

import pytest

from propscope.cli.main import main
from propscope.config import MODEL_FORMAT
from propscope.errors import ModelError
from propscope.techniques import TECHNIQUE_NAMES
from propscope.training.folders import check_run_folder, replace_model_folder


def _model(folder):
    """A folder that looks like a trained single model: a manifest and a weights file."""
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(
        {"format": MODEL_FORMAT, "techniques": list(TECHNIQUE_NAMES), "files": ["encoder.onnx"]}))
    (folder / "encoder.onnx").write_bytes(b"hours of training")
    return folder


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


def test_train_refuses_a_finished_model_and_keeps_it(tmp_path, capsys):
    pytest.importorskip("torch")
    model = _model(tmp_path / "good-model")
    before = _snapshot(model)
    assert main(["train", "--data", str(tmp_path), "--out", str(model)]) == 2
    _one_line_error(capsys, str(model), "holds a model", "checkpoint.pt")
    assert _snapshot(model) == before


def test_train_refuses_a_folder_of_other_files(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "manifest.json").write_text("my own list, not a model")
    with pytest.raises(ModelError, match="holds files and no checkpoint.pt"):
        check_run_folder(notes)
    assert (notes / "manifest.json").read_text() == "my own list, not a model"


def test_train_accepts_a_new_an_empty_or_a_resumable_folder(tmp_path):
    assert check_run_folder(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    check_run_folder(tmp_path / "empty")
    run = _model(tmp_path / "run")
    (run / "checkpoint.pt").write_bytes(b"state")
    check_run_folder(run)  # a run stopped (or finished) with its checkpoint resumes


def test_ensemble_refuses_one_of_its_members_as_output(tmp_path, capsys):
    pytest.importorskip("torch")
    a, b = _model(tmp_path / "a"), _model(tmp_path / "b")
    before = _snapshot(a)
    assert main(["ensemble", str(a), str(b), "--out", str(a)]) == 2
    _one_line_error(capsys, "is the model folder", "destroy the input")
    assert _snapshot(a) == before
    assert main(["ensemble", str(a), str(b), "--out", str(a / "ens")]) == 2
    _one_line_error(capsys, "inside or around")
    assert _snapshot(a) == before


def test_ensemble_refuses_to_replace_a_single_model_or_other_files(tmp_path):
    pytest.importorskip("torch")
    from propscope.training.ensemble import write_ensemble_folder

    a, b = _model(tmp_path / "a"), _model(tmp_path / "b")
    other = _model(tmp_path / "other")
    before = _snapshot(other)
    with pytest.raises(ModelError, match="holds a single model"):
        write_ensemble_folder([a, b], other)
    assert _snapshot(other) == before
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "0-a").mkdir()
    (mine / "0-a" / "essay.txt").write_text("mine")
    with pytest.raises(ModelError, match="not a model folder"):
        write_ensemble_folder([a, b], mine)
    assert (mine / "0-a" / "essay.txt").read_text() == "mine"


def test_an_ensemble_is_rebuilt_in_place(tmp_path):
    pytest.importorskip("torch")
    from propscope.training.ensemble import write_ensemble_folder

    a, b, c = _model(tmp_path / "a"), _model(tmp_path / "b"), _model(tmp_path / "c")
    ens = write_ensemble_folder([a, b, c], tmp_path / "ens")
    assert (ens / "2-c").is_dir()
    write_ensemble_folder([a, b], ens)
    assert json.loads((ens / "manifest.json").read_text())["members"] == ["0-a", "1-b"]
    assert not (ens / "2-c").exists()  # the earlier ensemble is replaced, not merged


def test_package_refuses_its_own_run_folder_and_other_files(tmp_path):
    pytest.importorskip("onnx")
    from propscope.training.package import main as package_main

    run = _model(tmp_path / "run")
    before = _snapshot(run)
    assert package_main([str(run), str(run)]) == 2
    assert package_main([str(run), str(run / "packaged")]) == 2
    assert _snapshot(run) == before
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(ModelError, match="not a model folder"):
        replace_model_folder(home, [run])
    assert (home / "thesis.tex").read_text() == "years of work"


def test_quantize_refuses_its_source_as_output(tmp_path, capsys):
    pytest.importorskip("onnxruntime.quantization")
    from propscope.training.quantize import main as quantize_main

    src = _model(tmp_path / "model")
    before = _snapshot(src)
    assert quantize_main([str(src), str(src)]) == 2
    _one_line_error(capsys, "destroy the input")
    assert _snapshot(src) == before


def test_an_earlier_model_at_the_output_is_replaced(tmp_path):
    old = _model(tmp_path / "out")
    src = _model(tmp_path / "src")
    out = replace_model_folder(old, [src])
    assert out.is_dir() and not any(out.iterdir())

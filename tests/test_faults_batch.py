"""Faults a careless world brings to batch runs and outputs: broken model folders and
manifests, a full disk, a killed run, unwritable outputs, the umask (issue 16, part B)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from propscope.batch import run_batch  # noqa: E402
from propscope.batch.store import RunStore  # noqa: E402
from propscope.cli.main import main  # noqa: E402
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
    """A copy of the shipped model folder that a test may break."""
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, folder)
    return folder


def member(folder: Path) -> Path:
    """The folder holding a tagger's files: an ensemble's last member, else the folder."""
    members = json.loads((folder / "manifest.json").read_text()).get("members")
    return folder / members[-1] if members else folder


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
    assert DEFAULT_MODEL_DIR in folders
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


# --- a full disk under --out -----------------------------------------------------------

def _small_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """``(out folder, make room)``: a 160 KB tmpfs when we may mount one, else a simulated
    ENOSPC from the fifth Parquet file on."""
    mnt = tmp_path / "mnt"
    if _small_tmpfs(mnt):
        def room() -> None:
            subprocess.run(["mount", "-o", "remount,size=4m", str(mnt)], check=True)

        try:
            yield mnt / "out", room
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
        return
    import pyarrow.parquet as pq

    real, calls = pq.write_table, []

    def write_table(table, where, *a, **kw):
        calls.append(where)
        if len(calls) > 4:
            raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] "
                          "No space left on device")
        return real(table, where, *a, **kw)

    monkeypatch.setattr(pq, "write_table", write_table)
    yield tmp_path / "out", lambda: monkeypatch.setattr(pq, "write_table", real)


def test_disk_full_is_one_line_and_the_run_resumes(full_disk, tmp_path, capsys):
    out, make_room = full_disk
    src = news(tmp_path / "in", 200)
    argv = ["batch", str(src), "--out", str(out), "--model", "keywords", "--workers", "0",
            "--part-size", "10", "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err, err
    assert f"{out}/articles/part-" in err or f"{out}/spans/part-" in err
    assert "No space left on device" in err and "run the same command again to resume" in err
    failed = manifest_of(out)
    assert failed["status"] == "failed" and "No space left" in failed["error"]
    assert failed["sessions"][-1]["status"] == "failed"
    assert 0 < failed["counts"]["articles"] < 200
    assert not list(out.rglob("*.tmp")) and not (out / ".run.json.reserve").exists()

    make_room()
    assert main(argv) == 0
    done = manifest_of(out)
    assert done["status"] == "complete" and done["counts"]["articles"] == 200
    assert "error" not in done


# --- a run killed with -9 reads as interrupted -----------------------------------------

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_dead_running_run_reads_as_interrupted(tmp_path, capsys):
    src, out = news(tmp_path / "in", 4), tmp_path / "out"
    assert run_batch([str(src)], out, model="keywords", workers=0, part_size=2)
    m = manifest_of(out)
    assert m["sessions"][-1]["pid"] == os.getpid()
    # as a kill -9 leaves it: status "running", the session unfinished, its process gone
    m["status"] = "running"
    last = m["sessions"][-1]
    for key in ("status", "finished", "seconds"):
        last.pop(key)
    last["pid"] = _dead_pid()
    (out / "run.json").write_text(json.dumps(m))
    assert RunStore(out).read_manifest()["status"] == "interrupted"
    assert main(["report", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_status"] == "interrupted"
    # a run still going (here: this process) is left alone
    last["pid"] = os.getppid()
    (out / "run.json").write_text(json.dumps(m))
    assert RunStore(out).read_manifest()["status"] == "running"
    last["pid"] = _dead_pid()
    (out / "run.json").write_text(json.dumps(m))
    # the next run records the dead session as interrupted
    run_batch([str(src)], out, model="keywords", workers=0, part_size=2)
    sessions = manifest_of(out)["sessions"]
    assert [s["status"] for s in sessions] == ["interrupted", "complete"]


# --- outputs: user errors naming the path; readable by others --------------------------

def test_unwritable_outputs_are_user_errors(tmp_path, capsys, monkeypatch):
    article = tmp_path / "a.txt"
    article.write_text(TEXT)
    (tmp_path / "folder").mkdir()
    cases = {
        str(tmp_path / "folder"): "it is a folder",
        str(tmp_path / "folder") + "/": "it is a folder",
        str(article / "out.json"): f"{article} is a file, not a folder",
        str(article / "deeper" / "out.json"): f"{article} is a file, not a folder",
        "/proc/no-such-dir/out.json": "No such file or directory",
    }
    for out, reason in cases.items():
        code = main(["analyze", str(article), "--model", "keywords", "-o", out])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, (out, err)
        assert err.startswith(f"propscope: error: {out}: cannot write the output (")
        assert reason in err
    denied = tmp_path / "denied.json"

    real_open = os.open

    def deny_temporary(path, *args, **kwargs):  # a folder it may not write in
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny_temporary)
    assert main(["analyze", str(article), "--model", "keywords", "-o", str(denied)]) == 2
    assert capsys.readouterr().err == (f"propscope: error: {denied}: cannot write the output "
                                       "(Permission denied)\n")
    monkeypatch.undo()
    kept = tmp_path / "kept.json"  # a file made read-only to keep it
    kept.write_text("kept\n")
    kept.chmod(0o444)
    if not os.access(kept, os.W_OK):  # (root may write anything)
        assert main(["analyze", str(article), "--model", "keywords", "-o", str(kept)]) == 2
        assert "(Permission denied)" in capsys.readouterr().err
        assert kept.read_text() == "kept\n"


def test_batch_out_under_a_file_is_a_user_error(tmp_path, capsys):
    src = news(tmp_path / "in", 2)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["batch", str(src), "--out", str(blocker / "out"), "--model", "keywords",
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{blocker} is a file, not a folder" in err


def test_any_os_error_is_a_user_error_naming_the_path(monkeypatch, capsys):
    from propscope.cli import techniques

    def fail(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/data/x.txt")

    monkeypatch.setattr(techniques, "run", fail)
    assert main(["techniques"]) == 2
    assert capsys.readouterr().err == "propscope: error: /srv/data/x.txt: Permission denied\n"


def test_batch_outputs_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        run_batch([str(news(tmp_path / "in", 5))], tmp_path / "out", model="keywords",
                  workers=0, part_size=2)
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(files) == 7  # run.json, 3 articles parts, 3 spans parts
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(0o644)}


# --- parts sized so that every worker gets work and progress moves --------------------

def test_parts_are_sized_for_the_workers(tmp_path):
    from propscope.batch.runner import _plan

    small = [str(news(tmp_path / "small", 60))]
    parts, size = _plan(small, None, "local", 2)
    assert size == 8 and len(parts) == 8  # 4 parts per worker, not one part of 60
    assert _plan(small, None, "local", 2)[0] == parts  # the same cut when resumed
    big = [str(news(tmp_path / "big", 300))]
    parts, size = _plan(big, None, "local", 2)
    assert size == 16 and max(p.size for p in parts) == 16  # large corpora: short parts
    assert _plan(small, 64, "local", 2)[1] == 64  # --part-size still rules


def test_progress_moves_part_by_part_and_run_json_names_media_types(tmp_path):
    src = news(tmp_path / "in", 60)
    (src / "page.html").write_text("<html><body><p>A radical page.</p></body></html>")
    calls: list[int] = []
    s = run_batch([str(src)], tmp_path / "out", model="keywords", workers=0,
                  progress=lambda done, total, _: calls.append(done))
    assert s["part_size"] == 16 and len(calls) == 4 and calls[-1] == 61
    files = manifest_of(tmp_path / "out")["input_files"]
    assert files["by_kind"] == {"text/plain": 60, "text/html": 1}

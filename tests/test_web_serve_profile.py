"""``propscope serve --profile accurate`` answers, naming the model and its profile (issue 12
item 5). Runs the real server on a free loopback port; skipped only when no accurate model
is installed (``make install-accurate``), as ``propscope models`` would report it."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from .conftest import start_server, stop_server

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")

from propscope.errors import PropscopeError  # noqa: E402
from propscope.model_io import profile_folder  # noqa: E402


def _accurate_installed() -> bool:
    try:
        return (profile_folder("accurate") / "manifest.json").is_file()
    except PropscopeError:
        return False


def _call(url: str, body: dict | None = None, timeout: float = 120) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@pytest.mark.skipif(not _accurate_installed(),
                    reason="no accurate model installed (make install-accurate)")
def test_serve_profile_accurate_answers(tmp_path):
    proc, base, log = start_server(["--profile", "accurate", "--db", str(tmp_path / "a.sqlite3"),
                               "--log-level", "warning"], tmp_path / "server.log")
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, health = _call(f"{base}/healthz", timeout=5)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        assert status == 200, health
        assert health["model"]["profile"] == "accurate"
        status, data = _call(f"{base}/api/v1/analyze", {
            "text": "Every patriot knows the so-called experts are wrong."})
        assert status == 200, data
        assert data["model"]["profile"] == "accurate"
        assert data["request"]["mode"] == "reader"
        status, saved = _call(f"{base}/api/v1/analyses/{data['id']}")
        assert status == 200 and saved["model"] == data["model"]
    finally:
        stop_server(proc, log)

"""Saved analyses: one SQLite file (stdlib ``sqlite3``), created on first use.

Each row is an analysis id, its creation time and the result as JSON. An id is a hash
of what the analysis depends on (text, settings, model), URL-safe: the same text analysed
the same way has one permalink, and a permalink cannot be guessed without the text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    data TEXT NOT NULL
)
"""


def content_id(key: dict[str, Any]) -> str:
    """A 16-character URL-safe id (96 bits of SHA-256) of ``key`` (JSON-serialisable)."""
    blob = json.dumps(key, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    digest = hashlib.sha256(blob.encode("ascii")).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AnalysisStore:
    """Thread-safe access to the analyses table; the file is opened on first use."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path != ":memory:":
                Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)
            conn.commit()
            self._conn = conn
        return self._conn

    def save(self, analysis_id: str, data: dict[str, Any]) -> None:
        """Save an analysis; an id already saved keeps its first analysis."""
        # ensure_ascii keeps any odd code point storable; the JSON round-trips exactly
        blob = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        with self._lock:
            conn = self._connection()
            conn.execute("INSERT OR IGNORE INTO analyses (id, created, data) VALUES (?, ?, ?)",
                         (analysis_id, data.get("created") or now(), blob))
            conn.commit()

    def get(self, analysis_id: str) -> dict[str, Any] | None:
        if not ID_RE.match(analysis_id):
            return None
        with self._lock:
            row = self._connection().execute(
                "SELECT data FROM analyses WHERE id = ?", (analysis_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM analyses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

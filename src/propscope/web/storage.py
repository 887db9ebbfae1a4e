"""Saved analyses: one SQLite file (stdlib ``sqlite3``), created on first use.

A file given that is not propscope's own (another application's SQLite database, or not
SQLite at all) is refused before anything is created in it: ``check_database`` only reads.
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

from ..errors import PropscopeError, name_list

ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    data TEXT NOT NULL
)
"""

#: the tables ``SCHEMA`` creates, with their columns
OWN_TABLES = {"analyses": ("id", "created", "data")}

SQLITE_HEADER = b"SQLite format 3\x00"


class NotOurDatabase(PropscopeError, sqlite3.DatabaseError):
    """A ``--db`` file propscope must not write in (also a ``sqlite3.Error``, so the
    service logs it as a database it cannot use)."""

    code = "bad_database"


def _objects(path: Path) -> dict[str, list[str]]:
    """The tables and views of the SQLite database ``path`` (SQLite's own left out), each
    with its columns, read without writing: no lock, no journal mode change, no -wal or
    -shm file. An open WAL (both files beside it) is read through, as another reader
    would; otherwise the file is opened as immutable."""
    wal = all(Path(f"{path}{end}").exists() for end in ("-wal", "-shm"))
    uri = f"{path.absolute().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")]
        return {n: [r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (n,))]
                for n in names}
    finally:
        conn.close()


def check_database(path: str | Path) -> None:
    """Refuse (``NotOurDatabase``, one line) a saved-analyses file that is a folder, cannot
    be read, is not SQLite, or is a SQLite database holding anything but propscope's own
    tables. A missing or empty file, or propscope's own database, passes. Only reads."""
    given = str(path)
    if given == ":memory:":
        return
    p = Path(given)
    again = "; give --db a new file"
    try:
        if p.is_dir():
            raise NotOurDatabase(f"{given} is a folder, not a database file{again}")
        if not p.exists():
            return
        with open(p, "rb") as f:
            head = f.read(100)  # a SQLite file starts with a 100-byte header
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        raise NotOurDatabase(f"cannot read the database file {given} ({reason})") from None
    if not head:
        return  # an empty file: a new database
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        raise NotOurDatabase(f"{given} is not a SQLite database (another kind of file)"
                             f"{again}")
    try:
        objects = _objects(p)
    except sqlite3.Error as e:
        raise NotOurDatabase(f"{given} is a SQLite file propscope cannot read ({e}){again}"
                             ) from None
    if any(n not in OWN_TABLES or tuple(cols) != OWN_TABLES[n] for n, cols in objects.items()):
        raise NotOurDatabase(f"{given} is another application's SQLite database (tables: "
                             f"{name_list(list(objects), 8)}){again}")


def content_id(key: dict[str, Any]) -> str:
    """A 16-character URL-safe id (96 bits of SHA-256) of ``key`` (JSON-serialisable)."""
    blob = json.dumps(key, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    digest = hashlib.sha256(blob.encode("ascii")).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AnalysisStore:
    """Thread-safe access to the analyses table; the file is opened on first use. A file
    that is not propscope's own is refused (``NotOurDatabase``) here and again before it
    is opened, and never written."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        check_database(self.path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            check_database(self.path)
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

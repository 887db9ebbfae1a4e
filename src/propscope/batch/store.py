"""The output folder of a batch run: Parquet part files and ``run.json``.

Layout::

    DIR/run.json                     manifest: inputs, model, config, counts, timings
    DIR/articles/part-KEY.parquet    one row per article (errors included)
    DIR/spans/part-KEY.parquet       one row per span

Every file is written to a temporary name in the same folder and renamed into place, so
a reader never sees half a file; files get the usual permissions (0666 less the umask).
A part's spans file is renamed first and its articles file last: a part is done exactly
when its articles file exists. Leftovers of a killed
run (temporary files, a spans file without its articles file) are removed on the next run.

An article whose row holds an error (``failed``; not an id refused as a repeat) is analysed
again when the run is resumed, and its new row replaces the error row: in the same part
file, which is rewritten whole (spans first, articles last, as above), or, when the input is
cut differently now, in the new part, after which the error row is removed from the earlier
part. A run killed between those two writes leaves the article twice; the next run keeps
its newer row (``_settle_superseded``). So every id has one row.
While a run goes, ``DIR/.run.json.reserve`` holds some disk space back, freed when the disk
fills so that run.json can still record the run as failed.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from ..errors import OutputError, PropscopeError, output_error
from ..files import replace_whole
from ..results import Result
from .work import SLUGS, pid_alive

RESERVE_BYTES = 64 * 1024
#: Error rows a resumed run does not retry: an id refused as a repeat with other text is the
#: id policy's decision (``--on-duplicate``), not a failure, and would be refused again.
NOT_RETRIED = frozenset({"duplicate_id"})


def retried(row: dict[str, Any]) -> bool:
    """Whether an articles row is an error that a resumed run analyses again."""
    return bool(row.get("error")) and row.get("error_code") not in NOT_RETRIED


def articles_schema():
    import pyarrow as pa

    fields = [
        ("id", pa.string()), ("input", pa.string()), ("source", pa.string()),
        ("date", pa.string()), ("month", pa.string()), ("title", pa.string()),
        ("url", pa.string()), ("model_name", pa.string()), ("model_version", pa.string()),
        ("chars", pa.int64()), ("words", pa.int64()), ("sentences", pa.int64()),
        ("flagged_sentences", pa.int64()), ("spans", pa.int64()),
        ("propaganda_share", pa.float64()),
    ]
    fields += [(f"n_{c}", pa.int64()) for c in SLUGS.values()]
    fields += [(f"share_{c}", pa.float64()) for c in SLUGS.values()]
    fields += [("warning", pa.string()), ("error", pa.string()), ("error_code", pa.string()),
               ("text_hash", pa.string()),
               ("text", pa.string())]
    return pa.schema(fields)


def spans_schema():
    """One row per span; ``voice`` (quoted / attributed / author), ``speaker`` and
    ``targets`` (null where not looked for) come from ``targets.annotate``."""
    import pyarrow as pa

    target = pa.struct([("entity", pa.string()), ("type", pa.string()), ("text", pa.string()),
                        ("start", pa.int64()), ("end", pa.int64())])
    return pa.schema([("article_id", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                      ("technique", pa.string()), ("score", pa.float64()),
                      ("text", pa.string()), ("voice", pa.string()), ("speaker", pa.string()),
                      ("targets", pa.list_(target))])


def span_rows(aid: str, result: Result) -> list[dict[str, Any]]:
    """The ``spans`` table rows of one analysed article."""
    rows = []
    for k, s in enumerate(result.spans):
        role = result.role(k)
        rows.append({"article_id": aid, "start": s.start, "end": s.end,
                     "technique": s.technique, "score": float(s.score),
                     "text": result.text[s.start : s.end],
                     "voice": role.voice if role else None,
                     "speaker": role.speaker if role else None,
                     "targets": None if role is None or role.targets is None
                     else [t.to_dict() for t in role.targets]})
    return rows


def write_failed(path: Path, e: OSError) -> OutputError:
    """The one-line error for an output file of a run that cannot be written."""
    reason = os.strerror(e.errno) if e.errno else (str(e).splitlines() or [""])[0]
    fix = "free some space" if e.errno in (errno.ENOSPC, errno.EDQUOT) else "fix that"
    return OutputError(f"cannot write ({reason or type(e).__name__}); {fix}, then run the same "
                       "command again to resume the run (finished parts are kept)",
                       where=str(path))


def _atomic(path: Path, write) -> None:
    """``files.replace_whole``, flushed to the disk; a failure is the run's one-line error."""
    try:
        replace_whole(path, lambda tmp: write(str(tmp)), sync=True)
    except OSError as e:
        raise write_failed(path, e) from None


def write_json(path: Path, data: dict[str, Any]) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")

    _atomic(path, write)


def settle_stale(manifest: dict[str, Any]) -> dict[str, Any]:
    """A run.json left "running" by a process that is gone (``kill -9``, a crash) as
    "interrupted". Only runs started on this host can be checked; others are left as they
    are."""
    sessions = manifest.get("sessions") or [{}]
    last = sessions[-1] if isinstance(sessions[-1], dict) else {}
    pid = last.get("pid")
    if (manifest.get("status") != "running" or last.get("host") != os.uname().nodename
            or not isinstance(pid, int) or pid == os.getpid() or pid_alive(pid)):
        return manifest
    return {**manifest, "status": "interrupted",
            "sessions": [*sessions[:-1], {**last, "status": "interrupted"}]}


class RunStore:
    def __init__(self, out: str | Path) -> None:
        self.root = Path(out)
        self.articles = self.root / "articles"
        self.spans = self.root / "spans"
        self.manifest = self.root / "run.json"
        self.reserve = self.root / ".run.json.reserve"
        #: articles whose row is an error to retry: id -> (its part file's name, its input)
        self.failed: dict[str, tuple[str, str | None]] = {}
        #: failed id -> the key of the part of this run that reads where it was read
        self.failed_at: dict[str, str] = {}
        self._hashes: dict[str, str | None] = {}  # id -> text_hash, read by ``open``

    def open(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise PropscopeError("exists and is not a folder", where=str(self.root))
        ours = {self.articles, self.spans, self.reserve}
        if (self.root.is_dir() and not self.manifest.exists()
                and any(p not in ours for p in self.root.iterdir())):
            raise PropscopeError("is not empty and holds no run.json: choose a new --out "
                                 "folder", where=str(self.root))
        try:
            self.articles.mkdir(parents=True, exist_ok=True)
            self.spans.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise output_error(str(self.root), e) from None
        self.clean()
        index = self._index()
        if self._settle_superseded(index):
            index = self._index()
        self.failed = {r["id"]: (name, r.get("input")) for name, rows in index.items()
                       for r in rows if retried(r)}
        self._hashes = {r["id"]: r.get("text_hash") for rows in index.values() for r in rows}

    def clean(self) -> None:
        """Remove what a killed run left half-done."""
        for folder in (self.articles, self.spans, self.root):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        done = {p.name for p in self.articles.glob("part-*.parquet")}
        for p in self.spans.glob("part-*.parquet"):
            if p.name not in done:
                p.unlink(missing_ok=True)

    def read_manifest(self) -> dict[str, Any] | None:
        """run.json, with a run whose process has died reading as "interrupted"."""
        if not self.manifest.exists():
            return None
        try:
            data = json.loads(self.manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise PropscopeError(f"run.json is not valid JSON ({e.msg})",
                                 where=str(self.root)) from None
        if not isinstance(data, dict):
            raise PropscopeError("run.json does not hold a JSON object", where=str(self.root))
        return settle_stale(data)

    def write_manifest(self, data: dict[str, Any]) -> None:
        """Write run.json; when the disk is full, free the reserve and try once more."""
        try:
            write_json(self.manifest, data)
        except OutputError:
            if not self.reserve.exists():
                raise
            self.reserve.unlink()
            write_json(self.manifest, data)
        self._hold_reserve(2 * self.manifest.stat().st_size)

    def _hold_reserve(self, size: int) -> None:
        size = max(RESERVE_BYTES, size)
        try:
            if not self.reserve.exists() or self.reserve.stat().st_size < size:
                self.reserve.write_bytes(os.urandom(size))  # random: no compression or holes
        except OSError:  # no room for it: the run will soon say so itself
            self.reserve.unlink(missing_ok=True)

    def close(self) -> None:
        """The run is over: give the reserved space back."""
        self.reserve.unlink(missing_ok=True)

    def done_keys(self) -> set[str]:
        return {p.name[len("part-"):-len(".parquet")] for p in self.articles.glob("part-*.parquet")}

    def done_ids(self) -> set[str]:
        import pyarrow.parquet as pq

        ids: set[str] = set()
        for p in sorted(self.articles.glob("part-*.parquet")):
            ids.update(pq.read_table(p, columns=["id"]).column("id").to_pylist())
        return ids

    def done_hashes(self) -> dict[str, str | None]:
        """Every id in the folder when it was opened with its ``text_hash`` (None in folders
        written before propscope kept it): read with the error rows, in ``open``'s one pass
        over the part files."""
        return dict(self._hashes)

    def write_part(self, key: str, articles: list[dict[str, Any]],
                   spans: list[dict[str, Any]], gone: set[str] | frozenset[str] = frozenset()
                   ) -> None:
        """Write a part's rows. A part written before (re-run for its failed articles) is
        rewritten with its new rows in place of its error rows; error rows these articles
        had in other parts (an earlier cut of the input) are then removed, and so are
        those of ``gone``: failed articles read from where this part read, which no longer
        gives them (e.g. a broken JSONL line, since fixed, that now has an id)."""
        name = f"part-{key}.parquet"
        fresh = [r["id"] for r in articles]
        if (self.articles / name).exists():
            articles, spans = self._merged(name, articles, spans)
        self._write_tables(name, articles, spans)
        elsewhere: dict[str, set[str]] = {}
        for aid in [*fresh, *sorted(set(gone) - set(fresh))]:
            was = self.failed.pop(aid, None)
            if was is not None and was[0] != name:
                elsewhere.setdefault(was[0], set()).add(aid)
        for other, ids in sorted(elsewhere.items()):
            self._drop(other, ids)

    def _write_tables(self, name: str, articles: list[dict[str, Any]],
                      spans: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        a = pa.Table.from_pylist(articles, schema=articles_schema())
        s = pa.Table.from_pylist(spans, schema=spans_schema())
        _atomic(self.spans / name, lambda tmp: pq.write_table(s, tmp))
        _atomic(self.articles / name, lambda tmp: pq.write_table(a, tmp))

    def _read_rows(self, name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        import pyarrow.parquet as pq

        spans = self.spans / name
        return (pq.read_table(self.articles / name).to_pylist(),
                pq.read_table(spans).to_pylist() if spans.exists() else [])

    def _merged(self, name: str, articles: list[dict[str, Any]], spans: list[dict[str, Any]]
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The part ``name`` as written before with ``articles`` (re-analysed) in place of
        its error rows. The part was read again whole, so an error row it did not give
        again (its record now has another id) is dropped; spans left by a run killed
        while rewriting it are replaced."""
        old_rows, old_spans = self._read_rows(name)
        stale = {aid for aid, (where, _) in self.failed.items() if where == name}
        new = {r["id"]: r for r in articles}
        replaced = stale | set(new)
        rows = [new.pop(r["id"]) if r["id"] in new else r for r in old_rows
                if r["id"] in new or r["id"] not in stale]
        rows += list(new.values())
        for aid in stale:
            self.failed.pop(aid, None)
        return rows, [s for s in old_spans if s["article_id"] not in replaced] + spans

    def _drop(self, name: str, ids: set[str]) -> None:
        """Rewrite the part ``name`` without the rows (and spans) of ``ids``."""
        rows, spans = self._read_rows(name)
        self._write_tables(name, [r for r in rows if r["id"] not in ids],
                           [s for s in spans if s["article_id"] not in ids])

    def _index(self) -> dict[str, list[dict[str, Any]]]:
        """Part file name -> its rows' id, error, error_code, input and text_hash (those of
        them its file has)."""
        import pyarrow.parquet as pq

        out = {}
        for p in sorted(self.articles.glob("part-*.parquet")):
            names = pq.read_schema(p).names
            cols = [c for c in ("id", "error", "error_code", "input", "text_hash") if c in names]
            out[p.name] = pq.read_table(p, columns=cols).to_pylist()
        return out

    def _settle_superseded(self, index: dict[str, list[dict[str, Any]]]) -> bool:
        """Finish what a run killed between writing an article's new row and removing its
        error row from an earlier part left: an id with rows in several parts, one of them
        an error to retry, keeps its row without an error, else its newest error row.
        Whether anything was rewritten."""
        found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for name, rows in index.items():
            for r in rows:
                found.setdefault(r["id"], []).append((name, r))
        drop: dict[str, set[str]] = {}
        for aid, where in found.items():
            if len(where) < 2 or not any(retried(r) for _, r in where):
                continue
            ok = [name for name, r in where if not r.get("error")]
            if len(ok) > 1:
                continue  # not left by a retry
            keep = ok[0] if ok else max(
                (name for name, _ in where),
                key=lambda n: ((self.articles / n).stat().st_mtime_ns, n))
            for name, r in where:
                if name != keep and r.get("error"):
                    drop.setdefault(name, set()).add(aid)
        for name, ids in sorted(drop.items()):
            self._drop(name, ids)
        return bool(drop)

    def totals(self) -> dict[str, int]:
        """Counts over every part in the folder (this run and earlier ones)."""
        import pyarrow.parquet as pq

        n = errors = spans = words = 0
        for p in self.articles.glob("part-*.parquet"):
            t = pq.read_table(p, columns=["error", "spans", "words"])
            n += t.num_rows
            errors += t.num_rows - t.column("error").null_count
            spans += sum(x or 0 for x in t.column("spans").to_pylist())
            words += sum(x or 0 for x in t.column("words").to_pylist())
        return {"articles": n, "analysed": n - errors, "errors": errors, "spans": spans,
                "words": words, "parts": len(list(self.articles.glob("part-*.parquet")))}

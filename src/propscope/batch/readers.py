"""Corpus inputs cut into partitions: folders/globs of .txt/.html, JSONL, CSV and Parquet.

Planning (on the client) lists the inputs and cuts them into small ``Part``s that name
where their articles live (a list of files, a byte range of a JSONL/CSV file, a row range
of a Parquet row group). Whoever analyses a part reads it itself (``read_part``), so a
Dask worker reads its partition where it lives and only results travel back.

Every article, good or bad, comes out of ``read_part`` as ``(id, where, Article | InputError)``
so that a bad one becomes an error row and never stops the run.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, PropscopeError
from ..ids import file_id, record_id
from ..inputs import TEXT_SUFFIXES, article_from_record, decode_bytes, folder_files, read_file
from ..spans import Article
from . import outlets

TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
                  ".pq": "parquet"}
RECORD_KEYS = ("id", "text", "html", "title", "source", "url", "date")
#: A Parquet row group with more rows than this many parts is streamed by the client
#: instead of being re-read by every part (see ``Part.inline``).
BIG_ROW_GROUP_PARTS = 16

Item = tuple[str, str, Article | InputError]


@dataclass
class Part:
    """One partition of the input: what a worker reads, analyses and returns as a unit."""

    kind: str  # "files" | "jsonl" | "csv" | "parquet" | "error"
    path: str = ""
    files: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # kind "files": the id of each file (``ids.file_id``)
    start: int = 0  # byte offset (jsonl, csv) or row offset in the row group (parquet)
    stop: int = 0
    first: int = 1  # number of the first line/row, for error locations
    row_group: int = 0
    header: tuple[str, ...] = ()
    size: int = 0  # number of articles (for progress)
    message: str = ""  # kind "error": the input-level problem
    records: list[dict[str, Any]] | None = field(default=None, repr=False)
    inline: bool = False  # parquet: rows are streamed by the client into ``records``

    @property
    def key(self) -> str:
        """A stable name: the same input cut the same way gives the same key on every run."""
        what = "|".join(self.files) if self.kind == "files" else self.path
        raw = f"{self.kind}|{what}|{self.row_group}|{self.start}|{self.stop}"
        return hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _has_magic(p: str) -> bool:
    return any(c in p for c in "*?[")


def expand_inputs(paths: list[str]) -> list[tuple[str, Path, str]]:
    """``(kind, path, id)`` for every input file: globs expanded, folders walked (sorted).
    ``id`` is the file's id (``ids.file_id``: its path below the folder given) for text
    files, "" for tables (their records carry ids).

    A path that does not exist or a glob that matches nothing is a usage mistake and
    raises at once, before any work starts.
    """
    out: list[tuple[str, Path, str]] = []
    for p in paths:
        if _has_magic(p):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError("no files match this pattern", where=p)
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(p)]
            if not candidates[0].exists():
                raise InputError("no such file or folder", where=p)
        for c in candidates:
            if c.is_dir():
                found = folder_files(c, TEXT_SUFFIXES + tuple(TABLE_SUFFIXES))
                if not found:
                    raise InputError("no .txt, .html, .jsonl, .csv or .parquet files in this "
                                     "folder", where=str(c))
                out.extend((_kind_of(f), f, _id_of(f, c)) for f in found)
            elif c.is_file():
                out.append((_kind_of(c), c, _id_of(c, None)))
    seen: set[Path] = set()
    unique = []
    for kind, f, aid in out:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append((kind, f, aid))
    return unique


def _id_of(path: Path, root: Path | None) -> str:
    return file_id(path, root) if _kind_of(path) == "text" else ""


def _kind_of(path: Path) -> str:
    return TABLE_SUFFIXES.get(path.suffix.lower(), "text")


# ---------------------------------------------------------------- planning


def plan(paths: list[str], part_size: int = 64) -> list[Part]:
    """Cut the inputs into parts of about ``part_size`` articles, in input order."""
    if part_size < 1:
        raise PropscopeError(f"--part-size must be at least 1, got {part_size}")
    parts: list[Part] = []
    texts: list[tuple[str, str]] = []

    def flush_texts() -> None:
        for k in range(0, len(texts), part_size):
            chunk = texts[k : k + part_size]
            parts.append(Part("files", files=tuple(f for f, _ in chunk),
                              ids=tuple(i for _, i in chunk), size=len(chunk)))
        texts.clear()

    for kind, path, aid in expand_inputs(paths):
        if kind == "text":
            texts.append((str(path), aid))
            continue
        flush_texts()
        try:
            if kind == "jsonl":
                parts.extend(_plan_jsonl(path, part_size))
            elif kind == "csv":
                parts.extend(_plan_csv(path, part_size))
            else:
                parts.extend(_plan_parquet(path, part_size))
        except InputError as e:
            parts.append(Part("error", path=str(path), message=str(e), size=1))
        except OSError as e:
            parts.append(Part("error", path=str(path), size=1,
                              message=f"{path}: cannot read ({e.strerror or e})"))
    flush_texts()
    return parts


def _plan_jsonl(path: Path, part_size: int) -> Iterator[Part]:
    with path.open("rb") as f:
        start, first, n, line_no, pos = 0, 1, 0, 0, 0
        for raw in f:
            line_no += 1
            if raw.strip():
                if n == 0:
                    start, first = pos, line_no
                n += 1
                if n == part_size:
                    yield Part("jsonl", path=str(path), start=start, stop=pos + len(raw),
                               first=first, size=n)
                    n = 0
            pos += len(raw)
        if n:
            yield Part("jsonl", path=str(path), start=start, stop=pos, first=first, size=n)


class _Lines:
    """Lines of a binary file decoded for ``csv`` (bad UTF-8 kept as surrogates), with the
    byte offset where the next line starts, so record boundaries can be remembered."""

    def __init__(self, handle: io.BufferedReader, pos: int = 0, stop: int | None = None):
        self.handle, self.pos, self.stop = handle, pos, stop

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.stop is not None and self.pos >= self.stop:
            raise StopIteration
        raw = self.handle.readline()
        if not raw:
            raise StopIteration
        self.pos += len(raw)
        return raw.decode("utf-8", "surrogateescape")


def _csv_header(path: Path, handle: io.BufferedReader) -> tuple[list[str], _Lines, Any]:
    lines = _Lines(handle)
    reader = csv.reader(lines)
    try:
        header = [h.strip().lstrip("\ufeff").lower() for h in next(reader)]
    except StopIteration:
        raise InputError("empty CSV file", where=str(path)) from None
    except csv.Error as e:
        raise InputError(f"not a valid CSV file ({e})", where=str(path)) from None
    if "text" not in header and "html" not in header:
        raise InputError(f'no "text" column (columns: {", ".join(header)})', where=str(path))
    return header, lines, reader


def _plan_csv(path: Path, part_size: int) -> Iterator[Part]:
    csv.field_size_limit(sys.maxsize)
    with path.open("rb") as f:
        header, lines, reader = _csv_header(path, f)
        start, first, n, row = lines.pos, 1, 0, 0
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise InputError(f"not a valid CSV file ({e})",
                                 where=f"{path}:row {row + 1}") from None
            row += 1
            if not rec or not any(x.strip() for x in rec):
                row -= 1
                if n == 0:
                    start = lines.pos
                continue
            if n == 0:
                first = row
            n += 1
            if n == part_size:
                yield Part("csv", path=str(path), start=start, stop=lines.pos, first=first,
                           header=tuple(header), size=n)
                n, start = 0, lines.pos
        if n:
            yield Part("csv", path=str(path), start=start, stop=lines.pos, first=first,
                       header=tuple(header), size=n)


def _parquet_file(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(str(path))
    except Exception as e:  # pyarrow raises ArrowInvalid and friends
        raise InputError(f"not a readable Parquet file ({str(e).splitlines()[0]})",
                         where=str(path)) from None


def _parquet_columns(pf, path: Path, keep: tuple[str, ...] = ()) -> list[str]:
    names = [n for n in pf.schema_arrow.names]
    if "text" not in names and "html" not in names:
        raise InputError(f'no "text" column (columns: {", ".join(names)})', where=str(path))
    return [n for n in names if n in RECORD_KEYS or n in keep]


def _plan_parquet(path: Path, part_size: int) -> Iterator[Part]:
    pf = _parquet_file(path)
    _parquet_columns(pf, path)
    row0 = 0
    for rg in range(pf.metadata.num_row_groups):
        rows = pf.metadata.row_group(rg).num_rows
        inline = rows > BIG_ROW_GROUP_PARTS * part_size
        for k in range(0, rows, part_size):
            stop = min(rows, k + part_size)
            yield Part("parquet", path=str(path), row_group=rg, start=k, stop=stop,
                       first=row0 + k + 1, size=stop - k, inline=inline)
        row0 += rows


# ---------------------------------------------------------------- reading


class ParquetStreamer:
    """Client-side reader for big row groups: rows are read once, in order, and shipped
    with their part, instead of every part re-reading the whole row group. ``keep``: the
    columns to read beside the usual ones (``--outlet-from field:NAME``)."""

    def __init__(self, keep: tuple[str, ...] = ()) -> None:
        self.keep = keep
        self._at: dict[tuple[str, int], tuple[Any, int, list[dict[str, Any]]]] = {}

    def load(self, part: Part) -> Part:
        if not part.inline:
            return part
        key = (part.path, part.row_group)
        if key not in self._at or self._at[key][1] > part.start:
            self._at.clear()  # parts come in order: one open row group at a time
            pf = _parquet_file(Path(part.path))
            batches = pf.iter_batches(batch_size=4096, row_groups=[part.row_group],
                                      columns=_parquet_columns(pf, Path(part.path),
                                                               self.keep))
            self._at[key] = (batches, 0, [])
        batches, pos, buf = self._at[key]
        while pos + len(buf) < part.stop:
            if pos + len(buf) <= part.start:  # skipped (done) parts: drop what they had
                pos, buf = pos + len(buf), []
            buf.extend(next(batches).to_pylist())
        drop = part.start - pos
        records = buf[drop : drop + (part.stop - part.start)]
        self._at[key] = (batches, part.stop, buf[drop + len(records):])
        return Part(**{**part.__dict__, "records": records, "inline": False})


def read_part(part: Part, max_bytes: int | None = None, source: str | None = None,
              outlet_from: str | None = None) -> Iterator[Item]:
    """The articles of one part, in order, each as ``(id, where, Article | InputError)``.

    Each gets its outlet (``source``) by ``outlets.choose``: by default its own, else
    ``source``, else a file's folder name; ``outlet_from`` names another place.
    """
    name = outlets.field_of(outlet_from)
    keep = (name,) if name else ()
    for aid, where, item in _read(part, max_bytes, keep):
        folder = Path(where if part.kind == "files" else part.path).parent.name or None
        if isinstance(item, Article):
            known = {"source": item.source, "url": item.url, **item.meta}
            item.source = outlets.choose(outlet_from, known, folder, source,
                                         part.kind == "files")
        else:  # error rows keep what is known of the article (its outlet, date, ...)
            meta = getattr(item, "meta", None) or {}
            meta["source"] = outlets.choose(outlet_from, meta, folder, source,
                                            part.kind == "files")
            item.meta = meta  # type: ignore[union-attr]
        yield aid, where, item


def _read(part: Part, max_bytes: int | None, keep: tuple[str, ...] = ()) -> Iterator[Item]:
    if part.kind == "error":
        yield part.path, part.path, InputError(part.message.removeprefix(f"{part.path}: "),
                                               where=part.path)
    elif part.kind == "files":
        ids = part.ids or tuple(file_id(Path(name)) for name in part.files)
        for name, aid in zip(part.files, ids, strict=True):
            yield aid, name, _guarded(name, lambda name=name, aid=aid: read_file(
                Path(name), max_bytes, aid))
    elif part.kind == "jsonl":
        yield from _read_jsonl(part, max_bytes, keep)
    elif part.kind == "csv":
        yield from _read_csv(part, max_bytes, keep)
    elif part.kind == "parquet":
        yield from _read_parquet(part, max_bytes, keep)
    else:
        raise ValueError(f"unknown part kind {part.kind!r}")


def _failed(e: InputError, rec: Any, keep: tuple[str, ...] = ()) -> InputError:
    """Keep a bad record's outlet, date, title and url (and the ``keep`` fields, as
    ``field:NAME``) on its error (for its error row)."""
    if isinstance(rec, dict):
        e.meta = {k: str(rec[k]) for k in ("source", "date", "title", "url")  # type: ignore
                  if rec.get(k) not in (None, "") and not isinstance(rec[k], bytes)}
        e.meta.update(_kept(rec, keep))  # type: ignore[attr-defined]
    return e


def _kept(rec: dict[str, Any], keep: tuple[str, ...]) -> dict[str, str]:
    """The ``keep`` fields of a record, as ``{"field:NAME": text}``."""
    values = {k: outlets.field_value(rec.get(k)) for k in keep}
    return {outlets.FIELD + k: v for k, v in values.items() if v is not None}


def _guarded(where: str, read: Callable[[], Article]) -> Article | InputError:
    """``read()``, or its failure as this article's error: one never stops the others."""
    try:
        return read()
    except Exception as e:
        return _as_input_error(e, where)


def _as_input_error(e: Exception, where: str) -> InputError:
    if isinstance(e, InputError):
        return e
    first = str(e).splitlines()[0] if str(e) else ""
    return InputError(f"cannot read ({type(e).__name__}{': ' + first if first else ''})",
                      where=where)


def _from_record(rec: dict[str, Any], where: str, max_bytes: int | None,
                 keep: tuple[str, ...] = ()) -> Article:
    """``article_from_record`` after the same checks files get (size, UTF-8, binary);
    the ``keep`` fields go into its ``meta`` as ``field:NAME``."""
    kept = _kept(rec, keep)
    rec = dict(rec)
    for key in ("text", "html"):
        value = rec.get(key)
        if isinstance(value, bytes):
            rec[key] = decode_bytes(value, where=where, max_bytes=max_bytes)
        elif isinstance(value, str):
            rec[key] = decode_bytes(value.encode("utf-8", "surrogateescape"), where=where,
                                    max_bytes=max_bytes)
    for key in ("title", "source", "url", "date"):
        value = rec.get(key)
        if isinstance(value, str) and any("\udc80" <= c <= "\udcff" for c in value):
            raise InputError(f'"{key}" is not valid UTF-8', where=where)
        if hasattr(value, "isoformat"):
            rec[key] = value.isoformat()
        elif value == "":
            rec[key] = None
    art = article_from_record(rec, where)
    art.meta.update(kept)
    return art


def _read_jsonl(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
    import json

    with open(part.path, "rb") as f:
        f.seek(part.start)
        line_no, pos = part.first - 1, part.start
        while pos < part.stop:
            raw = f.readline()
            if not raw:
                break
            pos += len(raw)
            line_no += 1
            if not raw.strip():
                continue
            where = f"{part.path}:{line_no}"
            rec: Any = None
            try:
                # the size limit applies to the text (in _from_record), not to the line
                line = decode_bytes(raw, where=where, max_bytes=len(raw) + 1)
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"not valid JSON ({e.msg})", where=where) from None
                if not isinstance(rec, dict):
                    raise InputError("expected a JSON object", where=where)
                yield record_id(rec, where), where, _from_record(rec, where, max_bytes, keep)
            except Exception as e:  # any failure of one record is its error row
                yield record_id(rec, where), where, _failed(_as_input_error(e, where), rec,
                                                            keep)


def _read_csv(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
    csv.field_size_limit(sys.maxsize)
    with open(part.path, "rb") as f:
        f.seek(part.start)
        reader = csv.reader(_Lines(f, part.start, part.stop))
        row = part.first - 1
        for values in reader:
            if not values or not any(x.strip() for x in values):
                continue
            row += 1
            where = f"{part.path}:row {row}"
            rec = {k: v for k, v in zip(part.header, values, strict=False)
                   if k in RECORD_KEYS or k in keep}
            try:
                if len(values) != len(part.header):
                    raise InputError(f"{len(values)} fields, the header has "
                                     f"{len(part.header)}", where=where)
                yield record_id(rec, where), where, _from_record(rec, where, max_bytes, keep)
            except Exception as e:  # any failure of one record is its error row
                yield record_id(rec, where), where, _failed(_as_input_error(e, where), rec,
                                                            keep)


def _read_parquet(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
    records = part.records
    if records is None:
        pf = _parquet_file(Path(part.path))
        table = pf.read_row_group(part.row_group,
                                  columns=_parquet_columns(pf, Path(part.path), keep))
        records = table.slice(part.start, part.stop - part.start).to_pylist()
    for k, rec in enumerate(records):
        where = f"{part.path}:row {part.first + k}"
        try:
            yield record_id(rec, where), where, _from_record(rec, where, max_bytes, keep)
        except Exception as e:  # any failure of one record is its error row
            yield record_id(rec, where), where, _failed(_as_input_error(e, where), rec, keep)


def describe(parts: list[Part]) -> dict[str, Any]:
    """How many input files of each kind the parts come from (for run.json)."""
    kinds: dict[str, set[str]] = {}
    for p in parts:
        if p.kind == "files":
            for f in p.files:  # media type by suffix (the reader also sniffs the content)
                html = Path(f).suffix.lower() in (".html", ".htm", ".xhtml")
                kinds.setdefault("text/html" if html else "text/plain", set()).add(f)
            continue
        kinds.setdefault(p.kind, set()).add(p.path)
    return {"files": sum(len(v) for v in kinds.values()),
            "by_kind": {k: len(v) for k, v in sorted(kinds.items())},
            "articles": sum(p.size for p in parts if p.kind != "error")}

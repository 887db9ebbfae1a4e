"""The parts a batch run is cut into, and the table formats' records: CSV and Parquet
planning and reading, and the one way a record of any table (JSONL too) becomes an
``Article`` or its error (``record_article``, ``failed_record``)."""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, describe
from ..ids import record_id
from ..inputs import checked_record
from ..spans import Article
from . import outlets

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


def failed_record(e: InputError, rec: Any, keep: tuple[str, ...] = ()) -> InputError:
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


def as_input_error(e: Exception, where: str) -> InputError:
    if isinstance(e, InputError):
        return e
    return InputError(f"cannot read ({describe(e)})", where=where)


def record_article(rec: dict[str, Any], where: str, max_bytes: int | None,
                 keep: tuple[str, ...] = ()) -> Article:
    """``inputs.checked_record``, with the ``keep`` fields in its ``meta`` as ``field:NAME``."""
    art = checked_record(rec, where, max_bytes)
    art.meta.update(_kept(rec, keep))
    return art


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


def plan_csv(path: Path, part_size: int) -> Iterator[Part]:
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


def read_csv(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
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
                yield record_id(rec, where), where, record_article(rec, where, max_bytes, keep)
            except Exception as e:  # any failure of one record is its error row
                yield record_id(rec, where), where, failed_record(as_input_error(e, where), rec,
                                                            keep)


def parquet_file(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(str(path))
    except Exception as e:  # pyarrow raises ArrowInvalid and friends
        raise InputError(f"not a readable Parquet file ({str(e).splitlines()[0]})",
                         where=str(path)) from None


def parquet_columns(pf, path: Path, keep: tuple[str, ...] = ()) -> list[str]:
    names = [n for n in pf.schema_arrow.names]
    if "text" not in names and "html" not in names:
        raise InputError(f'no "text" column (columns: {", ".join(names)})', where=str(path))
    return [n for n in names if n in RECORD_KEYS or n in keep]


def plan_parquet(path: Path, part_size: int) -> Iterator[Part]:
    pf = parquet_file(path)
    parquet_columns(pf, path)
    row0 = 0
    for rg in range(pf.metadata.num_row_groups):
        rows = pf.metadata.row_group(rg).num_rows
        inline = rows > BIG_ROW_GROUP_PARTS * part_size
        for k in range(0, rows, part_size):
            stop = min(rows, k + part_size)
            yield Part("parquet", path=str(path), row_group=rg, start=k, stop=stop,
                       first=row0 + k + 1, size=stop - k, inline=inline)
        row0 += rows


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
            pf = parquet_file(Path(part.path))
            batches = pf.iter_batches(batch_size=4096, row_groups=[part.row_group],
                                      columns=parquet_columns(pf, Path(part.path),
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


def read_parquet(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
    records = part.records
    if records is None:
        pf = parquet_file(Path(part.path))
        table = pf.read_row_group(part.row_group,
                                  columns=parquet_columns(pf, Path(part.path), keep))
        records = table.slice(part.start, part.stop - part.start).to_pylist()
    for k, rec in enumerate(records):
        where = f"{part.path}:row {part.first + k}"
        try:
            yield record_id(rec, where), where, record_article(rec, where, max_bytes, keep)
        except Exception as e:  # any failure of one record is its error row
            yield record_id(rec, where), where, failed_record(as_input_error(e, where), rec, keep)

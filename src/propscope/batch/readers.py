"""Corpus inputs cut into partitions: folders/globs of .txt/.html, JSONL, CSV and Parquet.

Planning (on the client) lists the inputs and cuts them into small ``Part``s that name
where their articles live (a list of files, a byte range of a JSONL/CSV file, a row range
of a Parquet row group). Whoever analyses a part reads it itself (``read_part``), so a
Dask worker reads its partition where it lives and only results travel back.

Every article, good or bad, comes out of ``read_part`` as ``(id, where, Article | InputError)``
so that a bad one becomes an error row and never stops the run.
"""

from __future__ import annotations

import bisect
import glob
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError, PropscopeError
from ..ids import file_id, record_id
from ..inputs import (
    TEXT_SUFFIXES,
    folder_files,
    jsonl_lines,
    jsonl_record,
    read_file,
)
from ..spans import Article
from . import outlets
from .tables import (  # noqa: F401 (Part and ParquetStreamer: importable from here as before)
    Item,
    ParquetStreamer,
    Part,
    as_input_error,
    failed_record,
    plan_csv,
    plan_parquet,
    read_csv,
    read_parquet,
    record_article,
)

TABLE_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
                  ".pq": "parquet"}


def _has_magic(p: str) -> bool:
    return any(c in p for c in "*?[")


def expand_inputs(paths: list[str], exclude: Path | None = None
                  ) -> list[tuple[str, Path, str]]:
    """``(kind, path, id)`` for every input file: globs expanded, folders walked (sorted).
    ``id`` is the file's id (``ids.file_id``: its path below the folder given) for text
    files, "" for tables (their records carry ids).

    ``exclude`` is the run's output folder: a folder walked or a glob leaves out the files
    under it (the run's own Parquet tables are not articles), and an input given inside
    it is refused.

    A path that does not exist or a glob that matches nothing is a usage mistake and
    raises at once, before any work starts.
    """
    out: list[tuple[str, Path, str]] = []
    for p in paths:
        if _has_magic(p):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError("no files match this pattern", where=p)
            candidates = [Path(m) for m in matches if not _inside(Path(m), exclude)]
        else:
            candidates = [Path(p)]
            if not candidates[0].exists():
                raise InputError("no such file or folder", where=p)
            if _inside(candidates[0], exclude):
                raise InputError(f"is inside the output folder {exclude}: a run does not "
                                 "read its own tables as articles; give another input",
                                 where=p)
        for c in candidates:
            if c.is_dir():
                found = [f for f in folder_files(c, TEXT_SUFFIXES + tuple(TABLE_SUFFIXES))
                         if not _inside(f, exclude)]
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


def _inside(path: Path, folder: Path | None) -> bool:
    """Whether ``path`` is ``folder`` or under it (links resolved)."""
    return folder is not None and path.resolve().is_relative_to(folder.resolve())


def _id_of(path: Path, root: Path | None) -> str:
    return file_id(path, root) if _kind_of(path) == "text" else ""


def _kind_of(path: Path) -> str:
    return TABLE_SUFFIXES.get(path.suffix.lower(), "text")


# ---------------------------------------------------------------- planning


def plan(paths: list[str], part_size: int = 64, exclude: Path | None = None) -> list[Part]:
    """Cut the inputs into parts of about ``part_size`` articles, in input order
    (``exclude``: the run's output folder, see ``expand_inputs``)."""
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

    for kind, path, aid in expand_inputs(paths, exclude):
        if kind == "text":
            texts.append((str(path), aid))
            continue
        flush_texts()
        try:
            if kind == "jsonl":
                parts.extend(_plan_jsonl(path, part_size))
            elif kind == "csv":
                parts.extend(plan_csv(path, part_size))
            else:
                parts.extend(plan_parquet(path, part_size))
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


def parts_reading(parts: list[Part], locations: set[str]) -> dict[str, str]:
    """The key of the part that reads each of these input locations (an error row's
    ``input``: a file, ``FILE:LINE`` of a JSONL file, ``FILE:row N`` of a CSV or Parquet
    file), for those a part reads; the parts are indexed once for all of them."""
    files: dict[str, str] = {}
    tables: dict[str, list[tuple[int, str]]] = {}
    for p in parts:
        if p.kind == "files":
            files.update(dict.fromkeys(p.files, p.key))
        elif p.kind == "error":
            files[p.path] = p.key
        else:  # a table file's parts follow one another: each reads from its first on
            tables.setdefault(p.path, []).append((p.first, p.key))
    for starts in tables.values():
        starts.sort()
    keys = {}
    for where in locations:
        if where in files:
            keys[where] = files[where]
            continue
        m = re.fullmatch(r"(.*):(?:row )?(\d+)", where)
        starts = tables.get(m[1], []) if m else []
        k = bisect.bisect_right(starts, (int(m[2]), "\uffff")) - 1 if m else -1
        if k >= 0:
            keys[where] = starts[k][1]
    return keys


# ---------------------------------------------------------------- reading


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
        yield from read_csv(part, max_bytes, keep)
    elif part.kind == "parquet":
        yield from read_parquet(part, max_bytes, keep)
    else:
        raise ValueError(f"unknown part kind {part.kind!r}")


def _guarded(where: str, read: Callable[[], Article]) -> Article | InputError:
    """``read()``, or its failure as this article's error: one never stops the others."""
    try:
        return read()
    except Exception as e:
        return as_input_error(e, where)


def _read_jsonl(part: Part, max_bytes: int | None, keep: tuple[str, ...]) -> Iterator[Item]:
    with open(part.path, "rb") as f:
        f.seek(part.start)
        for line_no, raw in jsonl_lines(f, part.first, part.stop):
            where = f"{part.path}:{line_no}"
            rec: Any = None
            try:
                rec = jsonl_record(raw, where)
                yield record_id(rec, where), where, record_article(rec, where, max_bytes, keep)
            except Exception as e:  # any failure of one record is its error row
                yield record_id(rec, where), where, failed_record(as_input_error(e, where), rec,
                                                            keep)


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

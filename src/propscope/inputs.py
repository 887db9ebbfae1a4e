"""Turning what users give (files, folders, JSONL, HTML, stdin) into Articles.

Every problem becomes an ``InputError`` with a one-line message naming the input.
Readers that take many items yield ``Article`` or ``InputError`` per item so that one
bad item never stops the others.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from . import config
from .errors import InputError, PropscopeError, unexpected
from .ids import file_id, record_id
from .spans import Article

Item = Article | PropscopeError
Located = tuple[str, Item]


#: Characters that show nothing: text made only of these and whitespace is empty.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"))
TEXT_SUFFIXES = (".txt", ".html", ".htm")


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing to analyse: only whitespace, byte-order marks and
    zero-width characters (or nothing at all)."""
    return not text.translate(_INVISIBLE).strip()


def decode_bytes(data: bytes, where: str = "input", max_bytes: int | None = None,
                 allow_empty: bool = False) -> str:
    """Decode UTF-8 text, refusing empty, huge, binary and invalid input with a clear error.

    A leading byte-order mark is dropped; text that is then blank (``is_blank``: e.g. a
    file holding only a byte-order mark) is empty.
    """
    limit = config.MAX_INPUT_BYTES if max_bytes is None else max_bytes
    if len(data) >= limit:
        raise InputError(f"too large ({len(data):,} bytes; the limit is {limit:,})", where=where)
    if b"\x00" in data[:8192]:
        raise InputError("binary file (contains NUL bytes), not text", where=where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 (bad byte 0x{data[e.start]:02x} at byte offset "
                         f"{e.start})", where=where) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if is_blank(text) and not allow_empty:
        raise InputError("empty (no text to analyse)", where=where)
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > 0.05 * min(len(text), 8192):
        raise InputError("binary file (mostly control characters), not text", where=where)
    return text


def html_to_text(html: str, where: str = "html") -> tuple[str, str | None]:
    """Main text (and title) of an HTML page, extracted with trafilatura."""
    import trafilatura

    try:
        text = trafilatura.extract(html, include_comments=False, include_tables=False,
                                   favor_recall=True)
    except Exception as e:  # a page trafilatura cannot parse is this input's problem only
        raise InputError(f"cannot extract text from this HTML ({type(e).__name__})",
                         where=where) from None
    if not text or is_blank(text):
        raise InputError("no article text found in this HTML", where=where)
    title = None
    try:
        meta = trafilatura.extract_metadata(html)
        title = meta.title if meta else None
    except Exception:  # metadata is optional
        title = None
    return text, title


def looks_like_html(path: Path, text: str) -> bool:
    if path.suffix.lower() in (".html", ".htm", ".xhtml"):
        return True
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def article_from_text(text: str, aid: str, where: str, html: bool = False) -> Article:
    if html:
        body, title = html_to_text(text, where=where)
        return Article(id=aid, text=body, title=title, meta={"extracted_from": "html"})
    return Article(id=aid, text=text)


def read_bytes(path: Path) -> bytes:
    """The bytes of a file; the one place a file's read errors become ``InputError``s."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise open_error(e, str(path)) from None


def open_error(e: OSError, where: str) -> InputError:
    """A file that cannot be opened or read, as this input's one-line error."""
    if isinstance(e, FileNotFoundError):
        return InputError("no such file", where=where)
    if isinstance(e, IsADirectoryError):
        return InputError("is a folder", where=where)
    if isinstance(e, PermissionError):
        return InputError("permission denied", where=where)
    return InputError(f"cannot read ({e.strerror or e})", where=where)


def read_text(path: Path, max_bytes: int | None = None, allow_empty: bool = False) -> str:
    """A UTF-8 text file exactly as stored (no newline translation), checked as
    ``decode_bytes`` checks input."""
    return decode_bytes(read_bytes(path), where=str(path), max_bytes=max_bytes,
                        allow_empty=allow_empty)


def read_file(path: Path, max_bytes: int | None = None, aid: str | None = None) -> Article:
    """One .txt/.html file as an Article with id ``aid`` (default: ``ids.file_id``)."""
    text = read_text(path, max_bytes)
    return article_from_text(text, aid or file_id(path), str(path),
                             html=looks_like_html(path, text))


def article_from_record(rec: object, where: str) -> Article:
    """One JSON object ``{"id", "text", optional title/source/url/date/html}``."""
    if not isinstance(rec, dict):
        raise InputError("expected a JSON object", where=where)
    text, html = rec.get("text"), rec.get("html")
    if text is None and html is None:
        raise InputError('missing "text"', where=where)
    if not isinstance(text if text is not None else html, str):
        raise InputError('"text" must be a string', where=where)
    aid = record_id(rec, where)
    if text is not None:
        if is_blank(text):
            raise InputError("empty text", where=where)
        art = Article(id=aid, text=text)
    else:
        art = article_from_text(html, aid, where, html=True)
    for key in ("title", "source", "url", "date"):
        if rec.get(key) is not None:
            setattr(art, key, str(rec[key]))
    return art


def checked_record(rec: dict[str, Any], where: str, max_bytes: int | None) -> Article:
    """``article_from_record`` after the checks files get (size, UTF-8, binary) on its
    text; for every reader of records (JSONL, CSV, Parquet)."""
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
    return article_from_record(rec, where)


def jsonl_lines(handle: BinaryIO, first: int = 1, stop: int | None = None
                ) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for the lines that are not blank, from where ``handle``
    stands (line ``first``) to the byte offset ``stop`` (default: the end)."""
    n, pos = first - 1, handle.tell()
    while stop is None or pos < stop:
        raw = handle.readline()
        if not raw:
            return
        pos += len(raw)
        n += 1
        if raw.strip():
            yield n, raw


def jsonl_record(raw: bytes, where: str) -> dict[str, Any]:
    """One JSONL line as its JSON object (the size limit applies to its text, in
    ``checked_record``, not to the line)."""
    line = decode_bytes(raw, where=where, max_bytes=len(raw) + 1)
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON ({e.msg})", where=where) from None
    if not isinstance(rec, dict):
        raise InputError("expected a JSON object", where=where)
    return rec


def read_jsonl(path: Path, max_bytes: int | None = None) -> Iterator[Located]:
    """Every line of a JSONL file as ``(where, Article | error)``; where is ``FILE:LINE``."""
    where = str(path)
    try:
        handle = path.open("rb")
    except OSError as e:
        yield where, open_error(e, where)
        return
    with handle:
        for n, raw in jsonl_lines(handle):
            loc = f"{where}:{n}"
            yield loc, _guarded(loc, lambda raw=raw, loc=loc: checked_record(
                jsonl_record(raw, loc), loc, max_bytes))


def _guarded(where: str, read: Callable[[], Article]) -> Item:
    """``read()``, or its failure as this input's error: one input never stops the others."""
    try:
        return read()
    except PropscopeError as e:
        return e
    except Exception as e:
        return unexpected(e, "cannot read", where)


def folder_files(folder: Path, suffixes: Iterable[str] = TEXT_SUFFIXES) -> list[Path]:
    """Files under ``folder`` (walked recursively, sorted) with one of ``suffixes``;
    hidden files and folders (``.name``) are left out."""
    wanted = tuple(suffixes)
    return sorted(
        f for f in folder.rglob("*")
        if f.suffix.lower() in wanted and not any(x.startswith(".") for x in
                                                  f.relative_to(folder).parts) and f.is_file()
    )


def _read_folder(folder: Path, max_bytes: int | None) -> Iterator[Located]:
    files = folder_files(folder)
    if not files:
        yield str(folder), InputError("no .txt or .html files in this folder", where=str(folder))
    for f in files:
        item = _guarded(str(f), lambda f=f: read_file(f, max_bytes, file_id(f, folder)))
        if isinstance(item, Article) and not item.source:
            item.source = f.parent.name  # the outlet is the folder's name
        yield str(f), item


def _read_stdin(max_bytes: int | None) -> Article:
    text = decode_bytes(sys.stdin.buffer.read(), where="stdin", max_bytes=max_bytes)
    return article_from_text(text, "stdin", "stdin", html=looks_like_html(Path("stdin"), text))


def iter_located(paths: list[str], max_bytes: int | None = None) -> Iterator[Located]:
    """``(where, Article | error)`` for every article of ``paths``: files (.txt/.html/
    .jsonl), folders (walked recursively; ids from ``ids.file_id``), or ``-`` for stdin.
    ``where`` names the source (a path, ``FILE:LINE`` or ``stdin``)."""
    for p in paths:
        if p == "-":
            yield "stdin", _guarded("stdin", lambda: _read_stdin(max_bytes))
            continue
        path = Path(p)
        if path.is_dir():
            yield from _read_folder(path, max_bytes)
        elif path.suffix.lower() == ".jsonl":
            yield from read_jsonl(path, max_bytes)
        else:
            yield p, _guarded(p, lambda path=path: read_file(path, max_bytes))


def iter_inputs(paths: list[str], max_bytes: int | None = None) -> Iterator[Item]:
    """Articles (or errors) from paths, as ``iter_located`` without the sources."""
    for _, item in iter_located(paths, max_bytes):
        yield item

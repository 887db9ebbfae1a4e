"""Turning what users give (files, folders, JSONL, HTML, stdin) into Articles.

Every problem becomes an ``InputError`` with a one-line message naming the input.
Readers that take many items yield ``Article`` or ``InputError`` per item so that one
bad item never stops the others.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from . import config
from .errors import InputError
from .spans import Article

Item = Article | InputError


def decode_bytes(data: bytes, where: str = "input", max_bytes: int | None = None,
                 allow_empty: bool = False) -> str:
    """Decode UTF-8 text, refusing empty, huge, binary and invalid input with a clear error."""
    limit = config.MAX_INPUT_BYTES if max_bytes is None else max_bytes
    if len(data) >= limit:
        raise InputError(f"too large ({len(data):,} bytes; the limit is {limit:,})", where=where)
    if not data.strip() and not allow_empty:
        raise InputError("empty (no text to analyse)", where=where)
    if b"\x00" in data[:8192]:
        raise InputError("binary file (contains NUL bytes), not text", where=where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 (bad byte 0x{data[e.start]:02x} at byte offset "
                         f"{e.start})", where=where) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > 0.05 * min(len(text), 8192):
        raise InputError("binary file (mostly control characters), not text", where=where)
    return text


def html_to_text(html: str, where: str = "html") -> tuple[str, str | None]:
    """Main text (and title) of an HTML page, extracted with trafilatura."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False,
                               favor_recall=True)
    if not text or not text.strip():
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


def read_file(path: Path, max_bytes: int | None = None) -> Article:
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", where=where) from None
    except IsADirectoryError:
        raise InputError("is a folder", where=where) from None
    except PermissionError:
        raise InputError("permission denied", where=where) from None
    text = decode_bytes(data, where=where, max_bytes=max_bytes)
    aid = path.stem[len("article"):] if path.stem.startswith("article") else path.stem
    return article_from_text(text, aid or path.stem, where, html=looks_like_html(path, text))


def article_from_record(rec: object, where: str) -> Article:
    """One JSON object ``{"id", "text", optional title/source/url/date/html}``."""
    if not isinstance(rec, dict):
        raise InputError("expected a JSON object", where=where)
    text, html = rec.get("text"), rec.get("html")
    if text is None and html is None:
        raise InputError('missing "text"', where=where)
    if not isinstance(text if text is not None else html, str):
        raise InputError('"text" must be a string', where=where)
    aid = str(rec.get("id", where))
    if text is not None:
        if not text.strip():
            raise InputError("empty text", where=where)
        art = Article(id=aid, text=text)
    else:
        art = article_from_text(html, aid, where, html=True)
    for key in ("title", "source", "url", "date"):
        if rec.get(key) is not None:
            setattr(art, key, str(rec[key]))
    return art


def read_jsonl(path: Path, max_bytes: int | None = None) -> Iterator[Item]:
    where = str(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield InputError("no such file", where=where)
        return
    with handle:
        for n, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            loc = f"{where}:{n}"
            try:
                line = decode_bytes(raw, where=loc, max_bytes=max_bytes)
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"line {n} is not valid JSON ({e.msg})", where=where) from None
                yield article_from_record(rec, loc)
            except InputError as e:
                yield e


def iter_inputs(paths: list[str], max_bytes: int | None = None) -> Iterator[Item]:
    """Articles from paths: files (.txt/.html/.jsonl), folders, or ``-`` for stdin."""
    for p in paths:
        if p == "-":
            try:
                text = decode_bytes(sys.stdin.buffer.read(), where="stdin", max_bytes=max_bytes)
                yield article_from_text(text, "stdin", "stdin",
                                        html=looks_like_html(Path("stdin"), text))
            except InputError as e:
                yield e
            continue
        path = Path(p)
        if path.is_dir():
            files = sorted(path.glob("article*.txt")) or sorted(
                f for f in path.iterdir() if f.suffix.lower() in (".txt", ".html", ".htm")
            )
            if not files:
                yield InputError("no article*.txt, .txt or .html files in this folder", where=p)
            for f in files:
                yield from iter_inputs([str(f)], max_bytes)
        elif path.suffix.lower() == ".jsonl":
            yield from read_jsonl(path, max_bytes)
        else:
            try:
                yield read_file(path, max_bytes)
            except InputError as e:
                yield e

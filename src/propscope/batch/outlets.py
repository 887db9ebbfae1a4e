"""Where an article's outlet comes from in a batch run (``--outlet-from``).

By default the outlet is the record's ``source``, else ``--source``, else (for a text
file) the name of the folder holding it. ``--outlet-from`` names one place instead:

- ``folder``: the folder holding the file (for a JSONL/CSV/Parquet record: the table's);
- ``domain``: the host of the article's ``url``, less a leading ``www.``;
- ``field:NAME``: the record's field (column) ``NAME``.

An article that lacks what was asked for gets ``--source``, else no outlet ("(unknown)").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError

CHOICES = "folder, domain or field:NAME"
FIELD = "field:"


def parse_outlet_from(value: str | None) -> str | None:
    """``value`` checked and tidied (``None`` for the default rule)."""
    if value is None:
        return None
    v = value.strip()
    if v in ("folder", "domain"):
        return v
    if v.startswith(FIELD) and v[len(FIELD):].strip():
        return FIELD + v[len(FIELD):].strip()
    raise InputError(f"--outlet-from must be {CHOICES}, got {value!r}")


def field_of(outlet_from: str | None) -> str | None:
    """The record field ``field:NAME`` asks for, else None."""
    if outlet_from and outlet_from.startswith(FIELD):
        return outlet_from[len(FIELD):]
    return None


def domain(url: str | None) -> str | None:
    """``https://www.Example.com/a`` -> ``example.com``; None without a host."""
    if not url or not url.strip():
        return None
    u = url.strip()
    try:
        host = urlsplit(u if "//" in u else "//" + u).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.") or None


def field_value(value: Any) -> str | None:
    """A record field as outlet text (dates as ISO text); None when empty or binary."""
    if value is None or isinstance(value, bytes):
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.strip() or None


def choose(outlet_from: str | None, known: dict[str, Any], folder: str | None,
           source: str | None, is_file: bool) -> str | None:
    """The outlet of one article. ``known`` holds what the article carries (``source``,
    ``url``, ``field:NAME``); ``folder`` is the name of the folder holding its file."""
    if outlet_from is None:
        return known.get("source") or source or (folder if is_file else None)
    if outlet_from == "folder":
        found = folder
    elif outlet_from == "domain":
        found = domain(known.get("url"))
    else:
        found = known.get(outlet_from)
    return found or source or None

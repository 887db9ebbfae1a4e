"""Machine formats: JSON, JSON Lines and the corpus's TSV (one row per span)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..corpus import format_labels
from ..errors import PropscopeError, error_record
from ..ids import check_tsv_id
from ..results import Result


def _record(item: Result | PropscopeError) -> dict:
    return item.to_dict() if isinstance(item, Result) else {"error": error_record(item)}


def _dumps(data: object, indent: int | None = None) -> str:
    """JSON as UTF-8 text, with U+2028/U+2029 escaped: some readers split lines on them."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_json(items: Sequence[Result | PropscopeError]) -> str:
    rows = [_record(r) for r in items]
    return _dumps(rows[0] if len(rows) == 1 else rows, indent=2) + "\n"


def render_jsonl(items: Sequence[Result | PropscopeError]) -> str:
    return "".join(_dumps(_record(r)) + "\n" for r in items)


def render_ptc(items: Sequence[Result | PropscopeError]) -> str:
    """One TSV row per span; an id holding a tab or line break is refused (never escaped)."""
    results = [r for r in items if isinstance(r, Result)]
    for r in results:
        check_tsv_id(r.article.id)
    rows = [(r.article.id, s) for r in results for s in r.spans]
    return format_labels(rows)

"""Machine formats: JSON, JSON Lines and the corpus's TSV (one row per span)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..core import Result
from ..corpus import format_labels
from ..errors import PropscopeError


def error_record(err: PropscopeError) -> dict:
    return {"error": {"code": err.code, "message": str(err), "input": err.where}}


def render_json(items: Sequence[Result | PropscopeError]) -> str:
    rows = [r.to_dict() if isinstance(r, Result) else error_record(r) for r in items]
    return json.dumps(rows[0] if len(rows) == 1 else rows, ensure_ascii=False, indent=2) + "\n"


def render_jsonl(items: Sequence[Result | PropscopeError]) -> str:
    return "".join(
        json.dumps(r.to_dict() if isinstance(r, Result) else error_record(r),
                   ensure_ascii=False) + "\n"
        for r in items
    )


def render_ptc(items: Sequence[Result | PropscopeError]) -> str:
    rows = [(r.article.id, s) for r in items if isinstance(r, Result) for s in r.spans]
    return format_labels(rows)

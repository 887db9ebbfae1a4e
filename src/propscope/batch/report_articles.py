"""The report's view of single articles: the per-article table, top phrases in context,
and listed articles as ``Result``s for their highlighted pages (``render/html.py``).

Every function takes the report's DuckDB connection (views ``ok`` and ``spans``, see
``report._connect``). Folders written before propscope kept the article text (column
``text``) get no context and no highlighted pages.
"""

from __future__ import annotations

import re
from typing import Any

from ..results import Result, Sentence, SpanRole
from ..sentences import sentence_techniques, split_sentences
from ..spans import Article, Span
from ..words import FUNCTION_WORDS, is_function_words
from .work import SLUGS

#: Techniques named per article in the table.
TOP_TECHNIQUES = 3
#: Characters of context on each side of a phrase's example.
CONTEXT = 70


def _rows(con, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def has_text(con) -> bool:
    """Whether the folder's article rows carry their text."""
    return "text" in {d[0] for d in con.execute("SELECT * FROM ok LIMIT 0").description}


def article_table(con, limit: int | None) -> list[dict[str, Any]]:
    """Analysed articles, most flagged first (share of sentences flagged, then spans, then
    id): outlet, date, title, url, counts, shares and the most used techniques."""
    counts = ", ".join(f"n_{c}" for c in SLUGS.values())
    cap = f"LIMIT {int(limit)}" if limit is not None else ""
    rows = _rows(con, f"""
        SELECT id, outlet, date, title, url, words, sentences, flagged_sentences, spans,
               propaganda_share,
               CASE WHEN sentences > 0 THEN flagged_sentences / sentences ELSE 0.0 END
                   AS flagged_share, {counts}
        FROM ok ORDER BY flagged_share DESC, spans DESC, id {cap}""")
    for row in rows:
        used = [(t, row.pop(f"n_{c}") or 0) for t, c in SLUGS.items()]
        ranked = sorted((u for u in used if u[1]), key=lambda u: (-u[1], u[0]))
        row["top_techniques"] = [{"technique": t, "count": n}
                                 for t, n in ranked[:TOP_TECHNIQUES]]
    return rows


def _sql_list(values: set[str] | frozenset[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values)) + "]"


def top_phrases(con, top: int) -> list[dict[str, Any]]:
    """The ``top`` most frequent span texts per technique (lower-cased, whitespace
    collapsed), leaving out those made only of function words or punctuation, each with
    its first occurrence (``article_id``, ``start``, ``end``)."""
    # the same words as ``words.words``: letters, digits, _, ' and -, with # or @ in front
    return _rows(con, f"""
        WITH s AS (
            SELECT technique, lower(trim(regexp_replace(text, '\\s+', ' ', 'g'))) AS phrase,
                   outlet, article_id, start, "end" FROM spans),
        p AS (
            SELECT technique, phrase, count(*) AS count, count(DISTINCT outlet) AS outlets,
                   first(article_id ORDER BY article_id, start) AS article_id,
                   first(start ORDER BY article_id, start) AS start,
                   first("end" ORDER BY article_id, start) AS "end"
            FROM s
            WHERE NOT list_has_all({_sql_list(FUNCTION_WORDS)}, regexp_extract_all(
                replace(phrase, '’', ''''), '[#@]?[\\p{{L}}\\p{{N}}_''-]+'))
            GROUP BY 1, 2),
        r AS (SELECT *, row_number() OVER (PARTITION BY technique
                                           ORDER BY count DESC, phrase) AS rank FROM p)
        SELECT technique, phrase, count, outlets, article_id, start, "end" FROM r
        WHERE rank <= {int(top)} ORDER BY technique, count DESC, phrase""")


def context(text: str, start: int, end: int, width: int = CONTEXT) -> dict[str, str]:
    """The phrase at ``[start, end)`` with up to ``width`` characters on each side, cut at
    whole words and kept within its line; whitespace collapsed, cuts marked with an
    ellipsis."""
    line_a = text.rfind("\n", 0, start) + 1
    line_b = text.find("\n", end)
    line_b = len(text) if line_b < 0 else line_b
    a, b = max(line_a, start - width), min(line_b, end + width)
    if a > line_a and not text[a - 1].isspace():  # a cut word: start after it
        cut = re.search(r"\s", text[a:start])
        a = a + cut.end() if cut else a
    if b < line_b and not text[b].isspace():
        cut = re.search(r"\s\S*$", text[end:b])
        b = end + cut.start() if cut else b

    def tidy(s: str) -> str:
        return re.sub(r"\s+", " ", s)

    return {"before": ("…" if a > line_a else "") + tidy(text[a:start]).lstrip(),
            "match": tidy(text[start:end]),
            "after": tidy(text[end:b]).rstrip() + ("…" if b < line_b else "")}


def add_contexts(con, phrases: list[dict[str, Any]]) -> None:
    """Give each phrase row its ``example`` in context (None without stored text); drop
    the row's occurrence columns."""
    ids = sorted({p["article_id"] for p in phrases})
    texts = dict(con.execute("SELECT id, text FROM ok WHERE list_contains(?, id)",
                             [ids]).fetchall()) if ids and has_text(con) else {}
    for p in phrases:
        aid, a, b = p.pop("article_id"), p.pop("start"), p.pop("end")
        text = texts.get(aid)
        p["example"] = ({"article_id": aid, **context(text, a, b)}
                        if text and 0 <= a < b <= len(text) else None)


def clean_phrases(phrases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rule as ``words.is_function_words`` applied once more in Python (SQL's
    word pattern is close to Python's, not identical)."""
    return [p for p in phrases if not is_function_words(p["phrase"])]


def article_results(con, ids: list[str], model: dict[str, Any]) -> list[Result]:
    """The listed articles (in ``ids`` order) as Results rebuilt from the folder: text,
    metadata, spans and sentences. Articles without stored text are left out."""
    if not ids or not has_text(con):
        return []
    arts = {r["id"]: r for r in _rows(
        con, "SELECT id, text, title, outlet, url, date FROM ok WHERE list_contains(?, id) "
        "AND text IS NOT NULL", [ids])}
    spans: dict[str, list[Span]] = {}
    roles: dict[str, list[SpanRole | None]] = {}
    cols = {r[0] for r in con.execute("DESCRIBE spans").fetchall()}
    extra = ", ".join(c if c in cols else f"NULL AS {c}" for c in ("voice", "speaker",
                                                                    "targets"))
    for aid, a, b, tech, score, voice, speaker, targets in con.execute(
            f'SELECT article_id, start, "end", technique, score, {extra} FROM spans '
            'WHERE list_contains(?, article_id) ORDER BY article_id, start, "end"',
            [ids]).fetchall():
        spans.setdefault(aid, []).append(Span(a, b, tech, score))
        roles.setdefault(aid, []).append(SpanRole.from_dict(
            {"voice": voice, "speaker": speaker, "targets": targets}) if voice else None)
    out = []
    for aid in ids:
        r = arts.get(aid)
        if r is None:
            continue
        art = Article(aid, r["text"], title=r["title"], source=r["outlet"], url=r["url"],
                      date=r["date"])
        found = spans.get(aid, [])
        sentences = [Sentence(a, b, sorted(t)) for a, b, t in
                     sentence_techniques(split_sentences(art.text), found)]
        known = roles.get(aid, [])
        out.append(Result(art, found, sentences, dict(model),
                          roles=[r for r in known if r] if known and all(known) else []))
    return out

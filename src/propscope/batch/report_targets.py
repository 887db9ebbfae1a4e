"""Voices and targets in the outlet report: per outlet, the share of spans in the author's
own voice; the entities each outlet targets most, by technique; and the entities targeted
by several outlets, side by side. Plain data from DuckDB over the ``spans`` view (its
``voice`` and ``targets`` columns; folders written before them give empty sections), and
their HTML."""

from __future__ import annotations

from typing import Any

from ..techniques import TECHNIQUES
from .report_charts import cell, heat_cell, table

VOICES = ("author", "quoted", "attributed")


def span_columns(con) -> set[str]:
    return {r[0] for r in con.execute("DESCRIBE spans").fetchall()}


def outlet_voices(con) -> dict[str, dict[str, Any]]:
    """Outlet -> spans per voice and ``author_share`` (spans in the author's own voice /
    spans whose voice is known; None when none is)."""
    if "voice" not in span_columns(con):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for outlet, voice, n in con.execute(
            "SELECT outlet, voice, count(*) FROM spans WHERE voice IS NOT NULL "
            "GROUP BY 1, 2").fetchall():
        out.setdefault(outlet, {v: 0 for v in VOICES})[voice] = n
    for row in out.values():
        known = sum(row[v] for v in VOICES)
        row["author_share"] = row["author"] / known if known else None
    return out


def _target_rows(con) -> list[tuple[str, str, str, str, int, int]]:
    """(outlet, technique, entity, type, spans, articles): one span counts once per entity
    it targets, however many mentions it aims at."""
    if "targets" not in span_columns(con):
        return []
    return con.execute("""
        WITH t AS (SELECT DISTINCT outlet, article_id, start, "end", technique,
                          u.t.entity AS entity, u.t.type AS type
                   FROM spans, unnest(targets) AS u(t) WHERE targets IS NOT NULL)
        SELECT outlet, technique, entity, mode(type) AS type, count(*) AS spans,
               count(DISTINCT article_id) AS articles
        FROM t GROUP BY 1, 2, 3 ORDER BY 1, 3, 2""").fetchall()


def targets_report(con, top: int = 10) -> dict[str, Any]:
    """``top_targets``: outlet -> its ``top`` most targeted entities (spans, articles,
    spans per technique); ``shared_targets``: entities targeted by two or more outlets,
    with the spans of each outlet (most outlets, then most spans, first)."""
    rows = _target_rows(con)
    per: dict[str, dict[str, dict[str, Any]]] = {}
    for outlet, tech, entity, kind, spans, articles in rows:
        e = per.setdefault(outlet, {}).setdefault(entity, {
            "entity": entity, "type": kind, "spans": 0, "articles": 0, "techniques": {}})
        e["spans"] += spans
        e["articles"] = max(e["articles"], articles)
        e["techniques"][tech] = spans
    if rows:  # articles per entity counted over all of its techniques at once
        for outlet, entity, articles in con.execute("""
                SELECT outlet, u.t.entity, count(DISTINCT article_id)
                FROM spans, unnest(targets) AS u(t) WHERE targets IS NOT NULL
                GROUP BY 1, 2""").fetchall():
            per[outlet][entity]["articles"] = articles
    top_targets = {o: sorted(es.values(), key=lambda e: (-e["spans"], e["entity"]))[:top]
                   for o, es in sorted(per.items())}
    entities: dict[str, dict[str, Any]] = {}
    for outlet, es in per.items():
        for name, e in es.items():
            row = entities.setdefault(name, {"entity": name, "type": e["type"], "outlets": {},
                                             "spans": 0})
            row["outlets"][outlet] = e["spans"]
            row["spans"] += e["spans"]
    shared = sorted((e for e in entities.values() if len(e["outlets"]) >= 2),
                    key=lambda e: (-len(e["outlets"]), -e["spans"], e["entity"]))
    return {"top_targets": top_targets, "shared_targets": shared[:50]}


def _label(technique: str) -> str:
    return TECHNIQUES[technique].label if technique in TECHNIQUES else technique


def targets_html(data: dict[str, Any]) -> list[str]:
    """The report's "Voices and targets" section (nothing for folders without them)."""
    outlets = [o for o in data["outlets"] if o.get("voices")]
    if not outlets and not data.get("top_targets"):
        return []
    parts = ["<h2>Whose voice, and who is targeted</h2>",
             "<p>A span inside quotation marks is <i>quoted</i>; one in reported speech of a "
             "named speaker (\"X said ...\", a \"Name – Title:\" label) is <i>attributed</i>; "
             "the rest is the outlet's own voice. An outlet that quotes a propagandist is not "
             "one that writes like one.</p>"]
    rows = [[cell(o["outlet"]), cell(sum(o["voices"][v] for v in VOICES)),
             cell(o["voices"]["author"]), cell(o["voices"]["quoted"]),
             cell(o["voices"]["attributed"]),
             cell(None if o["voices"]["author_share"] is None
                  else 100 * o["voices"]["author_share"], ".1f")] for o in outlets]
    if rows:
        parts.append(table(["outlet", "spans", "author's voice", "quoted", "attributed",
                            "% in the author's own voice"], rows))
    if data.get("top_targets"):
        parts.append("<h3>Most targeted, per outlet</h3>")
        rows = [[cell(o), cell(e["entity"]), cell(e["type"]), cell(e["spans"]),
                 cell(e["articles"]),
                 cell(", ".join(f"{_label(t)} {n}" for t, n in sorted(
                     e["techniques"].items(), key=lambda kv: -kv[1])))]
                for o, es in data["top_targets"].items() for e in es]
        parts.append(table(["outlet", "entity", "type", "spans", "articles", "techniques"],
                           rows))
    shared = data.get("shared_targets") or []
    if shared:
        names = sorted({o for e in shared for o in e["outlets"]})[:12]
        peak = max((n for e in shared for n in e["outlets"].values()), default=0)
        parts.append("<h3>Targeted by several outlets</h3><p>Spans aimed at each entity, by "
                     "outlet; the darker, the more.</p>")
        rows = [[cell(e["entity"]), cell(e["type"])]
                + [heat_cell(e["outlets"].get(o, 0), peak, "d") for o in names]
                for e in shared]
        parts.append(table(["entity", "type"] + names, rows))
    return parts


METHOD = ("Voice: quoted (inside quotation marks), attributed (reported speech of a named "
          "speaker, or a paragraph's speaker label) or the author's own; the author's share "
          "is over the spans whose voice is known. Targets: the people, organisations, "
          "places and groups that spans of targeting techniques (name calling, loaded "
          "language, appeal to fear, reductio ad Hitlerum, doubt, whataboutism) aim at, "
          "found by spaCy; mentions of one entity in an article are merged, and one span "
          "counts once per entity.")

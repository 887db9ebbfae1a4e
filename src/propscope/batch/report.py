"""Outlet comparison from a batch folder: DuckDB aggregates as plain data.

``build_report(DIR)`` returns what ``--format json`` prints; ``report_html`` turns it into
one self-contained HTML page. Only analysed articles (no error) count towards rates;
failed ones are listed on their own. ``report_articles`` holds the per-article parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import PropscopeError
from ..results import Result
from ..techniques import TECHNIQUE_NAMES
from . import report_articles, report_targets
from .outlets import field_of

UNKNOWN = "(unknown)"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _rows(con, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _connect(folder: Path):
    try:
        import duckdb
    except ImportError:
        raise PropscopeError("the report needs DuckDB: pip install 'propscope[batch]'") from None
    arts = sorted((folder / "articles").glob("part-*.parquet"))
    if not arts:
        raise PropscopeError("no batch output here (no articles/part-*.parquet); run "
                             "`propscope batch ... --out DIR` first", where=str(folder))
    names = {p.name for p in arts}
    spans = sorted(p for p in (folder / "spans").glob("part-*.parquet") if p.name in names)
    con = duckdb.connect()
    files = ", ".join(_sql_str(str(p)) for p in arts)
    # union_by_name: parts written before a column was added (text_hash) lack it
    con.execute(f"CREATE VIEW articles AS SELECT * FROM read_parquet([{files}], "
                "union_by_name = true)")
    con.execute("CREATE VIEW ok AS SELECT *, coalesce(source, " + _sql_str(UNKNOWN)
                + ") AS outlet FROM articles WHERE error IS NULL")
    if spans:
        sfiles = ", ".join(_sql_str(str(p)) for p in spans)
        # union_by_name: parts written before voice, speaker and targets lack them
        con.execute("CREATE VIEW spans AS SELECT s.*, ok.outlet FROM read_parquet(["
                    f"{sfiles}], union_by_name = true) s JOIN ok ON s.article_id = ok.id")
    else:
        con.execute("CREATE VIEW spans AS SELECT NULL::VARCHAR AS article_id, 0::BIGINT AS "
                    "start, 0::BIGINT AS \"end\", NULL::VARCHAR AS technique, 0.0 AS score, "
                    "NULL::VARCHAR AS text, NULL::VARCHAR AS outlet WHERE false")
    return con


def _add_rates(row: dict) -> None:
    """Spans per 1,000 words and the share of flagged sentences of an aggregate row."""
    row["spans_per_1k_words"] = _per_1k(row["spans"], row["words"])
    row["flagged_sentence_share"] = (row["flagged_sentences"] / row["sentences"]
                                     if row["sentences"] else 0.0)


def _per_1k(n: float | None, words: float | None) -> float:
    return 1000.0 * (n or 0) / words if words else 0.0


def build_report(folder: str | Path, top: int = 10, articles: int | None = 200
                 ) -> dict[str, Any]:
    """Aggregates of a batch output folder (plain data, JSON-ready): ``top`` phrases per
    technique, and the ``articles`` most flagged articles (None: all) in a table."""
    folder = Path(folder)
    from .store import RunStore

    manifest: dict[str, Any] = RunStore(folder).read_manifest() or {}  # a dead run: interrupted
    con = _connect(folder)
    ov = _overview(con)
    outlets = _outlets(con)
    totals_by_technique = dict(con.execute(
        "SELECT technique, count(*) FROM spans GROUP BY 1").fetchall())
    cfg = manifest.get("config", {}).get("output", {})
    return {
        "folder": str(folder),
        "model": manifest.get("model") or {},
        "threshold": cfg.get("threshold"),
        "techniques_selected": cfg.get("techniques"),
        "run_status": manifest.get("status"),
        "propscope_version": manifest.get("propscope_version"),
        "overview": ov,
        "techniques": {t: {"count": totals_by_technique.get(t, 0),
                           "per_1k_words": _per_1k(totals_by_technique.get(t, 0), ov["words"])}
                       for t in TECHNIQUE_NAMES},
        "outlets": outlets,
        "by_month": _by_month(con),
        "top_phrases": _top_phrases(con, top),
        **report_targets.targets_report(con, top),
        "articles": report_articles.article_table(con, articles),
        "text_kept": report_articles.has_text(con),
        "outlet_from": cfg.get("outlet_from"),
        "warnings": outlet_warnings(ov, outlets, cfg.get("outlet_from")),
        "errors": _errors(con),
        "method": METHOD,
    }


def _overview(con: Any) -> dict[str, Any]:
    ov = _rows(con, """
        SELECT (SELECT count(*) FROM articles) AS articles,
               (SELECT count(*) FROM articles WHERE error IS NOT NULL) AS errors,
               count(*) AS analysed, sum(words) AS words, sum(sentences) AS sentences,
               sum(flagged_sentences) AS flagged_sentences, sum(spans) AS spans,
               count(DISTINCT outlet) AS outlets, min(month) AS first_month,
               max(month) AS last_month, count(month) AS dated
        FROM ok""")[0]
    ov = {k: (v if v is not None else 0) if k not in ("first_month", "last_month") else v
          for k, v in ov.items()}
    _add_rates(ov)
    return ov


def _outlets(con: Any) -> list[dict[str, Any]]:
    """One row per outlet: counts, rates, voices and technique counts (outlets whose every
    article failed included)."""
    outlets = _rows(con, """
        SELECT outlet, count(*) AS articles, sum(words) AS words, sum(sentences) AS sentences,
               sum(flagged_sentences) AS flagged_sentences, sum(spans) AS spans,
               avg(propaganda_share) AS mean_propaganda_share
        FROM ok GROUP BY outlet ORDER BY articles DESC, outlet""")
    errs = dict(con.execute("SELECT coalesce(source, " + _sql_str(UNKNOWN) + "), count(*) "
                            "FROM articles WHERE error IS NOT NULL GROUP BY 1").fetchall())
    counts = {(o, t): n for o, t, n in con.execute(
        "SELECT outlet, technique, count(*) FROM spans GROUP BY 1, 2").fetchall()}
    voices = report_targets.outlet_voices(con)
    for row in outlets:
        row["errors"] = errs.get(row["outlet"], 0)
        row["voices"] = voices.get(row["outlet"])
        _add_rates(row)
        row["techniques"] = {
            t: {"count": counts.get((row["outlet"], t), 0),
                "per_1k_words": _per_1k(counts.get((row["outlet"], t), 0), row["words"])}
            for t in TECHNIQUE_NAMES}
    for o, n in errs.items():  # outlets whose every article failed
        if o not in {r["outlet"] for r in outlets}:
            outlets.append({"outlet": o, "articles": 0, "words": 0, "sentences": 0,
                            "flagged_sentences": 0, "spans": 0, "mean_propaganda_share": None,
                            "errors": n, "spans_per_1k_words": 0.0,
                            "flagged_sentence_share": 0.0, "voices": None,
                            "techniques": {t: {"count": 0, "per_1k_words": 0.0}
                                           for t in TECHNIQUE_NAMES}})
    return outlets


def _by_month(con: Any) -> list[dict[str, Any]]:
    rows = _rows(con, """
        SELECT month, outlet, count(*) AS articles, sum(words) AS words,
               sum(sentences) AS sentences, sum(flagged_sentences) AS flagged_sentences,
               sum(spans) AS spans
        FROM ok WHERE month IS NOT NULL GROUP BY month, outlet ORDER BY month, outlet""")
    for row in rows:
        _add_rates(row)
    return rows


def _top_phrases(con: Any, top: int) -> dict[str, list[dict[str, Any]]]:
    phrases = report_articles.top_phrases(con, top)
    report_articles.add_contexts(con, phrases)
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TECHNIQUE_NAMES}
    for row in report_articles.clean_phrases(phrases):
        out.setdefault(row.pop("technique"), []).append(row)
    return out


def _errors(con: Any) -> list[dict[str, Any]]:
    """The 50 commonest problems, each with its count and one input that had it."""
    return _rows(con, """
        WITH e AS (SELECT CASE WHEN starts_with(error, input || ': ')
                               THEN substr(error, length(input) + 3) ELSE error END AS problem,
                          input FROM articles WHERE error IS NOT NULL)
        SELECT problem, count(*) AS count, min(input) AS example FROM e
        GROUP BY problem ORDER BY count DESC, problem LIMIT 50""")


#: Where outlets came from, by ``--outlet-from`` (``outlets``), for the report's words.
OUTLET_RULES = {
    None: "each record's source field, else --source, else the folder holding each file",
    "folder": "the folder holding each file",
    "domain": "the domain of each article's url",
}


def outlet_warnings(ov: dict[str, Any], outlets: list[dict[str, Any]],
                    outlet_from: str | None) -> list[str]:
    """A warning when every analysed article falls under one outlet: the comparison of
    outlets then compares nothing, often because a folder's name became the outlet."""
    if ov["analysed"] < 2 or ov["outlets"] != 1:
        return []
    name = next(o["outlet"] for o in outlets if o["articles"])
    rule = OUTLET_RULES.get(outlet_from) or f"the field {field_of(outlet_from)}"
    return [f'Every article falls under one outlet, "{name}" (outlets came from {rule}), so '
            "the outlets compared below are one. To tell outlets apart, run `propscope "
            "batch` again into a new --out folder with --outlet-from folder, domain or "
            "field:NAME."]


def article_views(folder: str | Path, ids: list[str], model: dict[str, Any]) -> list[Result]:
    """The articles ``ids`` of a batch folder as Results (text, spans, sentences), for
    their highlighted pages; articles whose text was not kept are left out."""
    return report_articles.article_results(_connect(Path(folder)), ids, model)


METHOD = [
    "Each article was analysed by the model named above; a span is a stretch of text the "
    "model marks with one of the 14 PTC techniques at or above the threshold.",
    "Spans per 1,000 words = spans found in an outlet's analysed articles / the words in "
    "those articles (whitespace-separated tokens) x 1,000.",
    "Share of sentences with propaganda = sentences that overlap at least one span / all "
    "sentences; sentences are found inside each line by a sentence splitter (pySBD) that "
    "knows abbreviations and quotes.",
    "Articles that could not be analysed (error rows) are left out of every rate and "
    "counted on their own. Articles without an outlet are grouped as (unknown).",
    "Months come from each article's date (ISO 8601 or RFC 2822); articles without a "
    "readable date are left out of the by-month view only.",
    "Top phrases: span texts lower-cased with whitespace collapsed, counted per technique; "
    "phrases made only of function words (the, if, and, ...) or punctuation are left out. "
    "Each is shown in context at its first occurrence.",
    "Articles: listed by share of sentences flagged, most first.",
    report_targets.METHOD,
    "These are model predictions, not human annotations: compare outlets relatively, and "
    "read examples before drawing conclusions about any one outlet.",
]

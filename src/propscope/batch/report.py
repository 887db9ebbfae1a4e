"""Outlet comparison from a batch folder: DuckDB aggregates, as data or a self-contained HTML.

``build_report(DIR)`` returns plain data (what ``--format json`` prints);
``render_report_html(data)`` turns it into one HTML file with inline PNG charts and
sortable tables. Only analysed articles (no error) count towards rates; failed ones are
listed on their own.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from ..errors import PropscopeError
from ..techniques import TECHNIQUE_NAMES, TECHNIQUES

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
        con.execute("CREATE VIEW spans AS SELECT s.*, ok.outlet FROM read_parquet(["
                    f"{sfiles}]) s JOIN ok ON s.article_id = ok.id")
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


def build_report(folder: str | Path, top: int = 10) -> dict[str, Any]:
    """Aggregates of a batch output folder (plain data, JSON-ready)."""
    folder = Path(folder)
    from .store import Store

    manifest: dict[str, Any] = Store(folder).read_manifest() or {}  # a dead run: interrupted
    con = _connect(folder)

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

    outlets = _rows(con, """
        SELECT outlet, count(*) AS articles, sum(words) AS words, sum(sentences) AS sentences,
               sum(flagged_sentences) AS flagged_sentences, sum(spans) AS spans,
               avg(propaganda_share) AS mean_propaganda_share
        FROM ok GROUP BY outlet ORDER BY articles DESC, outlet""")
    errs = dict(con.execute("SELECT coalesce(source, " + _sql_str(UNKNOWN) + "), count(*) "
                            "FROM articles WHERE error IS NOT NULL GROUP BY 1").fetchall())
    counts = {(o, t): n for o, t, n in con.execute(
        "SELECT outlet, technique, count(*) FROM spans GROUP BY 1, 2").fetchall()}
    techniques = [t for t in TECHNIQUE_NAMES]
    for row in outlets:
        row["errors"] = errs.get(row["outlet"], 0)
        _add_rates(row)
        row["techniques"] = {
            t: {"count": counts.get((row["outlet"], t), 0),
                "per_1k_words": _per_1k(counts.get((row["outlet"], t), 0), row["words"])}
            for t in techniques}
    for o, n in errs.items():  # outlets whose every article failed
        if o not in {r["outlet"] for r in outlets}:
            outlets.append({"outlet": o, "articles": 0, "words": 0, "sentences": 0,
                            "flagged_sentences": 0, "spans": 0, "mean_propaganda_share": None,
                            "errors": n, "spans_per_1k_words": 0.0,
                            "flagged_sentence_share": 0.0,
                            "techniques": {t: {"count": 0, "per_1k_words": 0.0}
                                           for t in techniques}})

    by_month = _rows(con, """
        SELECT month, outlet, count(*) AS articles, sum(words) AS words,
               sum(sentences) AS sentences, sum(flagged_sentences) AS flagged_sentences,
               sum(spans) AS spans
        FROM ok WHERE month IS NOT NULL GROUP BY month, outlet ORDER BY month, outlet""")
    for row in by_month:
        _add_rates(row)

    totals_by_technique = dict(con.execute(
        "SELECT technique, count(*) FROM spans GROUP BY 1").fetchall())
    phrases = _rows(con, f"""
        WITH p AS (
            SELECT technique, lower(trim(regexp_replace(text, '\\s+', ' ', 'g'))) AS phrase,
                   count(*) AS count, count(DISTINCT outlet) AS outlets
            FROM spans GROUP BY 1, 2),
        r AS (SELECT *, row_number() OVER (PARTITION BY technique
                                           ORDER BY count DESC, phrase) AS rank FROM p)
        SELECT technique, phrase, count, outlets FROM r WHERE rank <= {int(top)}
        ORDER BY technique, count DESC, phrase""")
    top_phrases: dict[str, list[dict[str, Any]]] = {t: [] for t in techniques}
    for row in phrases:
        top_phrases.setdefault(row.pop("technique"), []).append(row)

    errors = _rows(con, """
        WITH e AS (SELECT CASE WHEN starts_with(error, input || ': ')
                               THEN substr(error, length(input) + 3) ELSE error END AS problem,
                          input FROM articles WHERE error IS NOT NULL)
        SELECT problem, count(*) AS count, min(input) AS example FROM e
        GROUP BY problem ORDER BY count DESC, problem LIMIT 50""")

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
                       for t in techniques},
        "outlets": outlets,
        "by_month": by_month,
        "top_phrases": top_phrases,
        "errors": errors,
        "method": METHOD,
    }


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
    "Top phrases: span texts lower-cased with whitespace collapsed, counted per technique.",
    "These are model predictions, not human annotations: compare outlets relatively, and "
    "read examples before drawing conclusions about any one outlet.",
]


# ------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;
padding:0 1em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th.sortable{cursor:pointer;background:#f3f3f3;user-select:none}
th.sortable:after{content:" \\2195";color:#999}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;
padding:.6em 1em}.card b{display:block;font-size:1.4em}
img{max-width:100%}.muted{color:#666}.scroll{overflow-x:auto}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('th').forEach(function(th,i){
  th.classList.add('sortable');
  th.addEventListener('click',function(){
   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
   var asc=th.getAttribute('data-dir')!=='asc';
   t.querySelectorAll('th').forEach(function(h){h.removeAttribute('data-dir')});
   th.setAttribute('data-dir',asc?'asc':'desc');
   rows.sort(function(a,b){
    var x=a.cells[i].getAttribute('data-v'),y=b.cells[i].getAttribute('data-v');
    var nx=parseFloat(x),ny=parseFloat(y),r;
    if(!isNaN(nx)&&!isNaN(ny)){r=nx-ny}else{r=String(x).localeCompare(String(y))}
    return asc?r:-r});
   rows.forEach(function(r){body.appendChild(r)});
  });
 });
});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cell(value: Any, fmt: str | None = None) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = format(value, fmt) if fmt else f"{value:,}"
        return f'<td class="n" data-v="{value!r}">{_e(shown)}</td>'
    return f'<td data-v="{_e(value)}">{_e(value)}</td>'


def _table(headers: list[str], rows: list[list[str]], sortable: bool = True) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    cls = ' class="sortable"' if sortable else ""
    return (f'<div class="scroll"><table{cls}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _charts(data: dict[str, Any]) -> dict[str, str]:
    """PNG charts as <img> tags (empty when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    out: dict[str, str] = {}
    outlets = [o for o in data["outlets"] if o["words"]][:20]
    if outlets:
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(outlets) + 1.6))
        names = [o["outlet"] for o in outlets][::-1]
        left = [0.0] * len(outlets)
        for t in TECHNIQUE_NAMES:
            vals = [o["techniques"][t]["per_1k_words"] for o in outlets][::-1]
            if any(vals):
                ax.barh(names, vals, left=left, color=TECHNIQUES[t].colour,
                        edgecolor="#555", linewidth=0.4, label=TECHNIQUES[t].label)
                left = [a + b for a, b in zip(left, vals, strict=True)]
        ax.set_xlabel("spans per 1,000 words")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        ax.set_title("Techniques per 1,000 words, by outlet")
        out["outlets"] = _png(fig)

        fig, ax = plt.subplots(figsize=(9, 0.45 * len(outlets) + 1.2))
        ax.barh(names, [100 * o["flagged_sentence_share"] for o in outlets][::-1],
                color="#a5d8ff", edgecolor="#555", linewidth=0.4)
        ax.set_xlabel("% of sentences with at least one span")
        ax.set_title("Share of sentences with propaganda, by outlet")
        out["sentences"] = _png(fig)
    months = sorted({r["month"] for r in data["by_month"]})
    if len(months) >= 1 and data["by_month"]:
        fig, ax = plt.subplots(figsize=(9, 3.8))
        top = [o["outlet"] for o in outlets[:8]]
        for name in top:
            pts = {r["month"]: r["spans_per_1k_words"] for r in data["by_month"]
                   if r["outlet"] == name}
            if pts:  # positions on one shared, ordered month axis
                xs = [k for k, m in enumerate(months) if m in pts]
                ax.plot(xs, [pts[months[k]] for k in xs], marker="o", label=name)
        step = max(1, len(months) // 24)
        ax.set_xticks(range(0, len(months), step), months[::step])
        ax.set_ylabel("spans per 1,000 words")
        ax.set_title("By month (largest outlets)")
        ax.tick_params(axis="x", rotation=45)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        out["months"] = _png(fig)
    return out


def render_report_html(data: dict[str, Any]) -> str:
    """One self-contained HTML page (inline CSS, JS and PNGs); every text is escaped."""
    ov, model = data["overview"], data["model"] or {}
    charts = _charts(data)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>propscope report: {_e(data['folder'])}</title><style>{_CSS}</style></head><body>",
        "<h1>Propaganda techniques by outlet</h1>",
        f"<p class='muted'>From <code>{_e(data['folder'])}</code> "
        f"(run status: {_e(data.get('run_status') or 'unknown')}).</p>",
        "<div class='cards'>",
    ]
    for label, value in [("articles analysed", f"{ov['analysed']:,}"),
                         ("errors", f"{ov['errors']:,}"), ("outlets", f"{ov['outlets']:,}"),
                         ("words", f"{ov['words']:,}"), ("spans", f"{ov['spans']:,}"),
                         ("spans / 1,000 words", f"{ov['spans_per_1k_words']:.2f}"),
                         ("sentences with propaganda",
                          f"{100 * ov['flagged_sentence_share']:.1f}%")]:
        parts.append(f"<div class='card'><b>{_e(value)}</b>{_e(label)}</div>")
    parts.append("</div>")

    parts.append("<h2>Method</h2><ul>")
    sel = data.get("techniques_selected")
    parts.append(f"<li>Model: <b>{_e(model.get('name', 'unknown'))}</b>, version "
                 f"{_e(model.get('version', 'unknown'))}; confidence threshold "
                 f"{_e(_threshold_text(data.get('threshold')))}; techniques: "
                 f"{_e('; '.join(sel) if sel else 'all 14')}; propscope "
                 f"{_e(data.get('propscope_version'))}.</li>")
    if ov["dated"]:
        parts.append(f"<li>Dated articles: {ov['dated']:,}, from {_e(ov['first_month'])} to "
                     f"{_e(ov['last_month'])}.</li>")
    parts.extend(f"<li>{_e(m)}</li>" for m in data["method"])
    parts.append("</ul>")

    parts.append("<h2>Outlets</h2>")
    parts.append(charts.get("outlets", ""))
    parts.append(charts.get("sentences", ""))
    rows = [[_cell(o["outlet"]), _cell(o["articles"]), _cell(o["errors"]), _cell(o["words"]),
             _cell(o["spans"]), _cell(o["spans_per_1k_words"], ".2f"),
             _cell(100 * o["flagged_sentence_share"], ".1f")] for o in data["outlets"]]
    parts.append(_table(["outlet", "articles", "errors", "words", "spans",
                         "spans / 1,000 words", "% sentences with propaganda"], rows))

    shown = data["outlets"][:30]
    more = (f" The {len(shown)} outlets with the most articles are shown; the JSON output "
            "has all." if len(data["outlets"]) > len(shown) else "")
    parts.append("<h2>Outlets side by side</h2><p>Spans per 1,000 words, by technique."
                 f"{_e(more)}</p>")
    rows = []
    for t in TECHNIQUE_NAMES:
        vals = [o["techniques"][t]["per_1k_words"] for o in shown]
        peak = max(vals) if vals and max(vals) > 0 else 1.0
        cells = [_cell(TECHNIQUES[t].label)]
        for v in vals:
            shade = int(255 - 120 * v / peak)
            cells.append(f'<td class="n" data-v="{v!r}" style="background:rgb({shade},'
                         f'{shade},255)">{v:.2f}</td>')
        rows.append(cells)
    parts.append(_table(["technique"] + [o["outlet"] for o in shown], rows))

    if data["by_month"]:
        parts.append("<h2>By month</h2>")
        parts.append(charts.get("months", ""))
        rows = [[_cell(r["month"]), _cell(r["outlet"]), _cell(r["articles"]),
                 _cell(r["spans"]), _cell(r["spans_per_1k_words"], ".2f"),
                 _cell(100 * r["flagged_sentence_share"], ".1f")] for r in data["by_month"]]
        parts.append(_table(["month", "outlet", "articles", "spans", "spans / 1,000 words",
                             "% sentences with propaganda"], rows))

    parts.append("<h2>Most frequent phrases per technique</h2>")
    for t in TECHNIQUE_NAMES:
        items = data["top_phrases"].get(t) or []
        if not items:
            continue
        parts.append(f"<h3>{_e(TECHNIQUES[t].label)} "
                     f"<span class='muted'>({data['techniques'][t]['count']:,} in all)</span></h3>")
        rows = [[_cell(p["phrase"]), _cell(p["count"]), _cell(p["outlets"])] for p in items]
        parts.append(_table(["phrase", "count", "outlets"], rows))

    if data["errors"]:
        parts.append("<h2>Articles not analysed</h2>")
        rows = [[_cell(e["problem"]), _cell(e["count"]), _cell(e["example"])]
                for e in data["errors"]]
        parts.append(_table(["problem", "articles", "example"], rows))
    parts.append(f"<script>{_JS}</script></body></html>\n")
    return "\n".join(parts)


def _threshold_text(threshold: float | None) -> str:
    return "the model's reader threshold" if threshold is None else str(threshold)

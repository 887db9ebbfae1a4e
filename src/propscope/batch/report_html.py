"""The report as one self-contained HTML page (inline CSS, JS and charts; every text
escaped), and a highlighted page per listed article (``render/html.py``) next to it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputError, name_list, output_error
from ..render.html import render_html
from ..results import Result
from ..techniques import TECHNIQUE_NAMES, TECHNIQUES
from .report import OUTLET_RULES
from .report_charts import bar_chart, cell, esc, heat_cell, legend, line_chart, swatch, table
from .report_targets import targets_html

CSS = """
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
.muted{color:#666}.scroll{overflow-x:auto}
.warn{border:2px solid #e8590c;background:#fff4e6;border-radius:6px;padding:.6em 1em}
.chart{margin:1em 0;max-width:760px}.chart figcaption{font-weight:600;margin-bottom:.4em}
.bar{display:grid;grid-template-columns:minmax(5em,14em) 1fr 4.5em;gap:.1em .6em;
align-items:center;margin:.3em 0}.bar .label{overflow-wrap:anywhere}
.bar .track{display:flex;height:1.1em;background:#f1f3f5;border-radius:3px;overflow:hidden}
.bar .seg{height:100%}.bar .v{text-align:right;font-variant-numeric:tabular-nums}
svg.line{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.88em;margin:.4em 0}
.sw{display:inline-block;width:.85em;height:.85em;border-radius:2px;margin-right:.3em;
vertical-align:-.05em;border:1px solid #0003}
td.ctx mark{background:#ffe066;padding:0 .1em}.nw{white-space:nowrap}
td.ctx{min-width:16em}
@media (max-width:600px){body{margin:1em auto}.bar{grid-template-columns:1fr auto}
.bar .label{grid-column:1/-1}.bar .track{grid-column:1}table{font-size:.85em}}
"""

JS = """
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


def page_name(aid: str) -> str:
    """A file name for an article's page: readable, safe, and distinct per id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", aid).strip("._")[:60] or "article"
    return f"{readable}-{hashlib.sha1(aid.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}.html"


PAGE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*-[0-9a-f]{8}\.html")
BACK = "back to the report"
PAGE_START = '<!doctype html><html lang="en"><head><meta charset="utf-8">'
PAGE_MARK = f">{BACK}</a></p><h1>"  # the link above the title, in each article page


def is_article_page(path: Path) -> bool:
    """Whether ``path`` is an article page a report wrote (``write_article_pages``): a
    plain file (not a link) with a page's name, starting as a page does and linking back
    to its report above the title."""
    if not PAGE_NAME.fullmatch(path.name) or path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(1 << 20)
    except OSError:
        return False
    return head.startswith(PAGE_START) and PAGE_MARK in head


def check_pages_folder(dest: Path) -> None:
    """Refuse (one line) a pages folder where writing the pages could replace something
    that is not an earlier report's page: a file in its place, or a folder holding
    anything but article pages (hidden files, which no page is named like, are left be).
    A new folder, or one of earlier pages (replaced as they are written), passes."""
    if dest.is_symlink() and not dest.exists():
        raise OutputError("the report's pages go in a folder of this name, and it is a "
                          "broken link; give --out another name", where=str(dest))
    if dest.exists() and not dest.is_dir():
        raise OutputError("the report's pages go in a folder of this name, and it is a "
                          "file; give --out another name", where=str(dest))
    if not dest.exists():
        return
    try:
        others = sorted(e.name for e in dest.iterdir()
                        if not e.name.startswith(".") and not is_article_page(e))
    except OSError as e:
        raise output_error(str(dest), e) from None
    if others:
        raise OutputError("the report's pages folder holds files that are not propscope's "
                          f"article pages ({name_list(others, 5)}); move them, or give --out "
                          "another name", where=str(dest))


def write_article_pages(results: list[Result], dest: Path, back: str) -> dict[str, str]:
    """One highlighted page per result in ``dest``; returns each id's link relative to
    the folder holding ``dest`` (where the report is). ``back`` links to the report.
    A folder ``check_pages_folder`` refuses is refused before a page is written."""
    links = {}
    check_pages_folder(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for r in results:
            name = page_name(r.article.id)
            page = render_html([r], title=r.article.title or r.article.id,
                               back=(f"../{back}", BACK))
            (dest / name).write_text(page, encoding="utf-8")
            links[r.article.id] = f"{dest.name}/{name}"
    except OSError as e:
        raise output_error(str(dest), e) from None
    return links


def _overview(data: dict[str, Any]) -> list[str]:
    ov, model = data["overview"], data["model"] or {}
    parts = ["<div class='cards'>"]
    for label, value in [("articles analysed", f"{ov['analysed']:,}"),
                         ("errors", f"{ov['errors']:,}"), ("outlets", f"{ov['outlets']:,}"),
                         ("words", f"{ov['words']:,}"), ("spans", f"{ov['spans']:,}"),
                         ("spans / 1,000 words", f"{ov['spans_per_1k_words']:.2f}"),
                         ("sentences with propaganda",
                          f"{100 * ov['flagged_sentence_share']:.1f}%")]:
        parts.append(f"<div class='card'><b>{esc(value)}</b>{esc(label)}</div>")
    parts.append("</div>")
    parts += [f"<p class='warn'>{esc(w)}</p>" for w in data.get("warnings") or []]
    parts.append("<h2>Method</h2><ul>")
    sel = data.get("techniques_selected")
    parts.append(f"<li>Model: <b>{esc(model.get('name', 'unknown'))}</b>, version "
                 f"{esc(model.get('version', 'unknown'))}; confidence threshold "
                 f"{esc(_threshold_text(data.get('threshold')))}; techniques: "
                 f"{esc('; '.join(sel) if sel else 'all 14')}; propscope "
                 f"{esc(data.get('propscope_version'))}.</li>")
    how = data.get("outlet_from")
    parts.append(f"<li>Outlets come from {esc(OUTLET_RULES.get(how) or how)} "
                 "(<code>propscope batch --outlet-from</code>).</li>")
    if ov["dated"]:
        parts.append(f"<li>Dated articles: {ov['dated']:,}, from {esc(ov['first_month'])} to "
                     f"{esc(ov['last_month'])}.</li>")
    parts.extend(f"<li>{esc(m)}</li>" for m in data["method"])
    parts.append("</ul>")
    return parts


def _outlets(data: dict[str, Any]) -> list[str]:
    outlets = [o for o in data["outlets"] if o["words"]][:20]
    parts = ["<h2>Outlets</h2>"]
    if outlets:
        totals = [sum(o["techniques"][t]["per_1k_words"] for t in TECHNIQUE_NAMES)
                  for o in outlets]
        rows = [(o["outlet"], [(o["techniques"][t]["per_1k_words"], TECHNIQUES[t].colour,
                                f"{TECHNIQUES[t].label}: {o['techniques'][t]['per_1k_words']:.2f}")
                               for t in TECHNIQUE_NAMES], f"{total:.1f}")
                for o, total in zip(outlets, totals, strict=True)]
        parts.append(bar_chart("Techniques per 1,000 words, by outlet", rows, max(totals)))
        used = [t for t in TECHNIQUE_NAMES if any(o["techniques"][t]["count"] for o in outlets)]
        parts.append(legend([(TECHNIQUES[t].label, TECHNIQUES[t].colour) for t in used]))
        rows = [(o["outlet"], [(100 * o["flagged_sentence_share"], "#4dabf7", "")],
                 f"{100 * o['flagged_sentence_share']:.1f}%") for o in outlets]
        parts.append(bar_chart("Share of sentences with propaganda, by outlet (0-100%)",
                               rows, 100.0))
    rows = [[cell(o["outlet"]), cell(o["articles"]), cell(o["errors"]), cell(o["words"]),
             cell(o["spans"]), cell(o["spans_per_1k_words"], ".2f"),
             cell(100 * o["flagged_sentence_share"], ".1f")] for o in data["outlets"]]
    parts.append(table(["outlet", "articles", "errors", "words", "spans",
                        "spans / 1,000 words", "% sentences with propaganda"], rows))
    shown = data["outlets"][:30]
    more = (f" The {len(shown)} outlets with the most articles are shown; the JSON output "
            "has all." if len(data["outlets"]) > len(shown) else "")
    parts.append("<h2>Outlets side by side</h2><p>Spans per 1,000 words, by technique; "
                 f"the darker, the more (one scale for the whole table).{esc(more)}</p>")
    values = [o["techniques"][t]["per_1k_words"] for o in shown for t in TECHNIQUE_NAMES]
    peak = max(values, default=0.0)
    rows = [[cell(TECHNIQUES[t].label)] + [heat_cell(o["techniques"][t]["per_1k_words"], peak)
                                           for o in shown] for t in TECHNIQUE_NAMES]
    parts.append(table(["technique"] + [o["outlet"] for o in shown], rows))
    return parts


def _months(data: dict[str, Any]) -> list[str]:
    if not data["by_month"]:
        return []
    months = sorted({r["month"] for r in data["by_month"]})
    names = [o["outlet"] for o in data["outlets"] if o["words"]][:8]
    series = [(n, {r["month"]: r["spans_per_1k_words"] for r in data["by_month"]
                   if r["outlet"] == n}) for n in names]
    rows = [[cell(r["month"]), cell(r["outlet"]), cell(r["articles"]), cell(r["spans"]),
             cell(r["spans_per_1k_words"], ".2f"),
             cell(100 * r["flagged_sentence_share"], ".1f")] for r in data["by_month"]]
    return ["<h2>By month</h2>",
            line_chart("Spans per 1,000 words by month (largest outlets)", months,
                       [s for s in series if s[1]], "spans / 1,000 words"),
            table(["month", "outlet", "articles", "spans", "spans / 1,000 words",
                   "% sentences with propaganda"], rows)]


def _title_cell(row: dict[str, Any], links: Mapping[str, str]) -> str:
    name = row.get("title") or row["id"]
    href = links.get(row["id"])
    shown = f'<a href="{esc(href)}">{esc(name)}</a>' if href else esc(name)
    extra = f'<br><span class="muted">{esc(row["id"])}</span>' if row.get("title") else ""
    return f'<td data-v="{esc(name)}">{shown}{extra}</td>'


def _techniques_cell(row: dict[str, Any]) -> str:
    items = [f'<span class="nw">{swatch(TECHNIQUES[t["technique"]].colour)}'
             f'{esc(TECHNIQUES[t["technique"]].label)} ({t["count"]})</span>'
             for t in row["top_techniques"] if t["technique"] in TECHNIQUES]
    first = row["top_techniques"][0]["technique"] if row["top_techniques"] else ""
    return f'<td data-v="{esc(first)}">{"<br>".join(items)}</td>'


def _date_cell(date: str | None) -> str:
    return f'<td class="nw" data-v="{esc(date)}">{esc(date)}</td>'


def _articles(data: dict[str, Any], links: Mapping[str, str]) -> list[str]:
    rows = data.get("articles") or []
    parts = ["<h2 id='articles'>Articles</h2>",
             f"<p>The {len(rows):,} articles with the largest share of sentences flagged, of "
             f"{data['overview']['analysed']:,} analysed (<code>--articles</code> sets how "
             "many)."]
    if not links:
        parts.append(" Highlighted views of the articles are written beside the report "
                     "when it is written to a file (<code>--out</code>)" +
                     ("" if data.get("text_kept", True) else
                      "; this folder was written before propscope kept article text, so it "
                      "has none") + ".")
    parts.append("</p>")
    body = [[_title_cell(r, links), cell(r["outlet"]), _date_cell(r.get("date")),
             heat_cell(100 * r["flagged_share"], 100.0, ".0f"),
             cell(f"{r['flagged_sentences']} of {r['sentences']}"),
             cell(100 * (r["propaganda_share"] or 0.0), ".1f"), cell(r["spans"]),
             _techniques_cell(r)] for r in rows]
    parts.append(table(["article", "outlet", "date", "% sentences flagged",
                        "sentences flagged", "% of text marked", "spans", "top techniques"],
                       body))
    return parts


def _context_cell(p: dict[str, Any], links: Mapping[str, str]) -> str:
    ex = p.get("example")
    if not ex:
        return '<td data-v=""></td>'
    text = (f"{esc(ex['before'])}<mark>{esc(ex['match'])}</mark>{esc(ex['after'])}")
    href = links.get(ex["article_id"])
    source = (f' <a href="{esc(href)}">{esc(ex["article_id"])}</a>' if href else
              f' <span class="muted">{esc(ex["article_id"])}</span>')
    return f'<td class="ctx" data-v="{esc(ex["article_id"])}">{text}{source}</td>'


def _phrases(data: dict[str, Any], links: Mapping[str, str]) -> list[str]:
    parts = ["<h2>Most frequent phrases per technique</h2>"]
    for t in TECHNIQUE_NAMES:
        items = data["top_phrases"].get(t) or []
        if not items:
            continue
        parts.append(f"<h3>{swatch(TECHNIQUES[t].colour)}{esc(TECHNIQUES[t].label)} "
                     f"<span class='muted'>({data['techniques'][t]['count']:,} in all)"
                     "</span></h3>")
        rows = [[cell(p["phrase"]), cell(p["count"]), cell(p["outlets"]),
                 _context_cell(p, links)] for p in items]
        parts.append(table(["phrase", "count", "outlets", "in context"], rows))
    return parts


def render_report_html(data: dict[str, Any], links: Mapping[str, str] | None = None) -> str:
    """One self-contained HTML page. ``links``: article id -> its highlighted page."""
    links = links or {}
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>propscope report: {esc(data['folder'])}</title><style>{CSS}</style>"
        "</head><body>",
        "<h1>Propaganda techniques by outlet</h1>",
        f"<p class='muted'>From <code>{esc(data['folder'])}</code> "
        f"(run status: {esc(data.get('run_status') or 'unknown')}).</p>",
    ]
    parts += _overview(data) + _outlets(data) + targets_html(data) + _months(data)
    parts += _articles(data, links)
    parts += _phrases(data, links)
    if data["errors"]:
        parts.append("<h2>Articles not analysed</h2>")
        rows = [[cell(e["problem"]), cell(e["count"]), cell(e["example"])]
                for e in data["errors"]]
        parts.append(table(["problem", "articles", "example"], rows))
    parts.append(f"<script>{JS}</script></body></html>\n")
    return "\n".join(parts)


def _threshold_text(threshold: float | None) -> str:
    return "the model's reader threshold" if threshold is None else str(threshold)

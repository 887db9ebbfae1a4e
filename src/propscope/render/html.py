"""A self-contained HTML report: highlighted article, legend and per-technique counts.

Article text is untrusted: every piece of it goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..results import Result, SpanRole
from ..spans import Span
from ..techniques import TECHNIQUE_NAMES, TECHNIQUES

CSS = """
body{font:16px/1.6 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#111;background:#fff}
.article{white-space:pre-wrap;border:1px solid #ccc;padding:1rem;border-radius:6px}
mark{color:#000;border-radius:3px;padding:0 1px}
.legend span,.sw{display:inline-block;padding:2px 6px;margin:2px;border-radius:4px;color:#000}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left}.warn{color:#8a3b00}.meta{color:#444;font-size:14px}
.scroll{overflow-x:auto}
"""


def _role_line(role: SpanRole | None) -> str:
    """`` (quoted: Maria Lopez; targets Donald Trump)``, or nothing before voices exist."""
    if role is None:
        return ""
    bits = [f"{role.voice}: {role.speaker}" if role.speaker else
            {"author": "the author's own voice"}.get(role.voice, role.voice)]
    aims = sorted({t.entity for t in role.targets or ()})
    if aims:
        bits.append("targets " + ", ".join(aims))
    return " [" + "; ".join(bits) + "]"


def _mark(chunk: str, spans, roles: dict[Span, SpanRole] | None = None) -> str:
    roles = roles or {}
    known = [s for s in spans if s.technique in TECHNIQUES]
    if not known:
        return escape(chunk)
    first = TECHNIQUES[known[0].technique]
    # every further technique on this piece adds a stacked underline in its colour
    shadows = ",".join(f"0 {3 * (k + 1)}px 0 {TECHNIQUES[s.technique].colour}"
                       for k, s in enumerate(known[1:]))
    style = f"background:{first.colour}" + (f";box-shadow:{shadows}" if shadows else "")
    title = "\n".join(f"{TECHNIQUES[s.technique].label} ({s.score:.2f})"
                      f"{_role_line(roles.get(s))}: "
                      f"{TECHNIQUES[s.technique].definition}" for s in known)
    techs = " ".join(s.technique or "" for s in known)
    voices = " ".join(r.voice for s in known if (r := roles.get(s)))
    extra = f' data-voices="{escape(voices)}"' if voices else ""
    return (f'<mark style="{style}" title="{escape(title)}" data-techniques="{escape(techs)}"'
            f"{extra}>{escape(chunk)}</mark>")


def article_html(result: Result) -> str:
    roles = {s: r for k, s in enumerate(result.spans) if (r := result.role(k))}
    parts = [_mark(result.text[a:b], covering, roles) for a, b, covering in result.segments()]
    return '<div class="article">' + "".join(parts) + "</div>"


def technique_counts(counts: dict[str, int]) -> str:
    """``Name calling / labelling 2, Loaded language 1``."""
    return ", ".join(f"{TECHNIQUES[t].label if t in TECHNIQUES else t} {n}"
                     for t, n in counts.items())


#: what the targets are worth (BENCHMARKS.md: target F1 0.33 to 0.50 on blind parts)
TARGETS_CAVEAT = ("Targets are a program's suggestions: on news it had not seen, about half "
                  "agree with a person's.")


def targets_table(result: Result) -> str:
    """Who is targeted, by which techniques, and the spans in each voice."""
    found = result.targets()
    voices = result.voice_counts()
    out = []
    if voices:
        n = sum(voices.values())
        out.append(f'<p class="meta">{voices.get("author", 0)} of {n} spans in the author\'s '
                   f'own voice; {voices.get("quoted", 0)} quoted, '
                   f'{voices.get("attributed", 0)} attributed to a speaker</p>')
    if found:
        rows = "".join(
            f"<tr><td>{escape(name)}</td><td>{escape(e['type'])}</td><td>{e['count']}</td>"
            f"<td>{escape(technique_counts(e['techniques']))}</td>"
            f"<td>{escape(', '.join(sorted({m[2] for m in e['mentions']})))}</td></tr>"
            for name, e in found.items())
        out.append('<div class="scroll"><table class="targets"><tr><th>who is targeted</th>'
                   "<th>type</th><th>spans</th><th>techniques</th><th>mentions</th></tr>"
                   f"{rows}</table></div>")
        out.append(f'<p class="meta">{TARGETS_CAVEAT}</p>')
    out += [f'<p class="meta">{escape(n)}</p>' for n in result.notes]
    return "".join(out)


def summary_table(result: Result) -> str:
    summary = result.summary()
    rows = []
    for name in TECHNIQUE_NAMES:
        if name in summary["techniques"]:
            t, v = TECHNIQUES[name], summary["techniques"][name]
            rows.append(f'<tr><td><span class="sw" style="background:{t.colour}">'
                        f"{escape(t.label)}</span></td><td>{v['count']}</td>"
                        f"<td>{100 * v['share']:.1f}%</td></tr>")
    head = "<tr><th>technique</th><th>spans</th><th>share of text</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def legend() -> str:
    return '<div class="legend">' + "".join(
        f'<span style="background:{t.colour}" title="{escape(t.definition)}">'
        f"{escape(t.label)}</span>" for t in TECHNIQUES.values()) + "</div>"


def about(result: Result) -> str:
    """Outlet, date and address of an article, when known (a link only for http(s))."""
    art = result.article
    bits = [escape(x) for x in (art.source, art.date) if x]
    if art.url:
        url = escape(art.url)
        bits.append(f'<a href="{url}" rel="noopener noreferrer">{url}</a>'
                    if art.url.lower().startswith(("http://", "https://")) else url)
    return f'<p class="meta">{" · ".join(bits)}</p>' if bits else ""


def render_html(results: Sequence[Result], title: str = "propscope report",
                back: tuple[str, str] | None = None) -> str:
    """The page; ``back`` is an ``(href, label)`` link shown above the title."""
    body = []
    for r in results:
        s = r.summary()
        model = r.model.get("name", "?")
        body.append(f"<section><h2>{escape(r.article.title or r.article.id)}</h2>")
        body.append(about(r))
        body += [f'<p class="warn">{escape(w)}</p>' for w in r.warnings]
        body.append(f'<p class="meta">{s["spans"]} spans; {s["flagged_sentences"]} of '
                    f'{s["sentences"]} sentences flagged; model {escape(str(model))}</p>')
        body.append(f'<div class="scroll">{summary_table(r)}</div>')
        body.append(targets_table(r))
        body.append(article_html(r))
        body.append("</section>")
    nav = (f'<p><a href="{escape(back[0])}">{escape(back[1])}</a></p>' if back else "")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{nav}"
            f"<h1>{escape(title)}</h1>{legend()}{''.join(body)}</body></html>\n")

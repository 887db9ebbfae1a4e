"""Building blocks of the report page: escaped cells and tables, heat colours, and charts
as plain HTML and inline SVG, which keep their text readable at any width (a phone's too).

Every text goes through ``esc``; colours and numbers are made here, never taken from data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

#: Line colours of the by-month chart (one per outlet, at most this many outlets).
PALETTE = ("#1c7ed6", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#e67700",
           "#495057")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def cell(value: Any, fmt: str | None = None) -> str:
    """A table cell; numbers right-aligned, with their value for sorting in ``data-v``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = format(value, fmt) if fmt else f"{value:,}"
        return f'<td class="n" data-v="{value!r}">{esc(shown)}</td>'
    return f'<td data-v="{esc(value)}">{esc(value)}</td>'


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], sortable: bool = True) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    cls = ' class="sortable"' if sortable else ""
    return (f'<div class="scroll"><table{cls}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def heat(value: float, peak: float) -> str:
    """Background and text colour whose darkness grows in proportion to ``value / peak``
    (0: near white; ``peak``: dark orange), the same scale for every cell given one peak."""
    t = 0.0 if peak <= 0 else max(0.0, min(1.0, value / peak))
    light = 97 - 57 * t
    text = "#fff" if light < 58 else "#000"
    return f"background:hsl(24,85%,{light:.0f}%);color:{text}"


def heat_cell(value: float, peak: float, fmt: str = ".2f") -> str:
    return (f'<td class="n" data-v="{value!r}" style="{heat(value, peak)}">'
            f"{format(value, fmt)}</td>")


def swatch(colour: str) -> str:
    return f'<span class="sw" style="background:{colour}"></span>'


def legend(items: Sequence[tuple[str, str]]) -> str:
    """``(label, colour)`` pairs as a wrapping legend."""
    return '<div class="legend">' + "".join(
        f"<span>{swatch(c)}{esc(label)}</span>" for label, c in items) + "</div>"


Segment = tuple[float, str, str]  # value, colour, tooltip


def bar_chart(title: str, rows: Sequence[tuple[str, Sequence[Segment], str]],
              peak: float) -> str:
    """Horizontal (stacked) bars as HTML: each row ``(label, segments, value shown)``;
    a bar's length is its total over ``peak``. On a narrow screen the label goes above
    its bar."""
    out = [f'<figure class="chart"><figcaption>{esc(title)}</figcaption>']
    for label, segments, shown in rows:
        segs = "".join(
            f'<span class="seg" style="width:{100 * v / peak if peak > 0 else 0:.2f}%;'
            f'background:{colour}" title="{esc(tip)}"></span>'
            for v, colour, tip in segments if v > 0)
        out.append(f'<div class="bar"><span class="label">{esc(label)}</span>'
                   f'<span class="track">{segs}</span><span class="v">{esc(shown)}</span></div>')
    out.append("</figure>")
    return "".join(out)


def line_chart(title: str, xs: Sequence[str], series: Sequence[tuple[str, dict[str, float]]],
               y_label: str) -> str:
    """Lines over an ordered axis ``xs`` as inline SVG (it scales with the page; its
    text stays about 12px on a phone), one line per ``(name, {x: value})``."""
    w, h, left, right, top, bottom = 360, 220, 44, 10, 12, 36
    ymax = max((v for _, pts in series for v in pts.values()), default=0.0) * 1.1 or 1.0

    def x(k: int) -> float:
        span = w - left - right
        return left + (span * k / (len(xs) - 1) if len(xs) > 1 else span / 2)

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - v / ymax)

    parts = [f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
             f'<svg class="line" viewBox="0 0 {w} {h}" role="img" aria-label="{esc(title)}">']
    for frac in (0.0, 0.5, 1.0):
        v = ymax * frac
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#ddd"/><text x="{left - 4}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end" font-size="12">{v:.0f}</text>')
    step = max(1, -(-(len(xs) - 1) // 3))  # at most 4 labels: they stay apart on a phone
    for k in range(0, len(xs), step):
        anchor = ("start" if k == 0 and len(xs) > 1 else
                  "end" if k == len(xs) - 1 and len(xs) > 1 else "middle")
        parts.append(f'<text x="{x(k):.1f}" y="{h - bottom + 16}" text-anchor="{anchor}" '
                     f'font-size="12">{esc(xs[k])}</text>')
    mid = top + (h - top - bottom) / 2
    parts.append(f'<text x="12" y="{mid:.0f}" font-size="12" '
                 f'transform="rotate(-90 12 {mid:.0f})" '
                 f'text-anchor="middle">{esc(y_label)}</text>')
    for (name, pts), colour in zip(series, PALETTE, strict=False):
        ks = [k for k, m in enumerate(xs) if m in pts]
        coords = " ".join(f"{x(k):.1f},{y(pts[xs[k]]):.1f}" for k in ks)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{coords}"/>')
        parts += [f'<circle cx="{x(k):.1f}" cy="{y(pts[xs[k]]):.1f}" r="3" fill="{colour}">'
                  f"<title>{esc(name)}, {esc(xs[k])}: {pts[xs[k]]:.2f}</title></circle>"
                  for k in ks]
    parts.append("</svg>")
    parts.append(legend([(name, c) for (name, _), c in zip(series, PALETTE, strict=False)]))
    parts.append("</figure>")
    return "".join(parts)

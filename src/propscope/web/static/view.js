// propscope web page, 2 of 4: the article with its highlights, the legend, summary,
// passage list and tooltip. Article text only ever reaches the page as text nodes.
"use strict";

(function () {
  const P = window.propscope;
  const { $, state, el, darker, level, reducedMotion } = P;

  function visibleSpans() {
    const a = state.analysis;
    return P.voiceFilter(a.spans.filter((s) => s.score >= state.minScore - 1e-9 &&
      state.techniques[s.technique] && !state.hidden.has(s.technique)));
  }

  function renderArticle(spans) {
    const text = state.analysis.article.text;
    const off = state.offsets;
    const n = off.length - 1;
    const cuts = new Set([0, n]);
    for (const s of spans) { cuts.add(Math.min(s.start, n)); cuts.add(Math.min(s.end, n)); }
    const points = [...cuts].sort((x, y) => x - y);
    const frag = document.createDocumentFragment();
    // sweep: spans sorted by start; active set changes only at cut points
    const byStart = spans.slice().sort((x, y) => x.start - y.start);
    const firstMark = new Map();  // span -> the first mark showing it
    let next = 0;
    let active = [];
    for (let k = 0; k + 1 < points.length; k++) {
      const a = points[k], b = points[k + 1];
      while (next < byStart.length && byStart[next].start <= a) active.push(byStart[next++]);
      active = active.filter((s) => s.end > a);
      const piece = text.slice(off[a], off[b]);
      const covering = active.filter((s) => s.start <= a && b <= s.end);
      if (!covering.length) { frag.append(document.createTextNode(piece)); continue; }
      covering.sort((x, y) => y.score - x.score);
      const mark = el("mark", { tabindex: "0" }, piece);
      mark.style.backgroundColor = state.techniques[covering[0].technique].colour;
      const lines = covering.slice(1).map((s, i) =>
        `0 ${3 * (i + 1)}px 0 ${darker(state.techniques[s.technique].colour, 0.6)}`);
      if (lines.length) mark.style.boxShadow = lines.join(",");
      mark.dataset.techniques = covering.map((s) => s.technique).join(" ");
      mark.dataset.scores = covering.map((s) => s.score.toFixed(2)).join(" ");
      const starting = covering.filter((s) => s.start === a);
      if (starting.length)  // a tag where a span starts: techniques differ without colour
        mark.dataset.tag = starting.map((s) => state.techniques[s.technique].tag).join("+");
      for (const s of covering) if (!firstMark.has(s)) firstMark.set(s, mark);
      mark._spans = covering;
      frag.append(mark);
    }
    $("article").replaceChildren(frag);
    return firstMark;
  }

  function renderLegend() {
    const counts = {};
    for (const s of state.analysis.spans) {
      if (s.score >= state.minScore - 1e-9 && state.techniques[s.technique])
        counts[s.technique] = (counts[s.technique] || 0) + 1;
    }
    const present = new Set(state.analysis.spans.map((s) => s.technique));
    const items = state.order.filter((t) => present.has(t)).map((t) => {
      const tech = state.techniques[t];
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = tech.colour;
      const button = el("button", {
        type: "button", "aria-pressed": String(!state.hidden.has(t)), "data-technique": t,
        title: tech.definition,
      }, swatch, el("span", { class: "ltag", text: tech.tag }),
      el("span", { class: "label", text: tech.label }),
      el("span", { class: "count", text: String(counts[t] || 0) }));
      button.addEventListener("click", () => {
        if (state.hidden.has(t)) state.hidden.delete(t); else state.hidden.add(t);
        render({ keepFocus: t });
      });
      return el("li", {}, button);
    });
    $("legend").replaceChildren(...items);
  }

  function renderSummary(spans) {
    const a = state.analysis;
    const sentences = a.sentences || [];
    let flagged = 0;
    for (const st of sentences) {
      if (spans.some((s) => s.start < st.end && st.start < s.end)) flagged++;
    }
    const share = sentences.length ? Math.round((100 * flagged) / sentences.length) : 0;
    $("summary").textContent =
      `${flagged} of ${sentences.length} sentences (${share}%) contain a shown technique; ` +
      `${spans.length} of ${a.spans.length} spans shown.`;
    const counts = {};
    for (const s of spans) counts[s.technique] = (counts[s.technique] || 0) + 1;
    const max = Math.max(1, ...Object.values(counts));
    const rows = state.order.filter((t) => counts[t]).sort((x, y) => counts[y] - counts[x])
      .map((t) => {
        const bar = el("span", { class: "bar", "aria-hidden": "true" });
        bar.style.backgroundColor = state.techniques[t].colour;
        bar.style.width = `${(100 * counts[t]) / max}%`;
        return el("li", {}, el("span", { class: "name", text: state.techniques[t].label }),
          el("span", { class: "track" }, bar), el("span", { class: "n", text: String(counts[t]) }));
      });
    $("chart").replaceChildren(...rows);
  }

  function renderPassages(spans, firstMark) {
    const items = spans.map((s, k) => {
      const tech = state.techniques[s.technique];
      const mark = firstMark.get(s);
      if (mark && !mark.id) mark.id = `passage-${k + 1}`;
      const link = el("a", { href: `#${mark ? mark.id : ""}`, class: "passage" },
        el("span", { class: "ptag", text: tech.tag }),
        el("span", { class: "plevel", text: `${level(s.score)} ` }),
        el("q", { text: state.analysis.article.text.slice(state.offsets[s.start],
          state.offsets[Math.min(s.end, state.offsets.length - 1)]) }));
      link.querySelector(".ptag").style.backgroundColor = tech.colour;
      link.title = [`${tech.label}, confidence ${s.score.toFixed(2)}`, P.voiceText(s),
        P.targetText(s)].filter(Boolean).join(". ");
      link.addEventListener("click", (e) => {
        e.preventDefault();
        if (!mark) return;
        mark.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
        mark.focus({ preventScroll: true });
      });
      return el("li", {}, link);
    });
    $("passages").replaceChildren(...items);
  }

  function render(opts) {
    hideTooltip();
    const spans = visibleSpans();
    renderPassages(spans, renderArticle(spans));
    renderLegend();
    renderSummary(spans);
    P.renderTargets(spans);
    if (opts && opts.keepFocus) {
      const b = $("legend").querySelector(`button[data-technique="${CSS.escape(opts.keepFocus)}"]`);
      if (b) b.focus();
    }
    if (opts && opts.keepEntity) P.focusEntity(opts.keepEntity);
  }

  // ---------------------------------------------------------------- tooltip

  function showTooltip(mark) {
    const tip = $("tooltip");
    const parts = mark._spans.map((s, i) => {
      const tech = state.techniques[s.technique];
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = tech.colour;
      const under = i ? el("span", { class: "under", text: " (underline)" }) : "";
      const about = [P.voiceText(s), P.targetText(s)].filter(Boolean)
        .map((t) => el("div", { class: "role", text: t }));
      return el("div", { class: "tip" }, swatch, el("strong", { text: tech.label }), under,
        el("span", { class: "score",
          text: ` ${level(s.score)} confidence (${s.score.toFixed(2)})` }),
        el("div", { text: tech.definition }), ...about);
    });
    tip.replaceChildren(...parts);
    tip.hidden = false;
    state.tipMark = mark;
    mark.setAttribute("aria-describedby", "tooltip");
    placeTooltip();
  }

  function placeTooltip() {
    const tip = $("tooltip"), mark = state.tipMark;
    if (tip.hidden || !mark || !mark.isConnected) return;
    const r = mark.getBoundingClientRect();
    const w = tip.offsetWidth;
    const left = Math.max(8, Math.min(window.scrollX + r.left, window.scrollX + innerWidth - w - 8));
    tip.style.left = `${left}px`;
    tip.style.top = `${window.scrollY + r.bottom + 8}px`;
  }

  function hideTooltip() {
    $("tooltip").hidden = true;
    state.tipMark = null;
    for (const m of document.querySelectorAll("mark[aria-describedby]"))
      m.removeAttribute("aria-describedby");
  }

  function wireTooltip() {
    const box = $("article");
    const target = (e) => (e.target instanceof Element ? e.target.closest("mark") : null);
    box.addEventListener("mouseover", (e) => { const m = target(e); if (m) showTooltip(m); });
    box.addEventListener("mouseout", (e) => { if (target(e)) hideTooltip(); });
    box.addEventListener("focusin", (e) => { const m = target(e); if (m) showTooltip(m); });
    box.addEventListener("focusout", hideTooltip);
    // focus may scroll the page: the tooltip follows its mark rather than vanishing
    window.addEventListener("scroll", placeTooltip, { passive: true });
    window.addEventListener("resize", placeTooltip);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") hideTooltip(); });
  }

  Object.assign(P, { render, hideTooltip, placeTooltip, wireTooltip });
})();

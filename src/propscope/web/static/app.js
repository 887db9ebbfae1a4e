// propscope web page. Article text is untrusted: it only ever reaches the page through
// text nodes (createTextNode / textContent), never through innerHTML.
"use strict";

(function () {
  const ROOT = (document.currentScript && document.currentScript.dataset.root) || "";
  const $ = (id) => document.getElementById(id);
  const state = {
    techniques: {},   // name -> {label, definition, colour, ...}
    order: [],        // technique names in the canonical order
    analysis: null,   // the analysis being shown
    hidden: new Set(),
    minScore: 0,
    analysedAt: 0,    // the threshold the shown analysis was made with
    payload: null,    // the request behind it (a lower slider asks again with it)
    config: null,     // GET /api/v1/config: reader threshold, confidence levels, model
    tipMark: null,    // the mark whose tooltip is shown
    offsets: null,    // code point index -> UTF-16 index, for article.text
  };

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);  // strings become text nodes
    return node;
  }

  function setStatus(message, isError) {
    const s = $("status");
    s.textContent = message || "";
    s.classList.toggle("error", !!isError);
  }

  function darker(hex, f) {
    const n = parseInt(hex.slice(1), 16);
    const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * f));
    return `rgb(${c.join(",")})`;
  }

  // Python offsets count code points; JavaScript strings count UTF-16 units.
  function codePointOffsets(text) {
    const out = new Int32Array(text.length + 1);
    let cp = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      out[cp++] = i;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
    }
    out[cp] = text.length;
    return out.subarray(0, cp + 1);
  }

  async function api(path, options) {
    let response;
    try {
      response = await fetch(ROOT + path, options);
    } catch (e) {
      throw new Error("The server cannot be reached. Is it still running?");
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = body && body.message ? body.message : `HTTP ${response.status}`;
      const err = new Error(message);
      err.status = response.status;
      err.code = body && body.code;
      throw err;
    }
    return body;
  }

  function level(score) {
    for (const l of state.config.confidence_levels) if (score >= l.min - 1e-9) return l.level;
    return "low";
  }

  function reducedMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // ---------------------------------------------------------------- rendering

  function visibleSpans() {
    const a = state.analysis;
    return a.spans.filter((s) => s.score >= state.minScore - 1e-9 &&
      state.techniques[s.technique] && !state.hidden.has(s.technique));
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
      link.title = `${tech.label}, confidence ${s.score.toFixed(2)}`;
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
    if (opts && opts.keepFocus) {
      const b = $("legend").querySelector(`button[data-technique="${CSS.escape(opts.keepFocus)}"]`);
      if (b) b.focus();
    }
  }

  function show(analysis, payload) {
    state.analysis = analysis;
    const req = analysis.request || {};
    const reader = (req.mode || "reader") === "reader";
    state.analysedAt = req.threshold != null ? req.threshold
      : (reader && analysis.reader_threshold != null ? analysis.reader_threshold : 0);
    state.payload = payload || { text: analysis.article.text, title: analysis.article.title,
      mode: req.mode, techniques: req.techniques };
    setSlider(state.analysedAt);
    state.offsets = codePointOffsets(analysis.article.text);
    state.hidden.clear();
    $("result").hidden = false;
    $("article-title").textContent = analysis.article.title || "";
    $("warnings").replaceChildren(...(analysis.warnings || []).map((w) => el("li", { text: w })));
    const links = document.querySelector(".links");
    if (analysis.id) {
      const url = new URL(`${ROOT}/a/${encodeURIComponent(analysis.id)}`, location.href).href;
      $("permalink").href = url;
      $("permalink").textContent = url;
      $("download-json").href = `${ROOT}/api/v1/analyses/${encodeURIComponent(analysis.id)}?download=true`;
      $("download-html").href = `${ROOT}/api/v1/analyses/${encodeURIComponent(analysis.id)}/report.html`;
      links.hidden = false;
    } else {
      links.hidden = true;
    }
    $("model").textContent = modelLine(analysis.model || {}, req.mode || "reader");
    render();
  }

  function modelLine(m, mode) {
    const profile = m.profile ? `, ${m.profile} profile` : "";
    return `Analysed by the model ${m.name || "?"}${m.version ? " " + m.version : ""}` +
      `${profile} (${mode} mode).`;
  }

  function setSlider(value) {
    state.minScore = value;
    $("confidence").value = String(value);
    $("confidence-value").textContent = value.toFixed(2);
    const rt = state.config && state.config.reader_threshold;
    $("confidence-help").textContent = rt != null && value < rt - 1e-9
      ? `below the model's reader threshold (${rt.toFixed(2)}): more, less certain spans`
      : "spans below this are hidden; lower it to see less certain ones";
  }

  function onSlider(final) {
    const value = parseFloat($("confidence").value);
    setSlider(value);
    if (!state.analysis) return;
    if (value >= state.analysedAt - 1e-9) render();
    else if (final) analyse({ ...state.payload, threshold: value }, { keepPlace: true });
  }

  // ---------------------------------------------------------------- tooltip

  function showTooltip(mark) {
    const tip = $("tooltip");
    const parts = mark._spans.map((s, i) => {
      const tech = state.techniques[s.technique];
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = tech.colour;
      const under = i ? el("span", { class: "under", text: " (underline)" }) : "";
      return el("div", { class: "tip" }, swatch, el("strong", { text: tech.label }), under,
        el("span", { class: "score",
          text: ` ${level(s.score)} confidence (${s.score.toFixed(2)})` }),
        el("div", { text: tech.definition }));
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

  // ---------------------------------------------------------------- analysing

  let latestRequest = 0;  // only the newest request's answer is shown (slider moves fast)

  async function analyse(payload, opts) {
    const button = $("analyse");
    const mine = ++latestRequest;
    button.disabled = true;
    setStatus("Analysing…");
    try {
      const analysis = await api("/api/v1/analyze", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      if (mine !== latestRequest) return;  // a newer request was sent meanwhile
      show(analysis, payload.url ? null : payload);  // the slider re-asks with the page's text
      if (analysis.id) history.pushState({ id: analysis.id }, "", `${ROOT}/a/${analysis.id}`);
      const n = analysis.spans.length;
      setStatus(`Done: ${n} span${n === 1 ? "" : "s"} found.`);
      if (opts && opts.keepPlace) return;
      $("result").focus({ preventScroll: true });
      $("result").scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "start" });
    } catch (e) {
      const busy = e.status === 429 ? " (the server is busy)" : "";
      setStatus(`Could not analyse${busy}: ${e.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  function payloadFromForm() {
    const text = $("text").value;
    const title = $("title").value.trim();
    const url = $("url").value.trim();
    if (!text.trim() && !url) {
      setStatus("Paste some text first, give a web address, or upload a file.", true);
      return null;
    }
    const p = text.trim() ? { text } : { url };
    if (title) p.title = title;
    return p;
  }

  async function onFile() {
    const file = $("file").files[0];
    if (!file) return;
    if (file.size > 1024 * 1024) { setStatus(`${file.name} is larger than 1 MB.`, true); return; }
    const content = await file.text();
    const isHtml = /\.html?$/i.test(file.name) || file.type === "text/html";
    $("file").value = "";
    const p = {};
    const title = $("title").value.trim();
    if (title) p.title = title;
    if (isHtml) {
      p.html = content;
      $("text").value = "";
    } else {
      p.text = content;
      $("text").value = content;
    }
    if (!content.trim()) { setStatus(`${file.name} is empty.`, true); return; }
    await analyse(p);
  }

  async function loadSaved(id) {
    setStatus("Loading the saved analysis…");
    try {
      const analysis = await api(`/api/v1/analyses/${encodeURIComponent(id)}`);
      show(analysis);
      $("text").value = analysis.article.text;
      $("title").value = analysis.article.title || "";
      setStatus("");
    } catch (e) {
      $("result").hidden = true;
      setStatus(e.status === 404 ? "There is no saved analysis at this address." : e.message, true);
    }
  }

  function route() {
    const path = location.pathname.slice(ROOT.length);
    const m = /^\/a\/([^/]+)$/.exec(path);
    if (m) loadSaved(decodeURIComponent(m[1]));
  }

  // ---------------------------------------------------------------- start

  async function start() {
    wireTooltip();
    $("form").addEventListener("submit", (e) => {
      e.preventDefault();
      const p = payloadFromForm();
      if (p) analyse(p);
    });
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        $("form").requestSubmit();
      }
    });
    $("file").addEventListener("change", onFile);
    $("confidence").addEventListener("input", () => onSlider(false));
    $("confidence").addEventListener("change", () => onSlider(true));
    $("show-all").addEventListener("click", () => { state.hidden.clear(); if (state.analysis) render(); });
    $("copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText($("permalink").href);
        setStatus("Link copied.");
      } catch (e) {
        setStatus("Copy failed; select the link and copy it by hand.", true);
      }
    });
    window.addEventListener("popstate", () => { if (/\/a\//.test(location.pathname)) route(); });
    try {
      const body = await api("/api/v1/techniques");
      for (const t of body.techniques) { state.techniques[t.name] = t; state.order.push(t.name); }
      state.config = await api("/api/v1/config");
    } catch (e) {
      setStatus(`Cannot load the technique list: ${e.message}`, true);
      return;
    }
    document.body.dataset.ready = "true";
    route();
  }

  start();
})();

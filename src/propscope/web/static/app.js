// propscope web page, 4 of 4: showing an analysis, the slider and filters, asking the
// server, saved analyses, and start-up. Article text is untrusted: it only ever reaches
// the page through text nodes (createTextNode / textContent), never through innerHTML.
"use strict";

(function () {
  const P = window.propscope;
  const { ROOT, $, state, el, setStatus, api, codePointOffsets, reducedMotion } = P;
  const render = (opts) => P.render(opts);

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
    state.entity = null;
    P.showVoiceFilter(analysis);
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
    P.wireTooltip();
    P.wireTargets();
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

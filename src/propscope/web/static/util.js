// propscope web page, 1 of 4: shared state and helpers (util.js, view.js, targets.js,
// app.js load in this order and share window.propscope). Article text is untrusted: it
// only ever reaches the page through text nodes (createTextNode / textContent), never
// through innerHTML.
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
    authorOnly: false,  // show only spans in the author's own voice
    entity: null,     // the targeted entity whose passages are highlighted
  };

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

  window.propscope = {
    ROOT, $, state, el, setStatus, darker, codePointOffsets, api, level, reducedMotion,
  };
})();

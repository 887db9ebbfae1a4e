// propscope web page, 3 of 4: whose voice each passage is in (tooltip lines, the "author's
// voice only" filter) and who is targeted (the panel: selecting an entity highlights the
// passages aimed at it). Names come from the article: text nodes only.
"use strict";

(function () {
  const P = window.propscope;
  const { $, state, el, reducedMotion } = P;

  function voiceText(s) {
    if (!s.voice) return "";
    if (s.voice === "author") return "In the author's own voice";
    if (s.voice === "quoted") return s.speaker ? `Quoted: ${s.speaker}` : "Quoted";
    return s.speaker ? `Attributed to ${s.speaker}` : "Attributed to a source";
  }

  function entitiesOf(s) {
    return [...new Set((s.targets || []).map((t) => t.entity))];
  }

  function targetText(s) {
    const names = entitiesOf(s);
    return names.length ? `Targets: ${names.join(", ")}` : "";
  }

  function voiceFilter(spans) {
    return state.authorOnly ? spans.filter((s) => s.voice === "author") : spans;
  }

  function showVoiceFilter(analysis) {
    const known = analysis.spans.some((s) => s.voice);
    $("voice-filter").hidden = !known;
    if (!known) state.authorOnly = false;
    $("author-only").checked = state.authorOnly;
  }

  // entity -> {type, spans}, most targeted first
  function targetsOf(spans) {
    const out = new Map();
    for (const s of spans) {
      for (const name of entitiesOf(s)) {
        if (!out.has(name)) out.set(name, { type: s.targets.find((t) => t.entity === name).type,
          spans: [] });
        out.get(name).spans.push(s);
      }
    }
    return [...out.entries()].sort((x, y) =>
      y[1].spans.length - x[1].spans.length || x[0].localeCompare(y[0]));
  }

  function renderTargets(spans) {
    const found = targetsOf(spans);
    if (state.entity && !found.some(([name]) => name === state.entity)) state.entity = null;
    const items = found.map(([name, info]) => {
      const button = el("button", {
        type: "button", "aria-pressed": String(state.entity === name), "data-entity": name,
        title: `Highlight the passages aimed at ${name}`,
      }, el("span", { class: "label", text: name }), el("span", { class: "etype", text: info.type }),
      el("span", { class: "count", text: String(info.spans.length) }));
      button.addEventListener("click", () => {
        state.entity = state.entity === name ? null : name;
        P.render({ keepEntity: name });
      });
      return el("li", {}, button);
    });
    $("targets").replaceChildren(...items);
    const notes = state.analysis.notes || [];
    const anyTargets = state.analysis.spans.some((s) => Array.isArray(s.targets));
    $("targets-note").textContent = notes.length ? notes.join(" ")
      : !anyTargets ? "Targets were not looked for in this analysis."
        : found.length ? "Select one to highlight the passages aimed at it. These are a "
          + "program's suggestions: on news it had not seen, about half agree with a person's."
          : "No passage shown is aimed at a named person, group or place.";
    for (const mark of document.querySelectorAll("#article mark")) {
      const hit = state.entity && mark._spans.some((s) => entitiesOf(s).includes(state.entity));
      mark.classList.toggle("targeted", !!hit);
    }
  }

  function focusEntity(name) {
    const b = $("targets").querySelector(`button[data-entity="${CSS.escape(name)}"]`);
    if (b) b.focus();
    const first = document.querySelector("#article mark.targeted");
    if (first) first.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
  }

  function wireTargets() {
    $("author-only").addEventListener("change", () => {
      state.authorOnly = $("author-only").checked;
      if (state.analysis) P.render();
    });
  }

  Object.assign(P, {
    voiceText, targetText, voiceFilter, showVoiceFilter, renderTargets, focusEntity, wireTargets,
  });
})();

// Renders the app's own openapi.json as a plain, offline API reference (text nodes only).
"use strict";

(function () {
  const ROOT = (document.currentScript && document.currentScript.dataset.root) || "";

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text.replace(/`/g, "");
    return n;
  }

  function resolve(spec, schema, depth) {
    if (!schema || depth > 6) return schema;
    if (schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return resolve(spec, spec.components.schemas[name], depth + 1);
    }
    const out = Array.isArray(schema) ? [] : {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = v && typeof v === "object" ? resolve(spec, v, depth + 1) : v;
    }
    return out;
  }

  function brief(schema) {
    // a compact {field: type} view of a resolved schema
    if (!schema) return null;
    if (schema.properties) {
      const o = {};
      for (const [k, v] of Object.entries(schema.properties)) o[k] = brief(v);
      return o;
    }
    if (schema.type === "array") return [brief(schema.items)];
    if (schema.anyOf) return schema.anyOf.map(brief).filter((x) => x !== "null").join(" | ");
    if (schema.enum) return `one of ${schema.enum.length} names`;
    return schema.type || "any";
  }

  async function start() {
    const box = document.getElementById("endpoints");
    const host = `${location.protocol}//${location.host}${ROOT}`;
    const ex = document.getElementById("example");
    ex.textContent = ex.textContent.replace("http://127.0.0.1:8000", host);
    let spec;
    try {
      spec = await (await fetch(`${ROOT}/openapi.json`)).json();
    } catch (e) {
      box.replaceChildren(el("p", "", "Cannot load openapi.json."));
      return;
    }
    document.getElementById("intro").textContent = spec.info.description || "";
    const parts = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const card = el("div", "endpoint");
        const h = el("h3");
        h.append(el("span", "method", method.toUpperCase()), " " + path);
        card.append(h, el("p", "", op.summary || ""));
        if (op.description) card.append(el("p", "hint", op.description));
        const params = (op.parameters || []).map((p) => `${p.name} (${p.in})`);
        if (params.length) card.append(el("p", "", "Parameters: " + params.join(", ")));
        const body = op.requestBody && op.requestBody.content["application/json"];
        if (body) {
          card.append(el("p", "", "JSON body:"));
          card.append(el("pre", "", JSON.stringify(brief(resolve(spec, body.schema, 0)), null, 2)));
        }
        const codes = Object.entries(op.responses || {})
          .map(([code, r]) => `${code} ${r.description || ""}`);
        card.append(el("p", "", "Responses:"));
        const ul = el("ul");
        for (const c of codes) ul.append(el("li", "", c));
        card.append(ul);
        parts.push(card);
      }
    }
    box.replaceChildren(...parts);
  }

  start();
})();

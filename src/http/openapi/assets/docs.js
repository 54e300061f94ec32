// scimd API docs: reads /api/v1/openapi.json, lists the operations by tag
// and sends "Try it" requests with the token from the Authorize form. The
// token lives in sessionStorage only (gone when the tab closes). Everything
// is built with DOM calls and textContent: nothing from the document or a
// response is ever parsed as HTML.
"use strict";

(function () {
  const SPEC_URL = "/api/v1/openapi.json";
  const TOKEN_KEY = "scimd.docs.token";
  const METHODS = ["get", "post", "put", "patch", "delete"];

  let spec = null;

  // --- small DOM helpers ---------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) {
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  // The descriptions use `code` and **bold** only.
  function markdown(text) {
    const frag = document.createDocumentFragment();
    for (const para of String(text || "").split(/\n\n+/)) {
      const p = el("p");
      for (const part of para.split(/(`[^`]+`|\*\*[^*]+\*\*)/)) {
        if (part.startsWith("`") && part.endsWith("`") && part.length > 1) {
          p.append(el("code", { text: part.slice(1, -1) }));
        } else if (part.startsWith("**") && part.endsWith("**") && part.length > 3) {
          p.append(el("strong", { text: part.slice(2, -2) }));
        } else {
          p.append(part);
        }
      }
      frag.append(p);
    }
    return frag;
  }

  // --- the document -------------------------------------------------------

  function resolve(obj) {
    let seen = 0;
    while (obj && typeof obj.$ref === "string" && seen++ < 10) {
      const path = obj.$ref.replace(/^#\//, "").split("/");
      obj = path.reduce((o, key) => (o ? o[key] : undefined), spec);
    }
    return obj || {};
  }

  function refName(schema) {
    if (schema && typeof schema.$ref === "string") return schema.$ref.split("/").pop();
    if (schema && schema.type === "array" && schema.items) return refName(schema.items) + "[]";
    return schema && schema.type ? String(schema.type) : "";
  }

  function operations() {
    const ops = [];
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS) {
        if (item[method]) ops.push({ path, method, op: item[method] });
      }
    }
    return ops;
  }

  // --- token --------------------------------------------------------------

  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function showAuthState() {
    const t = token();
    document.getElementById("auth-state").textContent = t
      ? "Authorized (…" + t.slice(-4) + ")"
      : "Not authorized";
  }

  function setupAuth() {
    const form = document.getElementById("auth");
    const input = document.getElementById("token");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      input.value = "";
      showAuthState();
    });
    document.getElementById("forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      showAuthState();
    });
    showAuthState();
  }

  // --- rendering ----------------------------------------------------------

  function renderParams(params) {
    if (!params.length) return null;
    const rows = params.map((p) =>
      el("tr", {}, [
        el("td", {}, [el("code", { text: p.name }), p.required ? el("span", { className: "req", text: " *" }) : null]),
        el("td", { text: p.in }),
        el("td", { text: refName(p.schema || {}) }),
        el("td", {}, [markdown(p.description || "")]),
      ])
    );
    return el("table", { className: "params" }, [
      el("thead", {}, [el("tr", {}, ["name", "in", "type", "description"].map((h) => el("th", { text: h })))]),
      el("tbody", {}, rows),
    ]);
  }

  function renderResponses(responses) {
    const items = Object.entries(responses || {}).map(([status, r]) => {
      const media = Object.keys(r.content || {});
      const schema = media.length ? refName(r.content[media[0]].schema) : "";
      return el("li", {}, [
        el("span", { className: "status s" + status[0], text: status }),
        " ",
        markdown(r.description || "").firstChild || "",
        schema ? el("span", { className: "muted", text: " " + media[0] + " " + schema }) : null,
      ]);
    });
    return el("ul", { className: "responses" }, items);
  }

  function schemaBlock(title, schema) {
    const resolved = resolve(schema);
    return el("details", { className: "schema" }, [
      el("summary", { text: title + " " + refName(schema) }),
      el("pre", { text: JSON.stringify(resolved, null, 2) }),
    ]);
  }

  function example(schema) {
    const resolved = resolve(schema);
    if (Array.isArray(resolved.examples) && resolved.examples.length) {
      return JSON.stringify(resolved.examples[0], null, 2);
    }
    return "{}";
  }

  function renderOperation({ path, method, op }) {
    const params = (op.parameters || []).map(resolve);
    const body = op.requestBody && op.requestBody.content;
    const bodyMedia = body ? Object.keys(body)[0] : null;
    const card = el("details", { className: "op", id: op.operationId || "" }, [
      el("summary", {}, [
        el("span", { className: "method m-" + method, text: method.toUpperCase() }),
        el("code", { className: "path", text: path }),
        el("span", { className: "summary", text: op.summary || "" }),
        op["x-scopes"] ? el("span", { className: "scopes", title: "token scope needed", text: op["x-scopes"].join(" | ") }) : null,
      ]),
    ]);
    card.append(markdown(op.description || ""));
    const table = renderParams(params);
    if (table) card.append(el("h4", { text: "Parameters" }), table);
    if (bodyMedia) {
      card.append(el("h4", { text: "Request body" }), schemaBlock(bodyMedia, body[bodyMedia].schema));
    }
    card.append(el("h4", { text: "Responses" }), renderResponses(op.responses));
    card.append(tryIt(path, method, params, bodyMedia ? { media: bodyMedia, schema: body[bodyMedia].schema } : null));
    return card;
  }

  // --- "Try it" -----------------------------------------------------------

  function tryIt(path, method, params, body) {
    const inputs = [];
    const fields = params.map((p) => {
      const input = el("input", { type: "text", name: p.name, spellcheck: "false" });
      if (p.schema && p.schema.enum) input.setAttribute("placeholder", p.schema.enum.join(" | "));
      inputs.push({ param: p, input });
      return el("label", {}, [el("span", { text: p.name + " (" + p.in + ")" }), input]);
    });
    const textarea = body ? el("textarea", { rows: "8", spellcheck: "false" }) : null;
    if (textarea) textarea.value = example(body.schema);
    const output = el("pre", { className: "output", "aria-live": "polite" });
    const send = el("button", { type: "submit", text: "Send " + method.toUpperCase() });
    const form = el("form", { className: "try" }, [
      el("h4", { text: "Try it" }),
      ...fields,
      textarea ? el("label", {}, [el("span", { text: "body (" + body.media + ")" }), textarea]) : null,
      send,
      output,
    ]);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      send.disabled = true;
      run(path, method, inputs, textarea, body, output).finally(() => {
        send.disabled = false;
      });
    });
    return form;
  }

  async function run(path, method, inputs, textarea, body, output) {
    let url = path;
    const query = new URLSearchParams();
    const headers = { Accept: "application/scim+json, application/json, */*" };
    for (const { param, input } of inputs) {
      const v = input.value;
      if (param.in === "path") {
        url = url.replace("{" + param.name + "}", encodeURIComponent(v));
      } else if (v !== "" && param.in === "query") {
        query.append(param.name, v);
      } else if (v !== "" && param.in === "header") {
        headers[param.name] = v;
      }
    }
    if (query.toString()) url += "?" + query.toString();
    if (token()) headers.Authorization = "Bearer " + token();
    const init = { method: method.toUpperCase(), headers, cache: "no-store", credentials: "omit" };
    if (textarea && textarea.value.trim() !== "") {
      headers["Content-Type"] = body.media;
      init.body = textarea.value;
    }
    output.textContent = init.method + " " + url + " …";
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      const lines = [res.status + " " + res.statusText];
      for (const h of ["content-type", "etag", "location", "retry-after", "www-authenticate"]) {
        if (res.headers.get(h)) lines.push(h + ": " + res.headers.get(h));
      }
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch (_) {
        // not JSON: show as is
      }
      output.textContent = init.method + " " + url + "\n\n" + lines.join("\n") + "\n\n" + shown;
      output.className = "output s" + String(res.status)[0];
    } catch (e) {
      output.textContent = "request failed: " + e;
      output.className = "output s5";
    }
  }

  // --- page ---------------------------------------------------------------

  function render() {
    document.getElementById("version").textContent = spec.info ? "v" + spec.info.version : "";
    const main = document.getElementById("ops");
    const toc = document.getElementById("toc");
    main.replaceChildren();
    toc.replaceChildren();
    if (spec.info && spec.info.description) {
      main.append(el("section", { className: "intro" }, [markdown(spec.info.description)]));
    }
    const all = operations();
    const tags = (spec.tags || []).map((t) => t.name);
    for (const o of all) {
      for (const t of o.op.tags || []) if (!tags.includes(t)) tags.push(t);
    }
    for (const tag of tags) {
      const ops = all.filter((o) => (o.op.tags || []).includes(tag));
      if (!ops.length) continue;
      const info = (spec.tags || []).find((t) => t.name === tag);
      const id = "tag-" + tag.toLowerCase();
      toc.append(el("a", { href: "#" + id, text: tag + " (" + ops.length + ")" }));
      main.append(
        el("section", { id, className: "tag" }, [
          el("h2", { text: tag }),
          info && info.description ? el("p", { className: "muted", text: info.description }) : null,
          ...ops.map(renderOperation),
        ])
      );
    }
  }

  async function load() {
    setupAuth();
    try {
      const res = await fetch(SPEC_URL, { cache: "no-store", credentials: "omit" });
      if (!res.ok) throw new Error(res.status + " " + res.statusText);
      spec = await res.json();
      render();
    } catch (e) {
      document.getElementById("status").textContent = "Could not load " + SPEC_URL + ": " + e.message;
    }
  }

  document.addEventListener("DOMContentLoaded", load);
})();

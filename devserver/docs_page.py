"""`/docs` on the local server: the OpenAPI document as a browsable page, with a form to try
each operation against this server.

Self-contained (inline style and script, no CDN, no fonts): the page reads /openapi.json from
the server that serves it and builds itself with DOM calls (text, never HTML, from the document).
"""

from __future__ import annotations

DOCS_PATH = "/docs"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>squrl API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#1b1f24;color:#fff;padding:1rem 1.5rem}
header h1{margin:0;font-size:1.3rem}
header p{margin:.3rem 0 0;color:#c9d1d9}
main{max-width:60rem;margin:0 auto;padding:1rem}
label.key{display:block;margin:1rem 0}
input,textarea{font:13px ui-monospace,monospace;padding:.3rem;border:1px solid #aab;
border-radius:4px}
textarea{width:100%;min-height:5rem;box-sizing:border-box}
h2{margin:1.5rem 0 .5rem;text-transform:capitalize}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.4rem 0}
summary{cursor:pointer;padding:.5rem .8rem;display:flex;gap:.7rem;align-items:baseline}
.method{font:bold 12px ui-monospace,monospace;padding:.1rem .4rem;border-radius:4px;color:#fff;
min-width:4rem;text-align:center}
.get{background:#1f6feb}.post{background:#1a7f37}.patch{background:#9a6700}
.delete{background:#cf222e}.head{background:#6e7781}
.path{font:14px ui-monospace,monospace}
.body{padding:0 1rem 1rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0}
td,th{border-top:1px solid #eaeef2;padding:.25rem .4rem;text-align:left;vertical-align:top;
font-size:13px}
code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px;max-height:24rem}
button{font:inherit;padding:.3rem .9rem;border-radius:4px;border:1px solid #1a7f37;
background:#1a7f37;color:#fff;cursor:pointer}
.muted{color:#57606a}
</style></head>
<body>
<header><h1>squrl API</h1><p id="info">Loading /openapi.json&hellip;</p></header>
<main>
<label class="key">API key or token for &ldquo;Try it&rdquo;:
<input id="key" size="40" autocomplete="off"></label>
<div id="ops"></div>
</main>
<script>
"use strict";
const el = (tag, props, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
};
let spec;
const resolve = (schema) => {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) {
    schema = spec.components.schemas[schema.$ref.split("/").pop()];
  }
  return schema || {};
};
const typeOf = (schema) => {
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return typeOf(schema.items || {}) + "[]";
  if (schema.enum) return schema.enum.join(" | ");
  return schema.type || "any";
};
const rules = (schema) => {
  const parts = [];
  for (const k of ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
                   "pattern", "format", "default"]) {
    if (schema[k] !== undefined) parts.push(k + " " + JSON.stringify(schema[k]));
  }
  return parts.join(", ");
};
const fields = (schema) => {
  const resolved = resolve(schema);
  const table = el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"),
    el("th", {}, "rules")));
  const required = new Set(resolved.required || []);
  for (const [name, prop] of Object.entries(resolved.properties || {})) {
    table.append(el("tr", {},
      el("td", {}, el("code", {}, name + (required.has(name) ? " *" : ""))),
      el("td", {}, typeOf(prop)),
      el("td", {className: "muted"}, [rules(prop), prop.description || ""].filter(Boolean)
        .join(" — "))));
  }
  return table;
};
const example = (schema) => {
  const resolved = resolve(schema);
  if (resolved.examples) return resolved.examples[0];
  if (resolved.type === "object" || resolved.properties) {
    const out = {};
    for (const name of resolved.required || []) out[name] = example(resolved.properties[name]);
    return out;
  }
  if (resolved.type === "array") return [example(resolved.items || {})];
  if (resolved.type === "integer") return resolved.minimum || 1;
  return "";
};
const tryIt = (method, path, op) => {
  const box = el("div", {});
  const inputs = {};
  for (const p of op.parameters || []) {
    const input = el("input", {placeholder: p.name + " (" + p.in + ")", size: 24});
    inputs[p.name] = [p, input];
    box.append(input, " ");
  }
  let body;
  const media = op.requestBody && op.requestBody.content["application/json"];
  if (media) {
    body = el("textarea", {value: JSON.stringify(example(media.schema), null, 2)});
    box.append(body);
  }
  const out = el("pre", {hidden: true});
  const send = el("button", {type: "button"}, "Send");
  send.onclick = async () => {
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const [p, input] of Object.values(inputs)) {
      if (!input.value) continue;
      if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(input.value));
      else if (p.in === "query") query.set(p.name, input.value);
      else headers[p.name] = input.value;
    }
    if (query.toString()) url += "?" + query;
    const key = document.getElementById("key").value;
    if (key && op.security && op.security.length) headers["Authorization"] = "Bearer " + key;
    if (body) headers["Content-Type"] = "application/json";
    out.hidden = false;
    try {
      const response = await fetch(url, {method: method.toUpperCase(), headers,
        body: body ? body.value : undefined, redirect: "manual"});
      const type = response.headers.get("Content-Type") || "";
      let text = response.type === "opaqueredirect" ? "(a redirect)" :
        type.startsWith("image/png") ? "(a PNG image)" : await response.text();
      if (type.startsWith("application/json")) {
        try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
      }
      out.textContent = method.toUpperCase() + " " + url + " \\u2192 " + response.status + "\\n" +
        text;
    } catch (error) {
      out.textContent = String(error);
    }
  };
  box.append(el("p", {}, send), out);
  return box;
};
const operation = (method, path, op) => {
  const body = el("div", {className: "body"});
  if (op.description) body.append(el("p", {}, op.description));
  const scope = op["x-squrl-scope"];
  body.append(el("p", {className: "muted"}, op.security && op.security.length ?
    "Needs a credential (Bearer or x-api-key)" + (scope ? ", scope " + scope : "") + "." :
    "Public."));
  if (op.parameters && op.parameters.length) {
    const table = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"),
      el("th", {}, "type"), el("th", {}, "rules")));
    for (const p of op.parameters) {
      table.append(el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
        el("td", {}, typeOf(p.schema || {})),
        el("td", {className: "muted"}, [rules(p.schema || {}), p.description || ""]
          .filter(Boolean).join(" — "))));
    }
    body.append(el("h4", {}, "Parameters"), table);
  }
  if (op.requestBody) {
    const media = op.requestBody.content["application/json"];
    body.append(el("h4", {}, "Body: " + typeOf(media.schema)),
      el("p", {className: "muted"}, op.requestBody.description || ""), fields(media.schema));
  }
  const responses = el("table", {}, el("tr", {}, el("th", {}, "status"),
    el("th", {}, "meaning"), el("th", {}, "content")));
  for (const [status, answer] of Object.entries(op.responses)) {
    const content = Object.entries(answer.content || {})
      .map(([type, media]) => type + (media.schema ? ": " + typeOf(media.schema) : ""));
    responses.append(el("tr", {}, el("td", {}, el("code", {}, status)),
      el("td", {}, answer.description), el("td", {}, content.join(", "))));
  }
  body.append(el("h4", {}, "Responses"), responses, el("h4", {}, "Try it"),
    tryIt(method, path, op));
  return el("details", {}, el("summary", {},
    el("span", {className: "method " + method}, method.toUpperCase()),
    el("span", {className: "path"}, path), el("span", {className: "muted"}, op.summary || "")),
    body);
};
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  spec = doc;
  document.getElementById("info").textContent = doc.info.title + " " + doc.info.version +
    " \\u2014 OpenAPI " + doc.openapi + ". " + doc.info.description;
  const byTag = new Map();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = (op.tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(method, path, op));
    }
  }
  const ops = document.getElementById("ops");
  for (const [tag, nodes] of byTag) ops.append(el("h2", {}, tag), ...nodes);
}).catch((error) => {
  document.getElementById("info").textContent = "Could not load /openapi.json: " + error;
});
</script>
</body></html>
"""


def docs_page() -> bytes:
    return PAGE.encode("utf-8")

// Personal tokens: create (the secret is shown once, with a copy button), list, revoke.

import { ApiError, api, describe, enc, errorBox } from "../api.js";
import { announce, confirmDialog, copy, field, formatDate, h, setBusy } from "../dom.js";
import { wholeNumber } from "../linkform.js";

const SCOPES = [
  ["links:read", "Read links"],
  ["links:write", "Create and change links"],
  ["stats:read", "Read click statistics"],
];

export function tokensView(page, context) {
  const list = tokenList(context);
  page.append(
    h("h1", {}, "Personal tokens"),
    h("p", {}, "Tokens let scripts and the squrl command use the API as you. Give each the fewest scopes it needs."),
    createForm(list.load),
    list.section);
  list.load();
}

function createForm(created) {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "100", autocomplete: "off" });
  const days = h("input", { type: "text", name: "expires_in_days", value: "90", inputmode: "numeric", autocomplete: "off" });
  const boxes = SCOPES.map(([scope, label]) => {
    const box = h("input", { type: "checkbox", name: "scopes", value: scope, checked: true, id: `scope-${scope.replace(":", "-")}` });
    return h("div", { class: "check" }, box, h("label", { for: box.id }, `${label} (${scope})`));
  });
  const message = h("div");
  const reveal = h("div", { tabindex: "-1" });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "new-token-title" },
    h("h2", { id: "new-token-title" }, "Create a token"),
    h("div", { class: "grid" },
      field("Token name", name, "What it is for, e.g. \"laptop CLI\"."),
      field("Expires in days", days)),
    h("fieldset", {}, h("legend", {}, "Scopes"), boxes),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create token")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const scopes = [...form.querySelectorAll("input[name=scopes]:checked")].map((box) => box.value);
    if (!name.value.trim()) {
      message.append(h("p", { class: "error", role: "alert" }, "Give the token a name."));
      name.focus();
      return;
    }
    if (!scopes.length) {
      message.append(h("p", { class: "error", role: "alert" }, "Choose at least one scope."));
      boxes[0].querySelector("input").focus();
      return;
    }
    setBusy(form, true);
    try {
      const { body } = await api.post("/tokens", { name: name.value.trim(), scopes, expires_in_days: wholeNumber(days.value) });
      form.reset();
      showSecret(reveal, body);
      created();
    } catch (error) {
      message.replaceChildren(errorBox(error));
      name.focus();
    } finally {
      setBusy(form, false);
    }
  });
  return h("div", {}, form, reveal);
}

function showSecret(reveal, token) {
  const input = h("input", { type: "text", readonly: true, value: token.token, id: "new-token", spellcheck: "false" });
  reveal.replaceChildren(h("div", { class: "card success" },
    h("h2", {}, `Token "${token.name}" created`),
    h("p", {}, h("strong", {}, "Copy it now: it is shown only once."), " squrl keeps only a hash of it."),
    h("div", { class: "copy-row" },
      h("label", { for: input.id, class: "visually-hidden" }, "New token"),
      input,
      h("button", { type: "button", onclick: () => copy(token.token, input) }, "Copy token"))));
  reveal.focus();
}

function tokenList(context) {
  const tbody = h("tbody");
  const problem = h("div");
  const table = h("table", { tabindex: "-1" },
    h("caption", {}, "Your tokens"),
    h("thead", {}, h("tr", {},
      ["Name", "Scopes", "Created", "Expires", "Last used", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    tbody);
  const section = h("section", {}, problem, h("div", { class: "table-wrap" }, table));

  async function load() {
    problem.replaceChildren();
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: "6" }, h("span", { role: "status" }, "Loading your tokens…"))));
    try {
      const { body } = await api.get("/tokens");
      if (!context.isCurrent()) return;
      const items = Array.isArray(body) ? body : body.items || [];
      tbody.replaceChildren(...items.map(row));
      if (!items.length) tbody.append(h("tr", {}, h("td", { colspan: "6" }, "No tokens yet.")));
    } catch (error) {
      tbody.replaceChildren();
      const missing = error instanceof ApiError && error.status === 404;
      problem.replaceChildren(missing
        ? h("p", { class: "notice" }, "This server does not offer personal tokens yet.")
        : errorBox(error, load));
    }
  }

  function row(token) {
    const tr = h("tr", {},
      h("th", { scope: "row" }, token.name),
      h("td", {}, (token.scopes || []).join(" ")),
      h("td", {}, formatDate(token.created_at)),
      h("td", {}, token.expires_at ? formatDate(token.expires_at) : "Never"),
      h("td", {}, token.last_used_at ? formatDate(token.last_used_at) : "Never"),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: () => revoke(token, tr) }, "Revoke")));
    return tr;
  }

  async function revoke(token, tr) {
    const yes = await confirmDialog({
      title: `Revoke "${token.name}"?`,
      text: "Scripts using this token stop working at once. This cannot be undone.",
      confirm: "Revoke",
    });
    if (!yes) return;
    try {
      await api.delete(`/tokens/${enc(token.id)}`);
      tr.remove();
      table.focus();
      announce(`Token ${token.name} revoked.`);
    } catch (error) {
      problem.replaceChildren(h("p", { class: "error", role: "alert" }, describe(error)));
    }
  }

  return { section, load };
}

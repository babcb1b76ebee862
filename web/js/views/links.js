// Home: the shorten form with every option, then the links table with filters and paging.

import { api, describe, enc, errorBox } from "../api.js";
import { announce, confirmDialog, copy, field, formatDate, h, newKey, setBusy } from "../dom.js";
import { clearFieldErrors, createBody, linkFields, showFieldError } from "../linkform.js";

const PAGE_SIZE = 25;
// Empty filtered pages read past before the list says nothing matches (each is one request).
const MAX_EMPTY_HOPS = 20;
const STATUSES = [["", "Any"], ["active", "Active"], ["disabled", "Disabled"], ["expired", "Expired"]];

export function linksView(page, context) {
  const table = linksTable(context);
  page.append(
    h("h1", {}, "Links"),
    shortenForm(() => table.load()),
    table.section,
  );
  table.load();
}

function shortenForm(created) {
  const { inputs, fields } = linkFields({ creating: true });
  const message = h("div", { class: "form-message" });
  const result = h("div", { class: "result", tabindex: "-1" });
  const form = h("form", { class: "card shorten", novalidate: true, "aria-labelledby": "shorten-title" },
    h("h2", { id: "shorten-title" }, "Shorten a link"),
    h("div", { class: "grid" }, fields),
    message,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Shorten")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(inputs);
    if (!inputs.original_url.value) {
      message.append(h("p", { class: "error", role: "alert" }, "Enter the destination URL."));
      inputs.original_url.focus();
      return;
    }
    setBusy(form, true);
    message.append(h("p", { role: "status" }, "Shortening…"));
    try {
      // One key per submission: a retry after a lost answer cannot create the link twice.
      const { status, body } = await api.post("/urls", createBody(inputs), { "Idempotency-Key": newKey() });
      message.replaceChildren();
      form.reset();
      showResult(result, body, status === 200);
      // The button was disabled while busy, which drops focus: it goes to the new link instead.
      result.focus();
      created();
    } catch (error) {
      // The input stays as it was typed; the error says what to change.
      message.replaceChildren(errorBox(error));
      const input = showFieldError(inputs, error, describe(error));
      (input || inputs.original_url).focus();
    } finally {
      setBusy(form, false);
    }
  });
  return h("div", {}, form, result);
}

function showResult(result, link, existing) {
  const input = h("input", { type: "text", readonly: true, value: link.short_url, "aria-label": "New short link" });
  result.replaceChildren(h("div", { class: "card success", role: "status" },
    h("p", {}, existing ? "You already had a short link for this address: " : "Short link created: ",
      h("a", { href: link.short_url }, link.short_url)),
    h("div", { class: "copy-row" }, input,
      h("button", { type: "button", onclick: () => copy(link.short_url, input) }, "Copy"))));
}

function linksTable(context) {
  const cursors = [null];
  let pageIndex = 0;
  const status = h("select", { name: "status" }, STATUSES.map(([value, label]) => h("option", { value }, label)));
  const tag = h("input", { type: "text", name: "tag", autocomplete: "off", spellcheck: "false" });
  const filters = h("form", { class: "filters", novalidate: true, role: "search", "aria-label": "Filter links" },
    field("Status", status),
    field("Filter by tag", tag),
    h("button", { type: "submit" }, "Filter"));
  const tbody = h("tbody");
  const table = h("table", { class: "links", tabindex: "-1" },
    h("caption", {}, "Your links"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Short link"),
      h("th", { scope: "col", class: "wide" }, "Destination"),
      h("th", { scope: "col" }, "Status"),
      h("th", { scope: "col", class: "num" }, "Clicks"),
      h("th", { scope: "col" }, "Actions"))),
    tbody);
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const where = h("span", { class: "page-number" });
  const problem = h("div");
  const section = h("section", { class: "list" },
    filters, problem, h("div", { class: "table-wrap" }, table),
    h("nav", { class: "pager", "aria-label": "Pages" }, previous, where, next));

  async function load(index = 0) {
    if (index === 0) cursors.length = 1;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status.value) params.set("status", status.value);
    if (tag.value.trim()) params.set("tag", tag.value.trim().toLowerCase());
    if (cursors[index]) params.set("cursor", cursors[index]);
    table.setAttribute("aria-busy", "true");
    problem.replaceChildren();
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: "5" }, h("span", { role: "status" }, "Loading your links…"))));
    try {
      // A filtered page may come back empty with a cursor (the server reads a bounded number of
      // links per page, docs/design.md): read on until links turn up or the list ends.
      let { body } = await api.get(`/urls?${params}`);
      for (let hop = 0; !body.items.length && body.next_cursor && hop < MAX_EMPTY_HOPS; hop += 1) {
        if (!context.isCurrent()) return;
        params.set("cursor", body.next_cursor);
        ({ body } = await api.get(`/urls?${params}`));
      }
      if (!context.isCurrent()) return;
      pageIndex = index;
      cursors[index + 1] = body.next_cursor;
      tbody.replaceChildren(...body.items.map((link) => row(link)));
      if (!body.items.length) tbody.append(h("tr", {}, h("td", { colspan: "5" }, !filtered() ? "No links yet: shorten one above." : body.next_cursor ? "No matching links found yet: try the next page." : "No links match these filters.")));
      previous.disabled = index === 0;
      next.disabled = !body.next_cursor;
      where.textContent = `Page ${index + 1}`;
    } catch (error) {
      tbody.replaceChildren();
      problem.replaceChildren(errorBox(error, () => load(index)));
    } finally {
      table.setAttribute("aria-busy", "false");
    }
  }

  const filtered = () => Boolean(status.value || tag.value.trim());

  function row(link) {
    const tr = h("tr", { "data-code": link.short_code },
      h("th", { scope: "row" },
        h("a", { href: `#/links/${enc(link.short_code)}` }, link.short_code),
        link.title ? h("span", { class: "sub" }, link.title) : null,
        h("span", { class: "sub narrow url" }, link.original_url)),
      h("td", { class: "wide" },
        h("span", { class: "url" }, link.original_url),
        link.tags?.length ? h("span", { class: "tags" }, link.tags.map((t) => h("span", { class: "tag" }, t))) : null,
        h("span", { class: "sub" }, `Created ${formatDate(link.created_at)}`)),
      h("td", {}, h("span", { class: `status status-${link.status}` }, link.status)),
      h("td", { class: "num" }, String(link.click_count ?? 0)),
      h("td", {}, h("div", { class: "row-actions" },
        h("a", { href: `#/links/${enc(link.short_code)}`, class: "button-link" }, "Stats"),
        h("button", { type: "button", onclick: () => context.go(`/links/${enc(link.short_code)}/edit`) }, "Edit"),
        h("button", { type: "button", onclick: (e) => toggle(link, tr, e.currentTarget) }, link.status === "disabled" ? "Enable" : "Disable"),
        h("button", { type: "button", class: "danger", onclick: () => remove(link, tr) }, "Delete"))));
    return tr;
  }

  async function toggle(link, tr, button) {
    const wanted = link.status === "disabled" ? "active" : "disabled";
    button.disabled = true;
    problem.replaceChildren();
    try {
      const { body } = await api.patch(`/urls/${enc(link.short_code)}`, { status: wanted }, { "If-Match": `"${link.version}"` });
      const fresh = row(body);
      tr.replaceWith(fresh);
      fresh.querySelector(".row-actions button:nth-of-type(2)").focus();
      announce(`${link.short_code} is now ${body.status}.`);
    } catch (error) {
      button.disabled = false;
      problem.replaceChildren(errorBox(error, () => load(pageIndex)));
    }
  }

  async function remove(link, tr) {
    const confirmed = await confirmDialog({
      title: `Delete ${link.short_code}?`,
      text: `${link.short_url} will stop working for good, its statistics are deleted, and the code can never be used again.`,
      confirm: "Delete",
    });
    if (!confirmed) return;
    problem.replaceChildren();
    try {
      await api.delete(`/urls/${enc(link.short_code)}`);
      tr.remove();
      if (!tbody.children.length) tbody.append(h("tr", {}, h("td", { colspan: "5" }, "No links on this page.")));
      table.focus();
      announce(`${link.short_code} deleted.`);
    } catch (error) {
      problem.replaceChildren(errorBox(error, () => load(pageIndex)));
    }
  }

  filters.addEventListener("submit", (event) => { event.preventDefault(); load(0); });
  status.addEventListener("change", () => load(0));
  previous.addEventListener("click", () => load(pageIndex - 1));
  next.addEventListener("click", () => load(pageIndex + 1));
  return { section, load: () => load(0) };
}

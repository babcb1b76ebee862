// Edit one link: PATCH with only the changed fields, guarded by If-Match with the version read.

import { ApiError, api, describe, enc, errorBox } from "../api.js";
import { announce, field, h, setBusy } from "../dom.js";
import { clearFieldErrors, linkFields, parseTags, showFieldError, wholeNumber } from "../linkform.js";

export async function editView(page, code, context) {
  const heading = h("h1", {}, `Edit ${code}`);
  const body = h("div", {}, h("p", { role: "status" }, "Loading the link…"));
  page.append(heading, body);
  let loaded;
  try {
    loaded = await api.get(`/urls/${enc(code)}`);
  } catch (error) {
    body.replaceChildren(errorBox(error, () => context.go(`/links/${enc(code)}/edit`)), backLink());
    return;
  }
  if (!context.isCurrent()) return;
  body.replaceChildren(editForm(loaded.body, versionOf(loaded), context));
}

function versionOf({ headers, body }) {
  return headers.get("ETag") || `"${body.version}"`;
}

function backLink() {
  return h("p", {}, h("a", { href: "#/" }, "Back to your links"));
}

function editForm(link, etag, context) {
  const { inputs, fields } = linkFields({ link, creating: false });
  const never = h("input", { type: "checkbox", name: "never" });
  const status = h("select", { name: "status" },
    h("option", { value: "active", selected: link.status !== "disabled" }, "Active"),
    h("option", { value: "disabled", selected: link.status === "disabled" }, "Disabled"));
  inputs.status = status;
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "card", novalidate: true, "aria-label": `Edit ${link.short_code}` },
    h("p", {}, "Short link: ", h("a", { href: link.short_url }, link.short_url)),
    h("div", { class: "grid" }, fields,
      h("div", { class: "field check" }, never, h("label", { for: (never.id = "never-expires") }, "Never expires")),
      field("Link status", status)),
    message,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Save"),
      h("a", { href: "#/", class: "button-link" }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(inputs);
    const changes = changed(link, inputs, never.checked);
    if (!Object.keys(changes).length) {
      message.append(h("p", { role: "status" }, "Nothing changed."));
      return;
    }
    setBusy(form, true);
    try {
      await api.patch(`/urls/${enc(link.short_code)}`, changes, { "If-Match": etag });
      announce(`${link.short_code} saved.`);
      context.go("/");
    } catch (error) {
      message.replaceChildren(errorBox(error, error instanceof ApiError && error.status === 412
        ? () => context.go(`/links/${enc(link.short_code)}/edit`) : null));
      (showFieldError(inputs, error, describe(error)) || inputs.original_url).focus();
      setBusy(form, false);
    }
  });
  return form;
}

function changed(link, inputs, never) {
  const changes = {};
  if (inputs.original_url.value !== link.original_url) changes.original_url = inputs.original_url.value;
  const title = inputs.title.value.trim() || null;
  if (title !== (link.title || null)) changes.title = title;
  if (Number(inputs.redirect_type.value) !== link.redirect_type) changes.redirect_type = Number(inputs.redirect_type.value);
  const tags = parseTags(inputs.tags.value).sort();
  if (tags.join(",") !== [...(link.tags || [])].sort().join(",")) changes.tags = tags;
  if (inputs.ttl_hours.value.trim() !== "") changes.ttl_hours = wholeNumber(inputs.ttl_hours.value);
  else if (never && link.expires_at) changes.expires_at = null;
  if (inputs.status.value !== link.status && link.status !== "expired") changes.status = inputs.status.value;
  if (link.status === "expired" && inputs.status.value === "disabled") changes.status = "disabled";
  return changes;
}

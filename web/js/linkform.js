// The fields a link has, shared by the shorten form and the edit page. Their labels are the
// accessible names docs/api.md section 10 fixes.

import { errorField } from "./api.js";
import { field, h } from "./dom.js";

export const REDIRECT_TYPES = ["301", "302", "307", "308"];

export function linkFields({ link = null, creating = true } = {}) {
  const inputs = {
    original_url: h("input", { type: "url", name: "original_url", inputmode: "url", autocomplete: "url", spellcheck: "false", required: true, value: link?.original_url || "" }),
    title: h("input", { type: "text", name: "title", maxlength: "200", value: link?.title || "" }),
    custom_code: creating ? h("input", { type: "text", name: "custom_code", autocomplete: "off", spellcheck: "false", maxlength: "20" }) : null,
    // Text with a numeric keyboard rather than type=number: no scroll-wheel or arrow-key
    // changes by accident, and what was typed reaches the API as typed, to be judged there.
    ttl_hours: h("input", { type: "text", name: "ttl_hours", inputmode: "numeric", autocomplete: "off" }),
    redirect_type: h("select", { name: "redirect_type" },
      REDIRECT_TYPES.map((value) => h("option", { value, selected: String(link?.redirect_type || 301) === value }, value))),
    tags: h("input", { type: "text", name: "tags", autocomplete: "off", spellcheck: "false", value: (link?.tags || []).join(", ") }),
  };
  const expiresHint = creating
    ? "Leave empty for a link that never expires. Up to 87600 (10 years)."
    : `Now: ${link?.expires_at ? `expires ${new Date(link.expires_at).toLocaleString()}` : "never expires"}. A number sets a new expiry from now.`;
  const fields = [
    field("Destination URL", inputs.original_url, "The long address people are sent to, starting with https:// or http://."),
    field("Title", inputs.title, "Optional, for you only."),
    creating ? field("Custom code", inputs.custom_code, "Optional: 3 to 20 letters, digits, - or _. Empty for a generated one.") : null,
    field("Expires in hours", inputs.ttl_hours, expiresHint),
    field("Redirect type", inputs.redirect_type, "301 and 308 are permanent (browsers may keep them up to an hour); 302 and 307 are temporary."),
    field("Tags", inputs.tags, "Optional, comma-separated: lowercase letters, digits and -, up to 10."),
  ];
  return { inputs, fields };
}

// "24" -> 24; anything else is sent as typed, for the API to refuse with its own message.
export function wholeNumber(text) {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function parseTags(text) {
  return [...new Set(text.split(/[\s,]+/).map((tag) => tag.trim()).filter(Boolean))];
}

// The create body: only what the person filled in.
export function createBody(inputs) {
  const body = { original_url: inputs.original_url.value };
  if (inputs.title.value.trim()) body.title = inputs.title.value.trim();
  if (inputs.custom_code.value) body.custom_code = inputs.custom_code.value;
  if (inputs.ttl_hours.value.trim() !== "") body.ttl_hours = wholeNumber(inputs.ttl_hours.value);
  body.redirect_type = Number(inputs.redirect_type.value);
  const tags = parseTags(inputs.tags.value);
  if (tags.length) body.tags = tags;
  return body;
}

// Marks the field an API error names and puts the message next to it; returns that field.
export function showFieldError(inputs, error, message) {
  clearFieldErrors(inputs);
  const name = errorField(error);
  const input = name && inputs[name];
  if (!input) return null;
  const id = `${input.id}-error`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", `${id} ${input.getAttribute("aria-describedby") || ""}`.trim());
  input.closest(".field").append(h("p", { class: "field-error", id }, message));
  return input;
}

export function clearFieldErrors(inputs) {
  for (const input of Object.values(inputs)) {
    if (!input) continue;
    input.removeAttribute("aria-invalid");
    const id = `${input.id}-error`;
    document.getElementById(id)?.remove();
    const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((part) => part && part !== id);
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

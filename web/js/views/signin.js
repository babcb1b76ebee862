import { ApiError, api, describe } from "../api.js";
import { signIn, signOut, startHostedSignIn } from "../auth.js";
import { append, field, h, setBusy } from "../dom.js";

export function signInView(page, context) {
  const cognito = context.config.cognito;
  const input = h("input", { type: "password", name: "token", autocomplete: "off", spellcheck: "false", required: true });
  const message = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, cognito ? "Or use a personal token" : "Use a personal token"),
    field("Personal token", input, "A token from the Tokens page, or locally any SQURL_API_KEY value."),
    h("button", { type: "submit" }, "Use token"),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    if (!input.value.trim()) {
      message.append(h("p", { class: "error", role: "alert" }, "Paste a token first."));
      input.focus();
      return;
    }
    setBusy(form, true);
    signIn(input.value);
    try {
      await api.check("/urls?limit=1");
    } catch (error) {
      const allowed = error instanceof ApiError && error.details?.reason === "scope";
      if (!allowed) {
        signOut();
        setBusy(form, false);
        message.append(h("p", { class: "error", role: "alert" }, describe(error)));
        input.focus();
        return;
      }
    }
    context.go("/");
  });
  append(page, [
    h("h1", {}, "Sign in"),
    context.notice ? h("p", { class: "notice", role: "alert" }, context.notice) : null,
    cognito
      ? h("section", { class: "card" },
          h("p", {}, "Sign in with your squrl account."),
          h("button", { type: "button", class: "primary", onclick: () => startHostedSignIn(cognito) }, "Sign in"))
      : null,
    form,
  ]);
}

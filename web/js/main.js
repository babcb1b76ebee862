// squrl's web app: hash routes, each a view that renders into <main>.

import { configure } from "./api.js";
import { finishHostedSignIn, hostedSignOutUrl, signedInWithCognito, signOut, takeTokenFromUrl, token } from "./auth.js";
import { announce, h } from "./dom.js";
import { editView } from "./views/edit.js";
import { linksView } from "./views/links.js";
import { signInView } from "./views/signin.js";
import { statsView } from "./views/stats.js";
import { tokensView } from "./views/tokens.js";

const ROUTES = [
  [/^\/$/, linksView],
  [/^\/links\/([^/]+)\/edit$/, editView],
  [/^\/links\/([^/]+)$/, statsView],
  [/^\/tokens$/, tokensView],
  [/^\/signin$/, signInView],
];

const state = { config: {}, notice: null, rendering: 0 };

function currentPath() {
  const path = location.hash.replace(/^#/, "") || "/";
  return path.startsWith("/") ? path : `/${path}`;
}

export function go(path) {
  if (currentPath() === path) render();
  else location.hash = path;
}

// Sign-out from anywhere (the button, or an API answer that refuses the token).
function signedOut(message) {
  signOut();
  state.notice = message || null;
  go("/signin");
}

async function render() {
  const ticket = ++state.rendering;
  let path = currentPath();
  const signedIn = Boolean(token());
  document.getElementById("nav").hidden = !signedIn;
  if (!signedIn && path !== "/signin") path = "/signin";
  if (signedIn && path === "/signin") path = "/";
  const [pattern, view] = ROUTES.find(([re]) => re.test(path)) || [null, notFoundView];
  const params = pattern ? path.match(pattern).slice(1).map(decodeURIComponent) : [];
  const main = document.getElementById("main");
  const page = h("div", { class: "page" });
  const context = { config: state.config, go, notice: state.notice, isCurrent: () => ticket === state.rendering };
  state.notice = null;
  main.replaceChildren(page);
  // Views put their heading in at once, before they wait for the API.
  const done = view(page, ...params, context);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    document.title = `${heading.textContent} · squrl`;
    // Focus follows navigation: to the new page's heading, so the next Tab is in the page.
    heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
  await done;
}

function notFoundView(page) {
  page.append(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Back to your links")));
}

async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) return await response.json();
  } catch {
    // No config: the API is on this origin and there is no hosted sign-in.
  }
  return {};
}

async function start() {
  state.config = await loadConfig();
  configure({ base: state.config.api_base_url || "", token, signedOut });
  if (takeTokenFromUrl()) announce("Signed in.");
  try {
    if (await finishHostedSignIn(state.config.cognito)) announce("Signed in.");
  } catch (error) {
    state.notice = error.message;
  }
  // The skip link moves focus without touching the hash, which is the route.
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    (document.querySelector("main h1") || document.getElementById("main")).focus();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    const cognito = state.config.cognito;
    if (cognito && signedInWithCognito()) {
      signOut();
      location.assign(hostedSignOutUrl(cognito));
      return;
    }
    signedOut("You are signed out.");
  });
  window.addEventListener("hashchange", () => {
    if (takeTokenFromUrl()) announce("Signed in.");
    render();
  });
  render();
}

start();

// Who the browser is signed in as: a bearer token kept in localStorage (docs/web.md, "Signing
// in"). Two ways in: a personal token (pasted, or from a `#token=` link, which is then removed
// from the address bar and history), or Cognito's hosted UI with the authorization code + PKCE.

const TOKEN_KEY = "squrl.token";
const EXPIRES_KEY = "squrl.token.expires";
const PKCE_KEY = "squrl.pkce";
const SOURCE_KEY = "squrl.token.source";
// What the web app client allows (cdk_constructs/identity/user_pool.py), when config.json names none.
const DEFAULT_SCOPES = ["openid", "email", "profile"];

export function token() {
  const expires = Number(localStorage.getItem(EXPIRES_KEY) || 0);
  if (expires && Date.now() > expires) {
    signOut();
    return null;
  }
  return localStorage.getItem(TOKEN_KEY);
}

export function signIn(value, expiresInSeconds, source) {
  localStorage.setItem(TOKEN_KEY, value.trim());
  if (expiresInSeconds) localStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresInSeconds * 1000));
  else localStorage.removeItem(EXPIRES_KEY);
  if (source) localStorage.setItem(SOURCE_KEY, source);
  else localStorage.removeItem(SOURCE_KEY);
}

export function signOut() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(EXPIRES_KEY);
  localStorage.removeItem(SOURCE_KEY);
}

// True when the token came from the hosted UI, whose own session then outlives it.
export function signedInWithCognito() {
  return localStorage.getItem(SOURCE_KEY) === "cognito";
}

// `/app/#token=<token>`: signs in and takes the token out of the URL at once.
export function takeTokenFromUrl() {
  const hash = location.hash.replace(/^#\/?/, "");
  if (!hash.startsWith("token=")) return false;
  const value = new URLSearchParams(hash).get("token");
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  if (!value) return false;
  signIn(value);
  return true;
}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// Sends the browser to Cognito's hosted UI (OAuth 2.0 authorization code with PKCE, S256).
export async function startHostedSignIn(cognito) {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: cognito.client_id,
    redirect_uri: cognito.redirect_uri,
    scope: (cognito.scopes || DEFAULT_SCOPES).join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${cognito.domain.replace(/\/+$/, "")}/oauth2/authorize?${params}`);
}

// Back from the hosted UI with `?code=&state=`: exchanges the code for tokens.
export async function finishHostedSignIn(cognito) {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!cognito || (!code && !params.get("error"))) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", `${location.pathname}#/`);
  if (params.get("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!saved || saved.state !== params.get("state")) throw new Error("The sign-in answer did not match this browser's request. Sign in again.");
  const response = await fetch(`${cognito.domain.replace(/\/+$/, "")}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: cognito.client_id,
      code,
      redirect_uri: cognito.redirect_uri,
      code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) throw new Error("Cognito refused the sign-in. Sign in again.");
  const tokens = await response.json();
  const jwt = cognito.token_use === "id" ? tokens.id_token : tokens.access_token;
  if (typeof jwt !== "string" || !jwt) throw new Error("Cognito sent no token. Sign in again.");
  signIn(jwt, Number(tokens.expires_in) || 3600, "cognito");
  return true;
}

// Cognito's logout endpoint: ends the hosted UI's session (else the next "Sign in" goes straight
// back in) and returns to the app; `logout_uri` must be one of the client's sign-out URLs, which
// are its callback URLs.
export function hostedSignOutUrl(cognito) {
  const params = new URLSearchParams({ client_id: cognito.client_id, logout_uri: cognito.redirect_uri });
  return `${cognito.domain.replace(/\/+$/, "")}/logout?${params}`;
}

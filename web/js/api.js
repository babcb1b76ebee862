// The API client: bearer auth, the spec's error body as a readable error, retries for
// requests that are safe to repeat (GETs, and creates that carry an Idempotency-Key).

import { h } from "./dom.js";

let baseUrl = "";
let tokenSource = () => null;
let onSignedOut = () => {};

export function configure({ base, token, signedOut }) {
  baseUrl = (base || "").replace(/\/+$/, "");
  tokenSource = token;
  onSignedOut = signedOut;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.error || "Error";
    this.details = body?.details || null;
  }
}

const ATTEMPTS = 3;
const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const MAX_WAIT_MS = 8000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function waitBefore(attempt, response) {
  const retryAfter = Number(response?.headers.get("Retry-After"));
  if (retryAfter > 0) return Math.min(retryAfter * 1000, MAX_WAIT_MS);
  return Math.min(400 * 2 ** (attempt - 1) + Math.random() * 200, MAX_WAIT_MS);
}

async function send(method, path, options) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const token = tokenSource();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  return fetch(baseUrl + path, { method, headers, body, cache: "no-store" });
}

// One request; retried on network failures and 429/5xx when repeating it cannot change more.
export async function request(method, path, options = {}) {
  const repeatable = method === "GET" || Boolean(options.headers?.["Idempotency-Key"]);
  const attempts = repeatable ? ATTEMPTS : 1;
  for (let attempt = 1; ; attempt += 1) {
    let response;
    try {
      response = await send(method, path, options);
    } catch {
      if (attempt < attempts) { await sleep(waitBefore(attempt)); continue; }
      throw new ApiError(0, {
        error: "NetworkError",
        message: "squrl could not be reached. Check your connection and try again.",
      });
    }
    if (RETRYABLE.has(response.status) && attempt < attempts) {
      await sleep(waitBefore(attempt, response));
      continue;
    }
    return read(response, options);
  }
}

async function read(response, options) {
  if (response.ok && options.raw) return { status: response.status, headers: response.headers, blob: await response.blob() };
  let body = null;
  const type = response.headers.get("Content-Type") || "";
  if (response.status !== 204 && type.includes("json")) {
    try { body = await response.json(); } catch { body = null; }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, body);
    const refused = response.status === 401 || (response.status === 403 && error.details?.reason !== "scope");
    if (refused && tokenSource() && !options.keepSession) onSignedOut("Your sign-in is no longer valid. Sign in again.");
    throw error;
  }
  return { status: response.status, headers: response.headers, body };
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body, headers) => request("POST", path, { body, headers }),
  patch: (path, body, headers) => request("PATCH", path, { body, headers }),
  delete: (path) => request("DELETE", path),
  // API Gateway decodes a binary answer only when the request's first Accept type is binary.
  blob: (path, accept) => request("GET", path, { raw: true, headers: { Accept: accept } }),
  // A check of a token just entered: a refusal is reported, not a sign-out.
  check: (path) => request("GET", path, { keepSession: true }),
};

export const enc = encodeURIComponent;

// An error as a person reads it: the API's message, with what to do for the common cases.
export function describe(error) {
  if (!(error instanceof ApiError)) return "Something went wrong in the page. Reload and try again.";
  if (error.status === 412) return "This link was changed somewhere else since you opened it. Reload to see the latest version, then make your change again.";
  if (error.status === 429) return "Too many requests right now. Wait a moment and try again.";
  if (error.status === 403 && error.details?.reason === "scope") return `${error.message} (the token you signed in with does not allow this).`;
  return error.message;
}

export function errorBox(error, retry) {
  return h("div", { class: "error", role: "alert" },
    h("p", {}, describe(error)),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null);
}

// The field a ValidationError or InvalidUrl names, if any.
export function errorField(error) {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "InvalidUrl") return "original_url";
  return error.details?.field || null;
}

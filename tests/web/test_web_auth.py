"""The web app's hosted sign-in (web/js/auth.js) against Cognito's endpoints, run with node and
no browser: `/oauth2/authorize` with the authorization code + PKCE (S256) parameters,
`/oauth2/token` with the code and its verifier, the token the API's authorizer takes
(`token_use`: access by default, id when config.json says so), and `/logout`."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

NODE = shutil.which("node")
AUTH_JS = Path(__file__).resolve().parents[2] / "web" / "js" / "auth.js"
DOMAIN = "https://squrl-dev-111111111111.auth.us-east-1.amazoncognito.com"
COGNITO = {
    "domain": DOMAIN,
    "client_id": "webclient123",
    "redirect_uri": "https://sq.example.com/app/",
    "scopes": ["openid", "email", "profile"],
    "token_use": "access",
}
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

# A page without a browser: storage, location, history and fetch that record what they see.
HARNESS = """
const store = () => { const m = new Map(); return {
  getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)),
  removeItem: (k) => m.delete(k), dump: () => Object.fromEntries(m) }; };
globalThis.localStorage = store();
globalThis.sessionStorage = store();
const seen = { assigned: [], fetched: [] };
globalThis.location = { pathname: "/app/", search: "", hash: "",
  assign: (url) => seen.assigned.push(url) };
globalThis.history = { replaceState: (_s, _t, url) => { seen.replaced = url; } };
globalThis.fetch = async (url, init) => {
  seen.fetched.push({ url, method: init.method, headers: init.headers, body: String(init.body) });
  return { ok: true, json: async () => ({ access_token: "ACCESS", id_token: "ID",
    refresh_token: "REFRESH", expires_in: 3600, token_type: "Bearer" }) };
};
const auth = await import(process.argv[2]);
const input = JSON.parse(process.argv[3]);
const out = {};
try {
  if (input.start) {
    await auth.startHostedSignIn(input.cognito);
    out.pkce = JSON.parse(sessionStorage.getItem("squrl.pkce"));
  }
  if (input.finish) {
    sessionStorage.setItem("squrl.pkce", JSON.stringify({ verifier: "v".repeat(43), state: "S" }));
    location.search = input.finish;
    out.finished = await auth.finishHostedSignIn(input.cognito);
    out.cognito = auth.signedInWithCognito();
  }
  if (input.signOut) out.logout = auth.hostedSignOutUrl(input.cognito);
} catch (error) { out.error = error.message; }
out.seen = seen;
out.local = localStorage.dump();
console.log(JSON.stringify(out));
"""


def run(tmp_path: Path, **scenario: Any) -> dict[str, Any]:
    module = tmp_path / "auth.mjs"
    module.write_text(AUTH_JS.read_text())
    script = tmp_path / "harness.mjs"
    script.write_text(HARNESS)
    result = subprocess.run(
        [NODE or "node", str(script), module.as_uri(), json.dumps(scenario)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def test_sign_in_goes_to_the_authorize_endpoint_with_pkce(tmp_path: Path) -> None:
    out = run(tmp_path, start=True, cognito=COGNITO)
    (url,) = out["seen"]["assigned"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{DOMAIN}/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    verifier = out["pkce"]["verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query == {
        "response_type": "code",
        "client_id": "webclient123",
        "redirect_uri": "https://sq.example.com/app/",
        "scope": "openid email profile",
        "state": out["pkce"]["state"],
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    # RFC 7636: a verifier of 43 to 128 characters.
    assert 43 <= len(verifier) <= 128


def test_without_scopes_it_asks_for_what_the_client_allows(tmp_path: Path) -> None:
    cognito = {k: v for k, v in COGNITO.items() if k != "scopes"}
    out = run(tmp_path, start=True, cognito=cognito)
    (url,) = out["seen"]["assigned"]
    assert parse_qs(urlsplit(url).query)["scope"] == ["openid email profile"]


def test_the_code_is_exchanged_at_the_token_endpoint_and_the_access_token_kept(
    tmp_path: Path,
) -> None:
    out = run(tmp_path, finish="?code=CODE1&state=S", cognito=COGNITO)
    assert out["finished"] is True
    (call,) = out["seen"]["fetched"]
    assert call["url"] == f"{DOMAIN}/oauth2/token"
    assert call["method"] == "POST"
    assert call["headers"] == {"Content-Type": "application/x-www-form-urlencoded"}
    assert {k: v[0] for k, v in parse_qs(call["body"]).items()} == {
        "grant_type": "authorization_code",
        "client_id": "webclient123",
        "code": "CODE1",
        "redirect_uri": "https://sq.example.com/app/",
        "code_verifier": "v" * 43,
    }
    # The access token: its `client_id` claim is what the authorizer checks for token_use access.
    assert out["local"]["squrl.token"] == "ACCESS"
    assert out["cognito"] is True
    # The code leaves the address bar.
    assert out["seen"]["replaced"] == "/app/#/"


def test_token_use_id_keeps_the_id_token(tmp_path: Path) -> None:
    out = run(tmp_path, finish="?code=CODE1&state=S", cognito=COGNITO | {"token_use": "id"})
    assert out["local"]["squrl.token"] == "ID"


def test_a_foreign_state_is_refused_before_any_exchange(tmp_path: Path) -> None:
    out = run(tmp_path, finish="?code=CODE1&state=OTHER", cognito=COGNITO)
    assert "did not match" in out["error"]
    assert out["seen"]["fetched"] == []
    assert "squrl.token" not in out["local"]


def test_an_error_answer_is_shown_and_nothing_stored(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        finish="?error=access_denied&error_description=User+cancelled&state=S",
        cognito=COGNITO,
    )
    assert out["error"] == "User cancelled"
    assert out["seen"]["fetched"] == [] and "squrl.token" not in out["local"]


def test_sign_out_ends_the_hosted_ui_session_at_the_logout_endpoint(tmp_path: Path) -> None:
    out = run(tmp_path, signOut=True, cognito=COGNITO)
    parts = urlsplit(out["logout"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{DOMAIN}/logout"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": "webclient123",
        "logout_uri": "https://sq.example.com/app/",
    }

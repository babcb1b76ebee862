"""Browser sign-in: OAuth 2.0 authorization code with PKCE (RFC 7636) and a loopback redirect
(RFC 8252), against any OpenID Connect discovery document, e.g. a Cognito user pool's
`https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/openid-configuration`.

1. Read the discovery document: `authorization_endpoint` (Cognito's hosted UI) and
   `token_endpoint`.
2. Listen on `http://localhost:<port>/callback` (the app client's registered callback URL).
3. Open the browser at the authorization endpoint with a fresh `state` and an S256
   `code_challenge`; the user signs in; the browser comes back to the loopback listener with
   `code` and `state`.
4. Exchange the code and the `code_verifier` at the token endpoint (public client: no secret).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

DEFAULT_PORT = 8765
DEFAULT_SCOPES = "openid email profile"
CALLBACK_PATH = "/callback"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
LOGIN_TIMEOUT_SECONDS = 300


class OAuthError(Exception):
    pass


@dataclass(frozen=True)
class OidcSettings:
    """What browser sign-in needs: the issuer (or its discovery URL) and the app client id."""

    issuer: str
    client_id: str
    scopes: str = DEFAULT_SCOPES
    port: int = DEFAULT_PORT
    # "access" or "id": which of the JWTs is sent as the bearer credential.
    use_token: str = "access"

    @property
    def discovery_url(self) -> str:
        if self.issuer.endswith(DISCOVERY_SUFFIX):
            return self.issuer
        return self.issuer.rstrip("/") + DISCOVERY_SUFFIX

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self.port}{CALLBACK_PATH}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "scopes": self.scopes,
            "port": self.port,
            "use_token": self.use_token,
        }


@dataclass(frozen=True)
class SignIn:
    token: str
    refresh_token: str | None
    expires_at: float | None


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43 chars of base64url) and its S256 challenge."""
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return verifier, challenge


def discover(http: httpx.Client, settings: OidcSettings) -> dict[str, Any]:
    response = http.get(settings.discovery_url)
    if not response.is_success:
        raise OAuthError(
            f"discovery document {settings.discovery_url}: HTTP {response.status_code}"
        )
    document = response.json()
    for key in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(document.get(key), str):
            raise OAuthError(f"discovery document {settings.discovery_url} has no {key}")
    return document  # type: ignore[no-any-return]


class _Callback:
    """The one redirect the loopback listener waits for."""

    def __init__(self) -> None:
        self.params: dict[str, str] | None = None
        self.arrived = threading.Event()


def _handler_for(callback: _Callback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != CALLBACK_PATH:
                self.send_error(404)
                return
            callback.params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            ok = "code" in callback.params
            body = (
                b"<!doctype html><title>squrl</title><p>Signed in. You can close this tab."
                if ok
                else b"<!doctype html><title>squrl</title><p>Sign-in failed; see the terminal."
            )
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            callback.arrived.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def browser_sign_in(
    settings: OidcSettings,
    *,
    http: httpx.Client | None = None,
    open_browser: Callable[[str], Any] = webbrowser.open,
    announce: Callable[[str], None] = lambda url: None,
    timeout: float = LOGIN_TIMEOUT_SECONDS,
) -> SignIn:
    """Run the whole flow and return the credential to store."""
    http = http or httpx.Client(timeout=30)
    document = discover(http, settings)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    callback = _Callback()
    server = HTTPServer(("127.0.0.1", settings.port), _handler_for(callback))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": settings.client_id,
                "redirect_uri": settings.redirect_uri,
                "scope": settings.scopes,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        authorize_url = f"{document['authorization_endpoint']}?{query}"
        announce(authorize_url)
        open_browser(authorize_url)
        if not callback.arrived.wait(timeout):
            raise OAuthError(f"no sign-in within {int(timeout)} s")
    finally:
        server.shutdown()
        server.server_close()
    params = callback.params or {}
    if params.get("state") != state:
        raise OAuthError("the sign-in answer's state does not match (possible forgery)")
    if "code" not in params:
        raise OAuthError(
            f"sign-in refused: {params.get('error_description') or params.get('error')}"
        )
    tokens = _token_request(
        http,
        document["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": settings.redirect_uri,
            "client_id": settings.client_id,
            "code_verifier": verifier,
        },
    )
    return _sign_in_from(tokens, settings, refresh_token=None)


def refresh(
    settings: OidcSettings, refresh_token: str, *, http: httpx.Client | None = None
) -> SignIn:
    """A new JWT from the refresh token (Cognito keeps the same refresh token)."""
    http = http or httpx.Client(timeout=30)
    document = discover(http, settings)
    tokens = _token_request(
        http,
        document["token_endpoint"],
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": settings.client_id,
        },
    )
    return _sign_in_from(tokens, settings, refresh_token=refresh_token)


def _token_request(http: httpx.Client, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
    response = http.post(endpoint, data=form)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not response.is_success:
        reason = (
            body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        )
        raise OAuthError(f"token endpoint refused: {reason}")
    return body  # type: ignore[no-any-return]


def _sign_in_from(
    tokens: dict[str, Any], settings: OidcSettings, *, refresh_token: str | None
) -> SignIn:
    token = tokens.get("id_token" if settings.use_token == "id" else "access_token")
    if not isinstance(token, str):
        raise OAuthError(f"the token endpoint sent no {settings.use_token} token")
    expires_in = tokens.get("expires_in")
    return SignIn(
        token=token,
        refresh_token=tokens.get("refresh_token") or refresh_token,
        expires_at=time.time() + float(expires_in) if expires_in else None,
    )

"""Browser sign-in (squrl_cli.oauth): authorization code + PKCE with a loopback redirect, run for
real on loopback against a scripted identity provider (discovery document and token endpoint)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from squrl_cli import cli, oauth

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
AUTHORIZE = "https://squrl-dev.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
TOKEN_ENDPOINT = "https://squrl-dev.auth.eu-west-1.amazoncognito.com/oauth2/token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


class IdentityProvider:
    """Discovery, the hosted UI (as a browser would follow it) and the token endpoint."""

    def __init__(self) -> None:
        self.challenge: str | None = None
        self.token_forms: list[dict[str, str]] = []
        self.deny = False
        self.forge_state = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": AUTHORIZE,
                    "token_endpoint": TOKEN_ENDPOINT,
                },
            )
        assert str(request.url) == TOKEN_ENDPOINT
        form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
        self.token_forms.append(form)
        exchanged = form["grant_type"] == "authorization_code"
        if exchanged and (
            form["code"] != "code-1" or s256(form["code_verifier"]) != self.challenge
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(
            200,
            json={
                "access_token": "access-jwt",
                "id_token": "id-jwt",
                "refresh_token": "refresh-1",
                "expires_in": 3600,
                "token_type": "Bearer",
            },
        )

    def browser(self, authorize_url: str) -> None:
        """The user signs in: the hosted UI redirects the browser to the loopback listener."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        assert authorize_url.startswith(AUTHORIZE + "?")
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == "app-client"
        assert query["scope"] == "openid email profile"
        self.challenge = query["code_challenge"]
        answer = {"code": "code-1", "state": "forged" if self.forge_state else query["state"]}
        if self.deny:
            answer = {
                "error": "access_denied",
                "error_description": "User cancelled",
                "state": query["state"],
            }
        # The listener answers a refused sign-in with 400, which urllib raises.
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{query['redirect_uri']}?{urlencode(answer)}", timeout=5).read()


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider()


def sign_in(idp: IdentityProvider, **overrides: Any) -> oauth.SignIn:
    settings = oauth.OidcSettings(
        issuer=ISSUER, client_id="app-client", port=free_port(), **overrides
    )
    http = httpx.Client(transport=httpx.MockTransport(idp.handle))
    return oauth.browser_sign_in(settings, http=http, open_browser=idp.browser, timeout=10)


def test_pkce_pair_is_a_43_character_verifier_and_its_s256_challenge() -> None:
    verifier, challenge = oauth.pkce_pair()
    assert len(verifier) == 43
    assert challenge == s256(verifier)
    assert oauth.pkce_pair()[0] != verifier


def test_the_whole_flow_exchanges_the_code_with_the_verifier(idp: IdentityProvider) -> None:
    signed = sign_in(idp)
    assert signed.token == "access-jwt"
    assert signed.refresh_token == "refresh-1"
    assert signed.expires_at is not None
    form = idp.token_forms[0]
    assert form["grant_type"] == "authorization_code"
    assert form["client_id"] == "app-client"
    assert form["redirect_uri"].startswith("http://localhost:") and form["redirect_uri"].endswith(
        "/callback"
    )
    assert "client_secret" not in form


def test_the_id_token_can_be_the_credential(idp: IdentityProvider) -> None:
    assert sign_in(idp, use_token="id").token == "id-jwt"


def test_an_answer_with_another_state_is_refused(idp: IdentityProvider) -> None:
    idp.forge_state = True
    with pytest.raises(oauth.OAuthError, match="state"):
        sign_in(idp)
    assert idp.token_forms == []


def test_a_cancelled_sign_in_is_reported(idp: IdentityProvider) -> None:
    idp.deny = True
    with pytest.raises(oauth.OAuthError, match="User cancelled"):
        sign_in(idp)


def test_a_discovery_document_without_endpoints_is_refused() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))
    settings = oauth.OidcSettings(issuer=ISSUER, client_id="app-client", port=free_port())
    with pytest.raises(oauth.OAuthError, match="authorization_endpoint"):
        oauth.browser_sign_in(settings, http=http, open_browser=lambda url: None, timeout=1)


def test_refresh_uses_the_refresh_token_grant(idp: IdentityProvider) -> None:
    settings = oauth.OidcSettings(
        issuer=ISSUER + "/.well-known/openid-configuration", client_id="app-client"
    )
    http = httpx.Client(transport=httpx.MockTransport(idp.handle))
    signed = oauth.refresh(settings, "refresh-1", http=http)
    assert signed.token == "access-jwt"
    assert idp.token_forms[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "app-client",
    }


def test_a_failed_browser_sign_in_is_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQURL_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("SQURL_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SQURL_OIDC_CLIENT_ID", "app-client")

    def refuse(*args: Any, **kwargs: Any) -> oauth.SignIn:
        raise oauth.OAuthError("token endpoint refused: invalid_grant")

    monkeypatch.setattr(oauth, "browser_sign_in", refuse)
    result = CliRunner().invoke(cli.app, ["login", "--no-browser"])
    assert result.exit_code == 3
    assert result.stderr == "squrl: sign-in failed: token endpoint refused: invalid_grant\n"
    assert not (tmp_path / "config.json").exists()

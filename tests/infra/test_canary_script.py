"""The canary's script (functions/canary/handler.py), run against a fake API and short link.

The script is inlined into the canary and cannot import shared/, so its copy of the redirect
statuses is checked against the http contract here.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from functions.canary import handler as canary
from shared.contracts.http import REDIRECT_STATUSES

pytestmark = pytest.mark.infra

API = "https://api.example/dev"
TARGET = "https://example.com/squrl-canary"


def test_redirect_statuses_match_the_contract():
    assert frozenset(REDIRECT_STATUSES) == canary.REDIRECT_STATUSES


class FakeSqurl:
    """Answers the create, then the short link, the way the API would."""

    def __init__(self, redirect_status: int = 301, location: str | None = None) -> None:
        self.redirect_status = redirect_status
        self.location = location
        self.requests: list[urllib.request.Request] = []
        self.original: str | None = None

    def send(self, request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(request)
        if request.get_method() == "POST":
            assert request.full_url == f"{API}/urls"
            assert request.get_header("X-api-key") == "key-1"
            assert isinstance(request.data, bytes)
            self.original = json.loads(request.data)["original_url"]
            link = {
                "short_code": "Ab3dE6gH",
                "short_url": f"{API}/Ab3dE6gH",
                "original_url": self.original,
            }
            return 201, {"Content-Type": "application/json"}, json.dumps(link).encode()
        location = self.location if self.location is not None else self.original
        return self.redirect_status, {"Location": str(location)}, b""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSqurl:
    squrl = FakeSqurl()
    monkeypatch.setattr(canary, "_send", squrl.send)
    return squrl


def test_creates_a_fresh_link_and_follows_it_at_the_short_domain(fake: FakeSqurl):
    seen: dict[str, Any] = canary.run(API, "key-1", "https://sq.example", TARGET)
    assert seen == {"code": "Ab3dE6gH", "short_url": "https://sq.example/Ab3dE6gH", "status": 301}
    assert fake.original is not None and fake.original.startswith(f"{TARGET}?run=")
    assert [r.get_method() for r in fake.requests] == ["POST", "GET"]


def test_without_a_short_domain_it_follows_the_api_short_url(fake: FakeSqurl):
    assert canary.run(API, "key-1", "", TARGET)["short_url"] == f"{API}/Ab3dE6gH"


@pytest.mark.parametrize(("status", "location"), [(200, None), (404, None), (301, "https://x/")])
def test_a_wrong_answer_fails_the_run(fake: FakeSqurl, status: int, location: str | None):
    fake.redirect_status, fake.location = status, location
    with pytest.raises(canary.CanaryFailure, match="Ab3dE6gH answered"):
        canary.run(API, "key-1", "", TARGET)

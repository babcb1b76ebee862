"""The web app in a real browser: Playwright driving the system's Chromium against `make dev`.

Playwright's own browser download cannot run here, so the tests launch Debian's Chromium
(`/usr/bin/chromium`, or SQURL_CHROMIUM); `.ci/run` installs it when it is missing. Every web
test is in the xdist group "web": one worker runs them, with one server and one browser.
Screenshots go to .build/screenshots/ as artefacts.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LocalServer, start_server, wait_ready

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".build" / "screenshots"
CHROMIUM = os.environ.get("SQURL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The widths the app must work at (SPEC 10): a desktop and a 375 px phone.
DESKTOP = 1280
PHONE = 375
WIDTHS = (DESKTOP, PHONE)
OTHER_OWNER_KEY = "web-other-" + os.urandom(6).hex()

pytestmark = pytest.mark.xdist_group("web")


def _web_port() -> int:
    # A block of its own per xdist worker, apart from the end-to-end tests' (20000 + 1000 w).
    import socket

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    for port in range(20700 + 1000 * worker, 20900 + 1000 * worker):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@pytest.fixture(scope="session")
def web_server() -> Iterator[LocalServer]:
    port = _web_port()
    api_key = "web-" + os.urandom(8).hex()
    process = start_server(port, f"{api_key},{OTHER_OWNER_KEY}", {"SQURL_RATE_LIMIT": "1000"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LocalServer(url, api_key, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page with what went wrong in it: script errors and CSP refusals fail the test."""

    def __init__(self, page: Any, width: int):
        self.page = page
        self.width = width
        self.problems: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or (
            message.type == "error" and "Refused" in message.text
        ):
            self.problems.append(f"CSP: {message.text}")


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def watched(browser: Any, width: int) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, accept_downloads=True, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = Watched(page, width)
    yield watch
    context.close()
    assert not watch.problems, watch.problems


@pytest.fixture
def page(watched: Watched) -> Any:
    return watched.page


def sign_in(page: Any, server: LocalServer, key: str | None = None) -> None:
    page.goto(f"{server.url}/app/#token={key or server.api_key}")
    page.get_by_role("table", name="Your links").wait_for()


def links_table(page: Any) -> Any:
    return page.get_by_role("table", name="Your links")


def row_of(page: Any, code: str) -> Any:
    return (
        links_table(page)
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name=code, exact=True))
    )


def shoot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_accessible(page: Any) -> None:
    """axe-core over the page as it is: no violation of serious or critical impact."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


def new_code(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", f"{prefix}{os.urandom(4).hex()}")[:20]

"""The local server's data outlives it: a clean stop, a kill -9 right after acknowledged
writes, and `--fresh` / SQURL_FRESH=1 to start empty."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.conftest import LocalServer, free_port, start_server, temporary_data_dir, wait_ready
from tests.e2e.test_clicks_e2e import IPHONE, wait_for_stats

pytestmark = pytest.mark.e2e

KEY = "store-e2e-key"
LINKS_BEFORE_KILL = 40


@contextmanager
def server(
    data_dir: str, *args: str, port: int = 0, env: dict[str, str] | None = None
) -> Iterator[LocalServer]:
    # The same port after a restart: short URLs name it.
    port = port or free_port()
    process = start_server(
        port,
        KEY,
        {"SQURL_DATA_DIR": data_dir, "SQURL_RATE_LIMIT": "1000", **(env or {})},
        args=args,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LocalServer(url, KEY, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def create_links(local: LocalServer, count: int, prefix: str) -> dict[str, dict[str, Any]]:
    bodies = {}
    for index in range(count):
        created = local.create({"original_url": f"https://example.com/{prefix}/{index}"})
        assert created.status == 201, created.body
        bodies[created.json()["short_code"]] = created.json()
    return bodies


def test_links_clicks_and_stats_survive_a_clean_restart() -> None:
    data_dir = temporary_data_dir()
    with server(data_dir) as local:
        links = create_links(local, 5, "restart")
        clicked = next(iter(links))
        for _ in range(3):
            redirect = local.request(
                "GET", f"/{clicked}", headers={"User-Agent": IPHONE}, key=False
            )
            assert redirect.status == 301
        stats = wait_for_stats(local, clicked, humans=3, bots=0)
        views = {code: local.request("GET", f"/urls/{code}").json() for code in links}
    assert local.process.returncode == 0

    with server(data_dir, port=int(local.url.rsplit(":", 1)[1])) as again:
        assert {code: again.request("GET", f"/urls/{code}").json() for code in links} == views
        assert again.request("GET", f"/urls/{clicked}/stats").json() == stats
        assert stats["click_count"] == 3 and stats["devices"] == [{"device": "mobile", "clicks": 3}]
        # The same original URL is still deduplicated against the stored link.
        reused = again.create({"original_url": "https://example.com/restart/0"})
        assert reused.status == 200 and reused.json()["short_code"] in links
        # Clicks after the restart count too, on the link clicked before and on a new one: the
        # restarted stream numbers its records above the consumer's stored checkpoint.
        fresh = again.create({"original_url": "https://example.com/restart/after"}).json()
        for code in (clicked, fresh["short_code"]):
            for _ in range(2):
                redirect = again.request(
                    "GET", f"/{code}", headers={"User-Agent": IPHONE}, key=False
                )
                assert redirect.status in (301, 302)
        assert wait_for_stats(again, clicked, humans=5, bots=0)["click_count"] == 5
        assert wait_for_stats(again, fresh["short_code"], humans=2, bots=0)["click_count"] == 2


def test_acknowledged_links_survive_kill_9() -> None:
    data_dir = temporary_data_dir()
    with server(data_dir) as local:
        links = create_links(local, LINKS_BEFORE_KILL, "killed")
        # No stop, no flush: the process dies the moment the last create was answered.
        local.process.send_signal(signal.SIGKILL)
        local.process.wait(timeout=10)
    assert local.process.returncode == -signal.SIGKILL

    with server(data_dir, port=int(local.url.rsplit(":", 1)[1])) as again:
        for code, body in links.items():
            read = again.request("GET", f"/urls/{code}")
            assert read.status == 200, (code, read.body)
            assert {k: read.json()[k] for k in body} == body
            assert read.json()["click_count"] == 0
        assert again.request("GET", f"/{next(iter(links))}", key=False).status == 301


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_fresh_starts_empty(how: str) -> None:
    data_dir = temporary_data_dir()
    with server(data_dir) as local:
        code = next(iter(create_links(local, 1, "fresh")))
    args, env = (("--fresh",), {}) if how == "flag" else ((), {"SQURL_FRESH": "1"})
    with server(data_dir, *args, env=env) as again:
        assert again.request("GET", f"/urls/{code}").status == 404
        assert again.request("GET", f"/{code}", key=False).status == 404


def test_a_second_server_on_the_same_data_directory_is_refused() -> None:
    data_dir = temporary_data_dir()
    with server(data_dir):
        second = start_server(free_port(), KEY, {"SQURL_DATA_DIR": data_dir})
        try:
            output, _ = second.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            second.kill()
            raise
        assert second.returncode == 1
        assert b"in use by another squrl server" in output

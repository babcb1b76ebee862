"""The `squrl` command against a real local server: every route that exists today, through the
installed entry point's code, as a user would run it (docs/cli.md)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import SqurlCli
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e

# docs/cli.md, "Exit codes".
API_ERROR, AUTH, NOT_FOUND, NETWORK = 1, 3, 4, 5
STATS_DEADLINE_SECONDS = 30
LINK_FIELDS = {
    "short_code", "original_url", "short_url", "created_at", "expires_at", "redirect_type",
    "status", "click_count", "title", "tags", "updated_at", "version",
}  # fmt: skip


@pytest.fixture
def cli(squrl: Any, tmp_path: Path) -> SqurlCli:
    runner = SqurlCli(tmp_path / "squrl-config", squrl.url)
    runner.login(squrl.api_key)
    return runner


def unique_tag() -> str:
    return "t" + uuid.uuid4().hex[:12]


def test_the_installed_command_runs() -> None:
    script = Path(sys.executable).with_name("squrl")
    assert script.exists(), "make install puts `squrl` on the venv's PATH (pip install -e .)"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for command in ("login", "shorten", "ls", "show", "edit", "disable", "rm", "stats", "qr"):
        assert command in done.stdout


def test_login_stores_the_token_privately_and_a_wrong_one_is_refused(
    squrl: Any, tmp_path: Path
) -> None:
    runner = SqurlCli(tmp_path / "config", squrl.url)
    refused = runner("--url", squrl.url, "login", "--token", "not-a-key")
    assert refused.code == AUTH
    assert refused.stderr.startswith("squrl: Forbidden: ") and refused.stderr.count("\n") == 1
    assert not (runner.config_dir / "config.json").exists()

    signed = runner.login(squrl.api_key)
    assert f"Signed in to {squrl.url}" in signed.stdout
    path = runner.config_dir / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": squrl.url, "token": squrl.api_key}
    assert runner.ok("logout", "--json").json() == {"signed_out": True}
    assert runner("ls").code == AUTH


def test_shorten_makes_a_link_that_redirects(cli: SqurlCli, squrl: Any) -> None:
    short_url = cli.ok("shorten", "https://example.com/cli/one").stdout.strip()
    code = short_url.rsplit("/", 1)[1]
    assert short_url == f"{squrl.url}/{code}"
    redirect = squrl.request("GET", f"/{code}", key=False)
    assert redirect.status == 301
    assert redirect.headers["Location"] == "https://example.com/cli/one"


def test_shorten_json_carries_every_field_of_a_link(cli: SqurlCli) -> None:
    tag = unique_tag()
    created = cli.ok(
        "shorten", "https://example.com/cli/two", "--title", "Two", "-t", tag, "-t", "cli",
        "--redirect-type", "302", "--ttl-hours", "24", "--json",
    ).json()  # fmt: skip
    assert set(created) >= LINK_FIELDS
    assert created["tags"] == sorted(["cli", tag])
    assert (created["title"], created["redirect_type"], created["version"]) == ("Two", 302, 1)
    assert created["expires_at"].endswith("Z")


def test_the_same_idempotency_key_does_not_create_twice(cli: SqurlCli) -> None:
    key = "cli-" + uuid.uuid4().hex
    url = f"https://example.com/cli/{uuid.uuid4().hex}"
    first = cli.ok("shorten", url, "-c", "k" + key[-12:], "--idempotency-key", key, "--json").json()
    again = cli.ok("shorten", url, "-c", "k" + key[-12:], "--idempotency-key", key, "--json").json()
    assert again == first


def test_shorten_refuses_a_bad_url_in_one_line(cli: SqurlCli) -> None:
    refused = cli("shorten", "http://127.0.0.1/admin")
    assert refused.code == API_ERROR
    assert refused.stdout == ""
    assert refused.stderr.startswith("squrl: InvalidUrl: ")
    assert "reason: private_address" in refused.stderr
    assert refused.stderr.count("\n") == 1
    as_json = cli("shorten", "javascript:alert(1)", "--json")
    error = json.loads(as_json.stderr)
    assert (error["error"], error["status"], error["details"]["reason"]) == (
        "InvalidUrl",
        400,
        "invalid_scheme",
    )


def test_ls_filters_by_tag_and_status_and_pages_with_all(cli: SqurlCli) -> None:
    tag = unique_tag()
    codes = [
        cli.ok("shorten", f"https://example.com/cli/ls/{n}", "-t", tag, "--json").json()[
            "short_code"
        ]
        for n in range(3)
    ]
    first = cli.ok("ls", "--tag", tag, "--limit", "2", "--json").json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = cli.ok("ls", "--tag", tag, "--limit", "2", "--cursor", first["next_cursor"], "--json")
    paged = first["items"] + rest.json()["items"]
    # Newest first; links made in the same second (created_at has one-second resolution) may
    # come in either order, but every link comes exactly once.
    assert sorted(item["short_code"] for item in paged) == sorted(codes)
    created = [item["created_at"] for item in paged]
    assert created == sorted(created, reverse=True)
    every = cli.ok("ls", "--tag", tag, "--limit", "1", "--all", "--json").json()
    assert [item["short_code"] for item in every["items"]] == [i["short_code"] for i in paged]
    assert every["next_cursor"] is None

    cli.ok("disable", codes[0])
    disabled = cli.ok("ls", "--tag", tag, "--status", "disabled", "--json").json()
    assert [item["short_code"] for item in disabled["items"]] == [codes[0]]

    table = cli.ok("ls", "--tag", tag)
    assert "Your links" in table.stdout
    assert all(code in table.stdout for code in codes)


def test_show_matches_the_api_and_a_missing_code_is_exit_4(cli: SqurlCli, squrl: Any) -> None:
    code = cli.ok("shorten", "https://example.com/cli/show", "--json").json()["short_code"]
    shown = cli.ok("show", code, "--json").json()
    assert shown == squrl.request("GET", f"/urls/{code}").json()
    card = cli.ok("show", code)
    assert "https://example.com/cli/show" in card.stdout and "active" in card.stdout
    missing = cli("show", "nosuchcode1")
    assert missing.code == NOT_FOUND
    assert missing.stderr.startswith("squrl: NotFound: ")


def test_edit_changes_the_destination_and_a_stale_version_is_refused(
    cli: SqurlCli, squrl: Any
) -> None:
    code = cli.ok("shorten", "https://example.com/cli/before", "--json").json()["short_code"]
    edited = cli.ok(
        "edit", code, "--url", "https://example.com/cli/after", "--title", "After",
        "-t", "edited", "--redirect-type", "307", "--if-match", "1", "--json",
    ).json()  # fmt: skip
    assert (edited["version"], edited["title"], edited["tags"]) == (2, "After", ["edited"])
    redirect = squrl.request("GET", f"/{code}", key=False)
    assert (redirect.status, redirect.headers["Location"]) == (307, "https://example.com/cli/after")

    stale = cli("edit", code, "--title", "Again", "--if-match", "1")
    assert stale.code == API_ERROR
    assert "PreconditionFailed" in stale.stderr
    assert cli.ok("show", code, "--json").json()["title"] == "After"

    assert cli("edit", code).code == 2  # nothing to change: a usage error, nothing sent
    expiring = cli.ok("edit", code, "--ttl-hours", "2", "--json").json()
    assert expiring["expires_at"] is not None
    forever = cli.ok("edit", code, "--never-expires", "--json").json()
    assert forever["expires_at"] is None


def test_disable_answers_410_and_enable_brings_it_back(cli: SqurlCli, squrl: Any) -> None:
    code = cli.ok("shorten", "https://example.com/cli/toggle", "--json").json()["short_code"]
    assert cli.ok("disable", code).stdout == f"{code} is disabled.\n"
    assert squrl.request("GET", f"/{code}", key=False).status == 410
    assert cli.ok("enable", code, "--json").json()["status"] == "active"
    assert squrl.request("GET", f"/{code}", key=False).status == 301


def test_rm_asks_then_deletes_for_good(cli: SqurlCli, squrl: Any) -> None:
    code = cli.ok("shorten", "https://example.com/cli/rm", "--json").json()["short_code"]
    declined = cli("rm", code, input="n\n")
    assert declined.code == API_ERROR
    assert squrl.request("GET", f"/{code}", key=False).status == 301

    assert cli.ok("rm", code, "--yes", "--json").json() == {"deleted": code}
    assert squrl.request("GET", f"/{code}", key=False).status == 410
    assert cli("show", code).code == NOT_FOUND
    # The code is never assigned again.
    taken = cli("shorten", "https://example.com/cli/rm2", "-c", code)
    assert taken.code == API_ERROR and "ConflictError" in taken.stderr


def test_history_lists_the_changes_oldest_first(cli: SqurlCli) -> None:
    code = cli.ok("shorten", "https://example.com/cli/history", "--json").json()["short_code"]
    cli.ok("edit", code, "--title", "Named")
    items = cli.ok("history", code, "--json").json()["items"]
    assert [item["action"] for item in items] == ["created", "updated"]
    assert items[1]["changes"]["title"] == [None, "Named"]


def test_stats_counts_clicks_and_charts_today(cli: SqurlCli, squrl: Any) -> None:
    code = cli.ok("shorten", "https://example.com/cli/stats", "--json").json()["short_code"]
    browser = {
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0",
        "Referer": "https://news.ycombinator.com/item?id=1",
    }
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for _ in range(3):
        assert squrl.request("GET", f"/{code}", headers=browser, key=False).status == 301
    deadline = time.monotonic() + STATS_DEADLINE_SECONDS
    while True:
        counters = cli.ok("stats", code, "--json").json()
        if counters["click_count"] >= 3:
            break
        assert time.monotonic() < deadline, counters
        time.sleep(0.5)
    assert counters["click_count"] == 3
    assert counters["referrers"] == [{"domain": "news.ycombinator.com", "clicks": 3}]

    chart = cli.ok("stats", code, "--days", "7").stdout
    day_line = next(line for line in chart.splitlines() if line.startswith(today))
    assert day_line.count("█") == 40 and day_line.rstrip().endswith(" 3")
    assert "news.ycombinator.com" in chart and "desktop" in chart


def test_env_vars_override_the_config_file(cli: SqurlCli, squrl: Any, tmp_path: Path) -> None:
    other = SqurlCli(tmp_path / "empty-config", squrl.url)
    env = other.env() | {"SQURL_URL": squrl.url, "SQURL_TOKEN": squrl.api_key}
    done = subprocess.run(
        [sys.executable, "-m", "squrl_cli", "ls", "--limit", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "items" in json.loads(done.stdout)
    assert not (other.config_dir / "config.json").exists()


def test_no_server_is_exit_5(cli: SqurlCli) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = cli("--url", closed, "--timeout", "2", "ls")
    assert result.code == NETWORK
    assert result.stderr.startswith(f"squrl: cannot reach {closed}")
    assert result.stderr.count("\n") == 1


def test_config_reports_where_each_setting_comes_from(cli: SqurlCli) -> None:
    data = cli.ok("config", "--json").json()
    assert data["url_source"] == "file" and data["signed_in"] is True
    assert data["config_dir"] == str(cli.config_dir)
    assert os.stat(cli.config_dir).st_mode & 0o077 == 0

"""The `squrl` command against a real local server for the routes of docs/api.md sections 8 and
9: tokens, /me and its export, bulk creation, QR codes, import jobs and the OpenAPI document."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from squrl_cli.client import Client
from tests.e2e.cli_runner import SqurlCli

pytestmark = pytest.mark.e2e

API_ERROR, AUTH = 1, 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMPORT_ROWS = 10_000
IMPORT_HEADER = "original_url,custom_code,title,tags,ttl_hours,redirect_type\n"


@pytest.fixture
def cli(squrl: Any, tmp_path: Path) -> SqurlCli:
    runner = SqurlCli(tmp_path / "squrl-config", squrl.url)
    runner.login(squrl.api_key)
    return runner


def test_whoami(cli: SqurlCli) -> None:
    me = cli.ok("whoami", "--json").json()
    assert set(me) == {"user_id", "email", "groups"}
    assert isinstance(me["groups"], list)


def test_a_created_token_signs_in_and_stops_working_once_revoked(
    cli: SqurlCli, squrl: Any, tmp_path: Path
) -> None:
    made = cli.ok("tokens", "create", "cli-e2e", "-s", "links:read", "-s", "links:write", "--json")
    token = made.json()
    assert token["token"].startswith("squrl_")
    assert sorted(token["scopes"]) == ["links:read", "links:write"]

    script = SqurlCli(tmp_path / "script-config", squrl.url)
    script.login(token["token"])
    assert script.ok("shorten", "https://example.com/cli/token").stdout.startswith(squrl.url)

    listed = cli.ok("tokens", "ls", "--json").json()["items"]
    mine = next(item for item in listed if item["id"] == token["id"])
    assert "token" not in mine
    assert mine["last_used_at"] is not None

    assert cli.ok("tokens", "revoke", token["id"], "--yes", "--json").json() == {
        "revoked": token["id"]
    }
    refused = script("ls")
    assert refused.code == AUTH
    assert refused.stderr.startswith("squrl: Forbidden: ")


def test_the_plain_create_prints_the_secret_once(cli: SqurlCli) -> None:
    made = cli.ok("tokens", "create", "printed")
    secret = made.stdout.strip()
    assert secret.startswith("squrl_") and made.stdout.count("\n") == 1
    assert "not shown again" in made.stderr
    assert secret not in cli.ok("tokens", "ls").stdout


def test_a_call_outside_the_tokens_scopes_is_exit_3(
    cli: SqurlCli, squrl: Any, tmp_path: Path
) -> None:
    reader = cli.ok("tokens", "create", "reader", "-s", "links:read", "--json").json()["token"]
    script = SqurlCli(tmp_path / "reader-config", squrl.url)
    script.login(reader)
    refused = script("shorten", "https://example.com/cli/scope")
    assert refused.code == AUTH
    assert "reason: scope" in refused.stderr


def test_export_writes_every_link_and_token(cli: SqurlCli, tmp_path: Path) -> None:
    code = cli.ok("shorten", f"https://example.com/cli/export/{uuid.uuid4().hex}", "--json").json()[
        "short_code"
    ]
    target = tmp_path / "export.json"
    summary = cli.ok("export", "-o", str(target), "--json").json()
    document = json.loads(target.read_text())
    assert summary["path"] == str(target)
    assert summary["links"] == len(document["links"]) >= 1
    assert code in {link["short_code"] for link in document["links"]}
    assert all("token" not in token for token in document["tokens"])
    assert json.loads(cli.ok("export").stdout)["links"]


def test_several_urls_are_created_in_bulk_with_per_item_results(cli: SqurlCli, squrl: Any) -> None:
    tag = "b" + uuid.uuid4().hex[:10]
    urls = [f"https://example.com/cli/bulk/{tag}/1", f"https://example.com/cli/bulk/{tag}/2"]
    result = cli("shorten", *urls, "http://127.0.0.1/", "-t", tag, "--json")
    assert result.code == API_ERROR  # one item failed
    results = json.loads(result.stdout)["results"]
    assert [item["status"] for item in results] == [201, 201, 400]
    assert results[2]["error"]["error"] == "InvalidUrl"
    for url, item in zip(urls, results[:2], strict=True):
        redirect = squrl.request("GET", f"/{item['link']['short_code']}", key=False)
        assert (redirect.status, redirect.headers["Location"]) == (301, url)
    listed = cli.ok("ls", "--tag", tag, "--json").json()["items"]
    assert len(listed) == 2


def test_qr_codes_as_svg_and_png_decode_to_the_short_url(cli: SqurlCli, tmp_path: Path) -> None:
    # The decoder (zxing-cpp), not the encoder, reads them back; it lands with the QR route.
    from tests.qr_reading import decode_png, decode_svg

    created = cli.ok("shorten", "https://example.com/cli/qr", "--json").json()
    code = created["short_code"]
    svg = tmp_path / "code.svg"
    assert cli.ok("qr", code, "-o", str(svg), "--json").json()["format"] == "svg"
    assert decode_svg(svg.read_bytes()) == [created["short_url"]]

    png = tmp_path / "code.png"
    written = cli.ok("qr", code, "-o", str(png), "--scale", "4", "--border", "2", "--ecc", "H")
    assert f"Wrote {png}" in written.stdout
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert decode_png(png.read_bytes()) == [created["short_url"]]

    larger = tmp_path / "larger.png"
    cli.ok("qr", code, "-o", str(larger), "--scale", "8", "--border", "2", "--ecc", "H")
    assert len(larger.read_bytes()) != len(png.read_bytes())


def import_rows(rows: int, tag: str) -> tuple[str, dict[str, int]]:
    """Per ten rows: 7 created, 1 skipped (the row before, again), 2 failed."""
    lines = [IMPORT_HEADER]
    expected = {"created": 0, "skipped": 0, "failed": 0}
    for i in range(rows):
        kind = i % 10
        if kind == 3:
            lines.append(f"http://10.0.{i // 250 % 250}.{i % 250}/,,,,,\n")
            expected["failed"] += 1
        elif kind == 5:
            lines.append(f"https://example.com/{tag}/{i - 1},{tag}-{i - 1},,,,\n")
            expected["skipped"] += 1
        elif kind == 8:
            lines.append(f"https://example.com/{tag}/{i},,,,0,\n")
            expected["failed"] += 1
        else:
            lines.append(f'https://example.com/{tag}/{i},{tag}-{i},"Row {i}",{tag},,\n')
            expected["created"] += 1
    return "".join(lines), expected


def test_import_of_10000_rows_shows_progress_and_counts_that_match_the_file(
    cli: SqurlCli, tmp_path: Path
) -> None:
    tag = "i" + uuid.uuid4().hex[:8]
    text, expected = import_rows(IMPORT_ROWS, tag)
    source = tmp_path / "links.csv"
    source.write_text(text)

    run = cli("import", str(source), "--format", "csv", timeout=600)
    assert run.code == 0, run.stderr
    assert f"{IMPORT_ROWS}/{IMPORT_ROWS}" in run.stderr  # the progress bar's last state
    assert (
        f"done: total {IMPORT_ROWS}, created {expected['created']}, "
        f"skipped {expected['skipped']}, failed {expected['failed']}"
    ) in run.stdout

    again = cli("import", str(source), "--format", "csv", "--json", timeout=600)
    assert again.code == 0, again.stderr
    job = again.json()
    assert (job["status"], job["total"]) == ("done", IMPORT_ROWS)
    assert {key: job[key] for key in expected} == expected
    assert "Resuming" not in again.stderr  # --json keeps stderr free of chatter


def test_a_second_run_of_the_same_file_resumes_the_job_and_creates_nothing_twice(
    cli: SqurlCli, tmp_path: Path
) -> None:
    tag = "r" + uuid.uuid4().hex[:8]
    text, expected = import_rows(50, tag)
    source = tmp_path / "small.csv"
    source.write_text(text)
    first = cli.ok("import", str(source), "--json").json()
    second = cli.ok("import", str(source), "--json").json()
    assert second["id"] == first["id"]
    assert {key: second[key] for key in expected} == expected
    listed = cli.ok("ls", "--tag", tag, "--all", "--json").json()["items"]
    assert len(listed) == expected["created"]

    restarted = cli.ok("import", str(source), "--restart", "--json").json()
    assert restarted["id"] != first["id"]
    assert restarted["created"] == 0
    assert len(cli.ok("ls", "--tag", tag, "--all", "--json").json()["items"]) == expected["created"]


def test_the_sdk_reads_the_openapi_document(squrl: Any) -> None:
    with Client(squrl.url) as client:
        document = client.openapi()
    assert document["openapi"].startswith("3.1")
    for path in ("/urls", "/urls/{code}", "/urls/{code}/stats", "/tokens", "/imports/{id}"):
        assert path in document["paths"], path

"""The `squrl` command (squrl_cli.cli) over a scripted API: output, --json shapes, exit codes,
the config file."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from squrl_cli import cli, config, oauth
from squrl_cli.client import Client
from tests.unit.cli_fakes import BASE_URL, TOKEN, FakeApi, error, link

# docs/cli.md, "Exit codes".
OK, API_ERROR, USAGE, AUTH, NOT_FOUND, NETWORK = 0, 1, 2, 3, 4, 5


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("SQURL_CONFIG_DIR", str(directory))
    monkeypatch.delenv("SQURL_URL", raising=False)
    monkeypatch.delenv("SQURL_TOKEN", raising=False)
    monkeypatch.delenv("SQURL_OIDC_ISSUER", raising=False)
    monkeypatch.delenv("SQURL_OIDC_CLIENT_ID", raising=False)
    return directory


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    clients: list[Client] = []

    def build(settings: config.Settings, timeout: float) -> Client:
        client = Client(
            settings.url, settings.token, transport=fake.transport, sleep=lambda _: None
        )
        clients.append(client)
        return client

    monkeypatch.setattr(cli, "build_client", build)
    return fake


@pytest.fixture
def signed_in(config_dir: Path) -> Path:
    return config.save(url=BASE_URL, token=TOKEN)


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli.app, list(args), input=input)


def stored() -> dict[str, Any]:
    return config.read_json(config.CONFIG_FILE)


# -- help, login, logout, config -----------------------------------------------------------------


def test_help_lists_every_command_of_the_spec() -> None:
    result = run("--help")
    assert result.exit_code == OK
    for command in (
        "login", "logout", "shorten", "ls", "show", "edit", "disable", "enable", "rm",
        "stats", "qr", "import", "export", "tokens",
    ):  # fmt: skip
        assert f" {command} " in result.stdout, command


def test_login_with_a_token_checks_it_and_stores_it_readable_by_the_user_only(
    api: FakeApi, config_dir: Path
) -> None:
    api.on(
        "GET",
        "/me",
        httpx.Response(200, json={"user_id": "u1", "email": "a@b.example", "groups": []}),
    )
    result = run("login", "--url", BASE_URL + "/", "--token", TOKEN)
    assert result.exit_code == OK, result.output
    assert "Signed in to https://api.sq.example as a@b.example" in result.stdout
    assert api.last("GET", "/me").headers["Authorization"] == f"Bearer {TOKEN}"
    path = config_dir / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": BASE_URL, "token": TOKEN}


def test_login_json_shape(api: FakeApi, config_dir: Path) -> None:
    me = {"user_id": "u1", "email": None, "groups": ["admin"]}
    api.on("GET", "/me", httpx.Response(200, json=me))
    result = run("--url", BASE_URL, "login", "--token", TOKEN, "--json")
    assert json.loads(result.stdout) == {
        "url": BASE_URL,
        "user": me,
        "config": str(config_dir / "config.json"),
    }


def test_login_on_a_server_without_me_checks_the_token_with_a_read(
    api: FakeApi, config_dir: Path
) -> None:
    api.on("GET", "/urls", httpx.Response(200, json={"items": [], "next_cursor": None}))
    result = run("--url", BASE_URL, "login", "--token", TOKEN)
    assert result.exit_code == OK, result.output
    assert dict(api.last("GET", "/urls").url.params) == {"limit": "1"}
    assert stored()["token"] == TOKEN


def test_a_refused_token_is_exit_3_and_not_stored(api: FakeApi, config_dir: Path) -> None:
    api.on("GET", "/me", error(403, "Forbidden", "A valid credential is required."))
    result = run("--url", BASE_URL, "login", "--token", "wrong")
    assert result.exit_code == AUTH
    assert result.stderr == "squrl: Forbidden: A valid credential is required. (HTTP 403)\n"
    assert not (config_dir / "config.json").exists()


def test_login_reads_the_token_from_stdin(api: FakeApi, config_dir: Path) -> None:
    api.on("GET", "/me", httpx.Response(200, json={"user_id": "u1", "email": None, "groups": []}))
    result = run("--url", BASE_URL, "login", "--token", "-", input=f"{TOKEN}\n")
    assert result.exit_code == OK, result.output
    assert stored()["token"] == TOKEN


def test_browser_login_without_a_user_pool_is_a_usage_error(config_dir: Path) -> None:
    result = run("login")
    assert result.exit_code == USAGE
    assert "--issuer" in result.stderr and "--token" in result.stderr


def test_browser_login_stores_the_jwt_its_refresh_token_and_the_pool(
    api: FakeApi, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[oauth.OidcSettings] = []

    def sign_in(settings: oauth.OidcSettings, **kwargs: Any) -> oauth.SignIn:
        seen.append(settings)
        return oauth.SignIn("jwt-access", "jwt-refresh", 2_000_000_000.0)

    monkeypatch.setattr(oauth, "browser_sign_in", sign_in)
    api.on("GET", "/me", httpx.Response(200, json={"user_id": "u9", "email": "u@x", "groups": []}))
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
    result = run(
        "--url", BASE_URL, "login", "--issuer", issuer, "--client-id", "app1", "--port", "9999"
    )
    assert result.exit_code == OK, result.output
    assert seen[0].discovery_url == issuer + "/.well-known/openid-configuration"
    assert seen[0].redirect_uri == "http://localhost:9999/callback"
    assert api.last("GET", "/me").headers["Authorization"] == "Bearer jwt-access"
    assert stored() == {
        "url": BASE_URL,
        "token": "jwt-access",
        "refresh_token": "jwt-refresh",
        "token_expires_at": 2_000_000_000.0,
        "oidc": {
            "issuer": issuer,
            "client_id": "app1",
            "scopes": "openid email profile",
            "port": 9999,
            "use_token": "access",
        },
    }


def test_an_expired_jwt_is_refreshed_before_the_call(
    api: FakeApi, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.save(
        url=BASE_URL,
        token="old-jwt",
        refresh_token="refresh-1",
        token_expires_at=1.0,
        oidc={"issuer": "https://idp.example", "client_id": "app1"},
    )
    monkeypatch.setattr(
        oauth, "refresh", lambda settings, token: oauth.SignIn("new-jwt", token, 4_000_000_000.0)
    )
    api.on("GET", "/urls/abc123", httpx.Response(200, json=link()))
    assert run("show", "abc123").exit_code == OK
    assert api.last().headers["Authorization"] == "Bearer new-jwt"
    assert stored()["token"] == "new-jwt" and stored()["refresh_token"] == "refresh-1"


def test_logout_forgets_the_credential(signed_in: Path) -> None:
    result = run("logout", "--json")
    assert json.loads(result.stdout) == {"signed_out": True}
    assert "token" not in stored() and stored()["url"] == BASE_URL
    assert json.loads(run("logout", "--json").stdout) == {"signed_out": False}
    assert run("logout").stdout == "Not signed in.\n"


def test_not_signed_in_is_exit_3(config_dir: Path) -> None:
    result = run("ls")
    assert result.exit_code == AUTH
    assert result.stderr.startswith("squrl: not signed in to http://127.0.0.1:8080")
    assert result.stderr.count("\n") == 1


def test_env_beats_the_file_and_the_flag_beats_env(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(run("config", "--json").stdout)
    assert (data["url"], data["url_source"], data["token_source"]) == (BASE_URL, "file", "file")
    monkeypatch.setenv("SQURL_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("SQURL_TOKEN", "env-token")
    data = json.loads(run("config", "--json").stdout)
    assert (data["url"], data["url_source"], data["token_source"]) == (
        "http://127.0.0.1:9000",
        "env",
        "env",
    )
    data = json.loads(run("--url", "http://flag.example", "config", "--json").stdout)
    assert (data["url"], data["url_source"]) == ("http://flag.example", "flag")


def test_the_env_token_is_what_is_sent(
    api: FakeApi, signed_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQURL_TOKEN", "env-token")
    api.on("GET", "/urls/abc123", httpx.Response(200, json=link()))
    run("show", "abc123")
    assert api.last().headers["Authorization"] == "Bearer env-token"


# -- shorten -------------------------------------------------------------------------------------


def test_shorten_prints_the_short_url_only(api: FakeApi, signed_in: Path) -> None:
    api.on("POST", "/urls", httpx.Response(201, json=link("launch")))
    result = run(
        "shorten", "https://example.com/launch", "-c", "launch", "--ttl-hours", "48",
        "--redirect-type", "302", "--title", "Launch", "-t", "news", "-t", "q4",
        "--idempotency-key", "k1",
    )  # fmt: skip
    assert result.exit_code == OK, result.output
    assert result.stdout == "https://sq.example/launch\n"
    request = api.last()
    assert api.body(request) == {
        "original_url": "https://example.com/launch",
        "custom_code": "launch",
        "ttl_hours": 48,
        "redirect_type": 302,
        "title": "Launch",
        "tags": ["news", "q4"],
    }
    assert request.headers["Idempotency-Key"] == "k1"


def test_shorten_json_is_the_link(api: FakeApi, signed_in: Path) -> None:
    api.on("POST", "/urls", httpx.Response(201, json=link("x1")))
    result = run("shorten", "https://example.com/x1", "--json")
    assert json.loads(result.stdout) == link("x1")


def test_shorten_an_invalid_url_is_one_line_and_exit_1(api: FakeApi, signed_in: Path) -> None:
    api.on(
        "POST",
        "/urls",
        error(
            400, "InvalidUrl", "Links to localhost are not allowed.", {"reason": "private_address"}
        ),
    )
    result = run("shorten", "http://localhost/")
    assert result.exit_code == API_ERROR
    assert result.stdout == ""
    assert result.stderr == (
        "squrl: InvalidUrl: Links to localhost are not allowed. "
        "(HTTP 400, reason: private_address)\n"
    )


def test_errors_are_json_on_stderr_with_json(api: FakeApi, signed_in: Path) -> None:
    api.on("POST", "/urls", error(409, "ConflictError", "Taken."))
    result = run("shorten", "https://example.com/", "-c", "taken", "--json")
    assert result.exit_code == API_ERROR
    assert json.loads(result.stderr) == {
        "error": "ConflictError",
        "message": "Taken.",
        "details": None,
        "status": 409,
    }


def test_shorten_several_urls_goes_through_bulk(api: FakeApi, signed_in: Path) -> None:
    results = [
        {"status": 201, "link": link("a1")},
        {
            "status": 400,
            "error": {"error": "InvalidUrl", "message": "Bad scheme.", "details": None},
        },
    ]
    api.on("POST", "/urls/bulk", httpx.Response(200, json={"results": results}))
    result = run("shorten", "https://a.example/", "ftp://b.example/", "-t", "x")
    assert result.exit_code == API_ERROR
    assert result.stdout == "https://sq.example/a1\thttps://a.example/\n"
    assert result.stderr == "squrl: ftp://b.example/: InvalidUrl: Bad scheme.\n"
    assert api.body(api.last()) == {
        "items": [
            {"original_url": "https://a.example/", "tags": ["x"]},
            {"original_url": "ftp://b.example/", "tags": ["x"]},
        ]
    }
    as_json = run("shorten", "https://a.example/", "ftp://b.example/", "--json")
    assert json.loads(as_json.stdout) == {"results": results}


def test_shorten_from_a_file_sends_bulk_chunks_of_100(
    api: FakeApi, signed_in: Path, tmp_path: Path
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        items = api.body(request)["items"]
        return httpx.Response(
            200,
            json={"results": [{"status": 201, "link": link(f"c{n}")} for n in range(len(items))]},
        )

    api.on("POST", "/urls/bulk", answer)
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"https://example.com/{n}\n" for n in range(150)) + "\n")
    result = run("shorten", "--from-file", str(urls), "--idempotency-key", "batch")
    assert result.exit_code == OK, result.output
    assert len(result.stdout.splitlines()) == 150
    sizes = [len(api.body(request)["items"]) for request in api.requests]
    assert sizes == [100, 50]
    assert [r.headers["Idempotency-Key"] for r in api.requests] == ["batch-0", "batch-1"]


@pytest.mark.parametrize(
    "args",
    [
        ("shorten",),
        ("shorten", "https://a.example/", "--redirect-type", "303"),
        ("shorten", "https://a.example/", "https://b.example/", "-c", "same"),
    ],
)
def test_shorten_usage_errors_are_exit_2(
    api: FakeApi, signed_in: Path, args: tuple[str, ...]
) -> None:
    assert run(*args).exit_code == USAGE
    assert api.requests == []


# -- ls, show, history ---------------------------------------------------------------------------


def test_ls_draws_a_table_and_points_to_the_next_page(api: FakeApi, signed_in: Path) -> None:
    page = {
        "items": [link("first", tags=["q4"], click_count=12), link("second")],
        "next_cursor": "c2",
    }
    api.on("GET", "/urls", httpx.Response(200, json=page))
    result = run("ls", "--status", "active", "--tag", "q4", "--limit", "2")
    assert result.exit_code == OK, result.output
    assert "Your links" in result.stdout
    assert "first" in result.stdout and "second" in result.stdout and "12" in result.stdout
    assert "squrl ls --cursor c2" in result.stderr
    assert dict(api.last().url.params) == {"limit": "2", "status": "active", "tag": "q4"}


def test_ls_json_is_the_page_and_all_follows_every_cursor(api: FakeApi, signed_in: Path) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "c2":
            return httpx.Response(200, json={"items": [link("c")], "next_cursor": None})
        return httpx.Response(200, json={"items": [link("a"), link("b")], "next_cursor": "c2"})

    api.on("GET", "/urls", pages)
    one = json.loads(run("ls", "--json").stdout)
    assert one == {"items": [link("a"), link("b")], "next_cursor": "c2"}
    every = json.loads(run("ls", "--all", "--json").stdout)
    assert every == {"items": [link("a"), link("b"), link("c")], "next_cursor": None}
    resumed = json.loads(run("ls", "--cursor", "c2", "--json").stdout)
    assert resumed["items"] == [link("c")]


@pytest.mark.parametrize("args", [("--status", "gone"), ("--limit", "0"), ("--limit", "101")])
def test_ls_bad_filters_are_exit_2(api: FakeApi, signed_in: Path, args: tuple[str, ...]) -> None:
    assert run("ls", *args).exit_code == USAGE
    assert api.requests == []


def test_show_and_its_json(api: FakeApi, signed_in: Path) -> None:
    shown = link("abc123", title="Launch", tags=["q4"], version=3)
    api.on("GET", "/urls/abc123", httpx.Response(200, json=shown))
    result = run("show", "abc123")
    assert "https://sq.example/abc123" in result.stdout and "Launch" in result.stdout
    assert json.loads(run("show", "abc123", "--json").stdout) == shown


def test_a_missing_link_is_exit_4_with_one_line(api: FakeApi, signed_in: Path) -> None:
    api.on("GET", "/urls/nope", error(404, "NotFound", "No link has this short code."))
    result = run("show", "nope")
    assert result.exit_code == NOT_FOUND
    assert result.stderr == "squrl: NotFound: No link has this short code. (HTTP 404)\n"


def test_history_table_and_json(api: FakeApi, signed_in: Path) -> None:
    items = [
        {"at": "2026-12-01T10:00:00Z", "actor": "u1", "action": "created", "changes": {}},
        {
            "at": "2026-12-02T10:00:00Z",
            "actor": "u1",
            "action": "updated",
            "changes": {"title": [None, "T"]},
        },
    ]
    api.on("GET", "/urls/abc123/history", httpx.Response(200, json={"items": items}))
    result = run("history", "abc123")
    assert "created" in result.stdout and "title: None → 'T'" in result.stdout
    assert json.loads(run("history", "abc123", "--json").stdout) == {"items": items}


# -- edit, disable, enable, rm -------------------------------------------------------------------


def test_edit_sends_the_changed_fields_and_if_match(api: FakeApi, signed_in: Path) -> None:
    api.on("PATCH", "/urls/abc123", httpx.Response(200, json=link(version=5)))
    result = run(
        "edit", "abc123", "--url", "https://example.org/", "--redirect-type", "308",
        "--never-expires", "--title", "", "-t", "a", "-t", "b", "--if-match", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == OK, result.output
    assert json.loads(result.stdout) == link(version=5)
    request = api.last()
    assert api.body(request) == {
        "original_url": "https://example.org/",
        "redirect_type": 308,
        "expires_at": None,
        "title": None,
        "tags": ["a", "b"],
    }
    assert request.headers["If-Match"] == '"4"'


def test_edit_ttl_and_clear_tags(api: FakeApi, signed_in: Path) -> None:
    api.on("PATCH", "/urls/abc123", httpx.Response(200, json=link()))
    run("edit", "abc123", "--ttl-hours", "5", "--clear-tags")
    assert api.body(api.last()) == {"ttl_hours": 5, "tags": []}
    run("edit", "abc123", "--expires-at", "2027-01-31T00:00:00Z")
    assert api.body(api.last()) == {"expires_at": "2027-01-31T00:00:00Z"}


@pytest.mark.parametrize("args", [(), ("--expires-at", "2027-01-31T00:00:00Z", "--never-expires")])
def test_edit_usage_errors_are_exit_2(api: FakeApi, signed_in: Path, args: tuple[str, ...]) -> None:
    assert run("edit", "abc123", *args).exit_code == USAGE
    assert api.requests == []


def test_a_stale_if_match_is_exit_1(api: FakeApi, signed_in: Path) -> None:
    api.on("PATCH", "/urls/abc123", error(412, "PreconditionFailed", "The link changed."))
    result = run("edit", "abc123", "--title", "x", "--if-match", "1")
    assert result.exit_code == API_ERROR
    assert "PreconditionFailed" in result.stderr


def test_disable_and_enable(api: FakeApi, signed_in: Path) -> None:
    api.on(
        "PATCH", "/urls/abc123", lambda request: httpx.Response(200, json=link(**api.body(request)))
    )
    result = run("disable", "abc123")
    assert result.stdout == "abc123 is disabled.\n"
    assert api.body(api.last()) == {"status": "disabled"}
    enabled = json.loads(run("enable", "abc123", "--json").stdout)
    assert enabled["status"] == "active"
    assert api.body(api.last()) == {"status": "active"}


def test_rm_asks_first_and_a_no_deletes_nothing(api: FakeApi, signed_in: Path) -> None:
    api.on("DELETE", "/urls/abc123", httpx.Response(204))
    declined = run("rm", "abc123", input="n\n")
    assert declined.exit_code == API_ERROR
    assert api.requests == []
    accepted = run("rm", "abc123", input="y\n")
    assert accepted.exit_code == OK
    assert "Deleted abc123." in accepted.stdout
    assert [r.method for r in api.requests] == ["DELETE"]


def test_rm_yes_json(api: FakeApi, signed_in: Path) -> None:
    api.on("DELETE", "/urls/abc123", httpx.Response(204))
    result = run("rm", "abc123", "--yes", "--json")
    assert json.loads(result.stdout) == {"deleted": "abc123"}


# -- stats, qr -----------------------------------------------------------------------------------


TODAY = datetime.now(UTC).date()
DAY1, DAY2, DAY3 = (str(TODAY - timedelta(days=n)) for n in (2, 1, 0))
STATS = {
    "short_code": "abc123",
    "click_count": 30,
    "bot_clicks": 4,
    "daily": [{"date": DAY1, "clicks": 10}, {"date": DAY3, "clicks": 20}],
    "referrers": [
        {"domain": "news.ycombinator.com", "clicks": 18},
        {"domain": "(direct)", "clicks": 12},
    ],
    "countries": [{"country": "US", "clicks": 30}],
    "devices": [{"device": "mobile", "clicks": 21}, {"device": "desktop", "clicks": 9}],
}


def test_stats_draws_daily_bars_and_the_breakdowns(api: FakeApi, signed_in: Path) -> None:
    api.on("GET", "/urls/abc123/stats", httpx.Response(200, json=STATS))
    result = run("stats", "abc123", "--days", "3")
    assert result.exit_code == OK, result.output
    lines = result.stdout.splitlines()
    assert sum(line[:4].isdigit() for line in lines) == 3
    day1 = next(line for line in lines if line.startswith(DAY1))
    day2 = next(line for line in lines if line.startswith(DAY2))
    day3 = next(line for line in lines if line.startswith(DAY3))
    # Bars scale to the busiest day (40 characters); a day without clicks shows 0.
    assert day3.count("█") == 40 and day3.endswith(" 20")
    assert day1.count("█") == 20 and day1.endswith(" 10")
    assert day2.count("█") == 0 and day2.endswith(" 0")
    for text in ("news.ycombinator.com", "(direct)", "US", "mobile", "desktop", "bots apart: 4"):
        assert text in result.stdout


def test_stats_json_is_the_apis_answer(api: FakeApi, signed_in: Path) -> None:
    api.on("GET", "/urls/abc123/stats", httpx.Response(200, json=STATS))
    assert json.loads(run("stats", "abc123", "--json").stdout) == STATS


def test_qr_writes_the_image_and_takes_the_format_from_the_suffix(
    api: FakeApi, signed_in: Path, tmp_path: Path
) -> None:
    png = b"\x89PNG\r\n\x1a\n-image-"
    api.on("GET", "/urls/abc123/qr", httpx.Response(200, content=png))
    target = tmp_path / "code.png"
    result = run(
        "qr", "abc123", "-o", str(target), "--scale", "8", "--border", "0", "--ecc", "Q", "--json"
    )
    assert result.exit_code == OK, result.output
    assert target.read_bytes() == png
    assert json.loads(result.stdout) == {"path": str(target), "format": "png", "bytes": len(png)}
    assert dict(api.last().url.params) == {"format": "png", "scale": "8", "border": "0", "ecc": "Q"}


def test_qr_defaults_to_code_svg(
    api: FakeApi, signed_in: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.on("GET", "/urls/abc123/qr", httpx.Response(200, content=b"<svg/>"))
    monkeypatch.chdir(tmp_path)
    result = run("qr", "abc123")
    assert result.exit_code == OK, result.output
    assert (tmp_path / "abc123.svg").read_bytes() == b"<svg/>"
    assert api.last().url.params["format"] == "svg"


@pytest.mark.parametrize(
    "args",
    [("--scale", "0"), ("--scale", "41"), ("--border", "17"), ("--ecc", "X"), ("--format", "gif")],
)
def test_qr_out_of_range_options_are_exit_2(
    api: FakeApi, signed_in: Path, args: tuple[str, ...]
) -> None:
    assert run("qr", "abc123", *args).exit_code == USAGE
    assert api.requests == []


# -- import --------------------------------------------------------------------------------------


class ImportServer:
    """POST /imports, the PUT upload and GET /imports/{id} that moves on by one step per poll."""

    def __init__(self, api: FakeApi, total: int = 3) -> None:
        self.api, self.total, self.jobs = api, total, 0
        self.uploads: list[bytes] = []
        self.polls = 0
        self.fail_upload = False
        self.lose_upload_answer = False
        api.on("POST", "/imports", self.create)
        api.on("PUT", "/uploads/imp1", self.upload)
        api.on("PUT", "/uploads/imp2", self.upload)
        api.on("GET", "/imports/imp1", self.status)
        api.on("GET", "/imports/imp2", self.status)

    def create(self, request: httpx.Request) -> httpx.Response:
        self.jobs += 1
        job_id = f"imp{self.jobs}"
        return httpx.Response(
            201,
            json={"id": job_id, "upload_url": f"https://uploads.example/uploads/{job_id}?sig=s"},
        )

    def upload(self, request: httpx.Request) -> httpx.Response:
        if self.fail_upload:
            raise httpx.ConnectError("refused")
        if self.uploads:
            return error(409, "ConflictError", "This import's file was uploaded.")
        self.uploads.append(request.content)
        if self.lose_upload_answer:
            raise httpx.ReadError("connection reset after the upload was stored")
        return httpx.Response(200)

    def status(self, request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.rsplit("/", 1)[1]
        if not self.uploads:
            return httpx.Response(200, json={"id": job_id, "status": "waiting", "total": 0})
        self.polls += 1
        done = min(self.polls, self.total)
        body = {
            "id": job_id,
            "status": "done" if done == self.total else "running",
            "total": self.total,
            "created": max(0, done - 1),
            "skipped": 0,
            "failed": 1 if done else 0,
            "errors": [{"line": 3, "error": "InvalidUrl: private_address"}] if done else [],
        }
        return httpx.Response(200, json=body)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "links.csv"
    path.write_text("url,code\nhttps://a.example/,a1\nhttps://b.example/,\nhttp://127.0.0.1/,\n")
    return path


def test_import_uploads_polls_to_done_and_reports_counts(
    api: FakeApi, signed_in: Path, csv_file: Path
) -> None:
    server = ImportServer(api)
    result = run("import", str(csv_file), "--format", "csv", "--poll-interval", "0.05")
    assert result.exit_code == OK, result.output
    assert server.uploads == [csv_file.read_bytes()]
    assert api.body(api.last("POST", "/imports")) == {"format": "csv"}
    assert "done: total 3, created 2, skipped 0, failed 1" in result.stdout
    assert "InvalidUrl: private_address" in result.stdout


def test_import_json_is_the_final_job(api: FakeApi, signed_in: Path, csv_file: Path) -> None:
    ImportServer(api)
    result = run("import", str(csv_file), "--json", "--poll-interval", "0.05")
    job = json.loads(result.stdout)
    assert job["status"] == "done"
    assert (job["total"], job["created"], job["skipped"], job["failed"]) == (3, 2, 0, 1)


def test_importing_the_same_file_again_resumes_the_job_instead_of_a_second_one(
    api: FakeApi, signed_in: Path, csv_file: Path
) -> None:
    server = ImportServer(api)
    assert run("import", str(csv_file), "--poll-interval", "0.05").exit_code == OK
    again = run("import", str(csv_file), "--poll-interval", "0.05")
    assert again.exit_code == OK
    assert "Resuming import imp1" in again.stderr
    assert server.jobs == 1 and len(server.uploads) == 1
    restarted = run("import", str(csv_file), "--restart", "--json", "--poll-interval", "0.05")
    assert json.loads(restarted.stdout)["id"] == "imp2"
    assert server.jobs == 2


def test_an_interrupted_upload_is_finished_by_the_next_run(
    api: FakeApi, signed_in: Path, csv_file: Path
) -> None:
    server = ImportServer(api)
    server.fail_upload = True
    first = run("import", str(csv_file), "--poll-interval", "0.05")
    assert first.exit_code == NETWORK
    server.fail_upload = False
    second = run("import", str(csv_file), "--json", "--poll-interval", "0.05")
    assert second.exit_code == OK, second.output
    assert server.jobs == 1 and server.uploads == [csv_file.read_bytes()]
    assert json.loads(second.stdout)["id"] == "imp1"


FAILED_JOB = {
    "id": "bad",
    "status": "failed",
    "message": "The file is not UTF-8.",
    "total": 0,
    "created": 0,
    "skipped": 0,
    "failed": 0,
    "errors": [{"line": 1, "error": "not a CSV"}],
}


def test_an_upload_whose_answer_was_lost_is_not_sent_twice(
    api: FakeApi, signed_in: Path, csv_file: Path
) -> None:
    server = ImportServer(api)
    server.lose_upload_answer = True
    result = run("import", str(csv_file), "--json", "--poll-interval", "0.05")
    assert result.exit_code == OK, result.output
    assert server.uploads == [csv_file.read_bytes()] and server.jobs == 1
    assert json.loads(result.stdout)["status"] == "done"


def test_a_failed_import_is_exit_1(api: FakeApi, signed_in: Path, csv_file: Path) -> None:
    api.on(
        "POST",
        "/imports",
        httpx.Response(201, json={"id": "bad", "upload_url": f"{BASE_URL}/u/bad"}),
    )
    api.on("PUT", "/u/bad", httpx.Response(204))
    api.on(
        "GET",
        "/imports/bad",
        httpx.Response(200, json={"id": "bad", "status": "waiting"}),
        httpx.Response(200, json=FAILED_JOB),
    )
    result = run("import", str(csv_file), "--poll-interval", "0.05")
    assert result.exit_code == API_ERROR
    assert "failed" in result.stdout and "not a CSV" in result.stdout
    assert "Reason: The file is not UTF-8." in result.stdout


def test_import_of_a_missing_file_or_unknown_format_is_exit_2(
    api: FakeApi, signed_in: Path, tmp_path: Path, csv_file: Path
) -> None:
    assert run("import", str(tmp_path / "none.csv")).exit_code == USAGE
    assert run("import", str(csv_file), "--format", "excel").exit_code == USAGE
    assert api.requests == []


# -- export, tokens, whoami ----------------------------------------------------------------------


EXPORT = {"user": {"user_id": "u1"}, "links": [link("a"), link("b")], "tokens": [{"id": "t1"}]}


def test_export_to_stdout_and_to_a_private_file(
    api: FakeApi, signed_in: Path, tmp_path: Path
) -> None:
    api.on("GET", "/me/export", httpx.Response(200, json=EXPORT))
    assert json.loads(run("export").stdout) == EXPORT
    target = tmp_path / "squrl-export.json"
    result = run("export", "-o", str(target), "--json")
    assert json.loads(result.stdout) == {"path": str(target), "links": 2, "tokens": 1}
    assert json.loads(target.read_text()) == EXPORT
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_waits_120_seconds_by_default_and_takes_timeout(
    api: FakeApi, signed_in: Path
) -> None:
    api.on("GET", "/me/export", httpx.Response(200, json=EXPORT))
    run("export")
    assert api.last().extensions["timeout"]["read"] == 120.0
    run("export", "--timeout", "300")
    assert api.last().extensions["timeout"]["read"] == 300.0


def test_tokens_list_create_revoke(api: FakeApi, signed_in: Path) -> None:
    listed = [
        {
            "id": "t1",
            "name": "ci",
            "scopes": ["links:read"],
            "created_at": "2026-12-01T00:00:00Z",
            "expires_at": None,
            "last_used_at": None,
        }
    ]
    created = {
        "id": "t2",
        "name": "deploy",
        "scopes": ["links:read", "links:write", "stats:read"],
        "token": "squrl_s3cret",
        "created_at": "2026-12-06T00:00:00Z",
        "expires_at": None,
    }
    api.on("GET", "/tokens", httpx.Response(200, json={"items": listed}))
    api.on("POST", "/tokens", httpx.Response(201, json=created))
    api.on("DELETE", "/tokens/t2", httpx.Response(204))

    table = run("tokens", "ls")
    assert "ci" in table.stdout and "links:read" in table.stdout
    assert json.loads(run("tokens", "ls", "--json").stdout) == {"items": listed}

    made = run("tokens", "create", "deploy", "--expires-in-days", "30")
    assert made.stdout == "squrl_s3cret\n"
    assert "not shown again" in made.stderr
    assert api.body(api.last("POST")) == {
        "name": "deploy",
        "scopes": ["links:read", "links:write", "stats:read"],
        "expires_in_days": 30,
    }
    made_json = run("tokens", "create", "ro", "-s", "links:read", "-s", "stats:read", "--json")
    assert json.loads(made_json.stdout) == created
    assert api.body(api.last("POST"))["scopes"] == ["links:read", "stats:read"]
    assert run("tokens", "create", "x", "-s", "admin").exit_code == USAGE

    assert run("tokens", "revoke", "t2", input="n\n").exit_code == API_ERROR
    assert not any(r.method == "DELETE" for r in api.requests)
    revoked = run("tokens", "revoke", "t2", "--yes", "--json")
    assert json.loads(revoked.stdout) == {"revoked": "t2"}


def test_whoami(api: FakeApi, signed_in: Path) -> None:
    me = {"user_id": "u1", "email": "a@b.example", "groups": ["admin"]}
    api.on("GET", "/me", httpx.Response(200, json=me))
    assert run("whoami").stdout == "a@b.example (user u1; groups: admin)\n"
    assert json.loads(run("whoami", "--json").stdout) == me


# -- exit codes for what went wrong --------------------------------------------------------------


def test_no_answer_is_exit_5(api: FakeApi, signed_in: Path) -> None:
    api.on("GET", "/urls", httpx.ConnectError("[Errno 111] Connection refused"))
    result = run("ls")
    assert result.exit_code == NETWORK
    assert result.stderr == (
        "squrl: cannot reach https://api.sq.example: [Errno 111] Connection refused\n"
    )


def test_a_scope_refusal_is_exit_3(api: FakeApi, signed_in: Path) -> None:
    api.on(
        "GET",
        "/urls/abc123/stats",
        error(403, "Forbidden", "Outside the token's scopes.", {"reason": "scope"}),
    )
    result = run("stats", "abc123")
    assert result.exit_code == AUTH
    assert "reason: scope" in result.stderr


def test_a_gone_link_is_exit_4(api: FakeApi, signed_in: Path) -> None:
    api.on("GET", "/urls/old", error(410, "Gone", "The link was disabled."))
    assert run("show", "old").exit_code == NOT_FOUND


def test_stats_of_a_link_without_clicks(api: FakeApi, signed_in: Path) -> None:
    empty = {"short_code": "abc123", "click_count": 0, "bot_clicks": 0, "daily": [],
             "referrers": [], "countries": [], "devices": []}  # fmt: skip
    api.on("GET", "/urls/abc123/stats", httpx.Response(200, json=empty))
    result = run("stats", "abc123", "--days", "5")
    assert result.exit_code == OK, result.output
    days = [line for line in result.stdout.splitlines() if line[:4].isdigit()]
    assert len(days) == 5 and all(line.endswith(" 0") and "█" not in line for line in days)
    assert "Referrers: none yet" in result.stdout and "Devices: none yet" in result.stdout

"""The `squrl` command: squrl's API from a terminal (docs/cli.md).

Every command takes `--json` for scripts. Errors are one line on stderr, and the exit code says
what went wrong (EXIT_* below, documented in docs/cli.md).
"""

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from squrl_cli import __version__, config, oauth, render
from squrl_cli.client import EXPORT_TIMEOUT_SECONDS, Client, SqurlConnectionError, SqurlError
from squrl_cli.imports import ImportRun, processed

EXIT_OK = 0
EXIT_API = 1  # the API answered with an error (or a confirmation was declined)
EXIT_USAGE = 2  # bad command line
EXIT_AUTH = 3  # not signed in, or the credential was refused (401/403)
EXIT_NOT_FOUND = 4  # no such link, token or job (404; 410 for a gone link)
EXIT_NETWORK = 5  # no answer: the server could not be reached or timed out

ENV_OIDC_ISSUER = "SQURL_OIDC_ISSUER"
ENV_OIDC_CLIENT_ID = "SQURL_OIDC_CLIENT_ID"
BULK_CHUNK = 100
SCOPES = ("links:read", "links:write", "stats:read")
META_JSON = "squrl.json"

RedirectChoice = Literal[301, 302, 307, 308]
StatusChoice = Literal["active", "disabled", "expired"]
ImageChoice = Literal["svg", "png"]
EccChoice = Literal["L", "M", "Q", "H"]
FormatChoice = Literal["csv", "bitly", "yourls", "kutt", "shlink", "dub"]


class ScopeChoice(StrEnum):
    LINKS_READ = "links:read"
    LINKS_WRITE = "links:write"
    STATS_READ = "stats:read"


class CliError(Exception):
    """A failure found before or around a call, with the exit code it stands for."""

    def __init__(self, message: str, exit_code: int = EXIT_API) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: SqurlError) -> int:
    if isinstance(error, SqurlConnectionError):
        return EXIT_NETWORK
    if error.status in (401, 403):
        return EXIT_AUTH
    if error.status in (404, 410):
        return EXIT_NOT_FOUND
    return EXIT_API


def _error_line(error: SqurlError) -> str:
    if isinstance(error, SqurlConnectionError):
        return f"squrl: {error.message}"
    reason = (error.details or {}).get("reason")
    suffix = f", reason: {reason}" if reason else ""
    return f"squrl: {error.code}: {error.message} (HTTP {error.status}{suffix})"


class SqurlGroup(typer.core.TyperGroup):
    """Turns every failure into one line on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except SqurlError as error:
            as_json = ctx.meta.get(META_JSON, False)
            line = json.dumps(error.to_dict()) if as_json else _error_line(error)
            typer.echo(line, err=True)
            raise typer.Exit(exit_code_for(error)) from None
        except CliError as error:
            typer.echo(f"squrl: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        except config.ConfigError as error:
            typer.echo(f"squrl: {error}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except oauth.OAuthError as error:
            typer.echo(f"squrl: sign-in failed: {error}", err=True)
            raise typer.Exit(EXIT_AUTH) from None


app = typer.Typer(
    cls=SqurlGroup,
    name="squrl",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
tokens_app = typer.Typer(
    help="Personal tokens for scripts: list, create (shown once), revoke.",
    no_args_is_help=True,
)
app.add_typer(tokens_app, name="tokens")


def _remember_json(ctx: typer.Context, value: bool) -> bool:
    if value:
        ctx.meta[META_JSON] = True
    return value


JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON (for scripts) instead of tables.", callback=_remember_json
    ),
]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
CodeArg = Annotated[str, typer.Argument(help="The link's short code.")]


@dataclass
class State:
    url_flag: str | None = None
    timeout: float = 30.0


def _state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def _version(value: bool) -> None:
    if value:
        typer.echo(f"squrl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The API's base URL (else $SQURL_URL, else the config file)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer.", min=0.1)] = 30.0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """squrl from a terminal: shorten, list, edit and measure your short links.

    Sign in once with `squrl login --token TOKEN` (or `squrl login` in a browser).
    Add `--json` to any command for JSON output.

    Exit codes: 0 ok, 1 API error, 2 usage, 3 auth, 4 not found, 5 network.
    """
    ctx.obj = State(url_flag=url, timeout=timeout)


# -- plumbing -----------------------------------------------------------------------------------


def build_client(settings: config.Settings, timeout: float) -> Client:
    """The SDK client for these settings (tests replace this to inject a transport)."""
    return Client(settings.url, settings.token, timeout=timeout)


def _oidc_from(settings: config.Settings) -> oauth.OidcSettings | None:
    stored = settings.oidc
    if not stored.get("issuer") or not stored.get("client_id"):
        return None
    return oauth.OidcSettings(
        issuer=stored["issuer"],
        client_id=stored["client_id"],
        scopes=stored.get("scopes", oauth.DEFAULT_SCOPES),
        port=int(stored.get("port", oauth.DEFAULT_PORT)),
        use_token=stored.get("use_token", "access"),
    )


def _refreshed(settings: config.Settings) -> config.Settings:
    """A browser sign-in's JWT expires within the hour: renew it with the refresh token."""
    oidc = _oidc_from(settings)
    if oidc is None or not settings.refresh_token or not settings.token_needs_refresh():
        return settings
    signed = oauth.refresh(oidc, settings.refresh_token)
    config.save(
        token=signed.token, refresh_token=signed.refresh_token, token_expires_at=signed.expires_at
    )
    settings.token = signed.token
    settings.token_expires_at = signed.expires_at
    return settings


def client_for(ctx: typer.Context, *, signed_in: bool = True) -> Client:
    state = _state(ctx)
    settings = config.load(state.url_flag)
    if signed_in:
        settings = _refreshed(settings)
        if not settings.token:
            raise CliError(
                f"not signed in to {settings.url}: run `squrl login --token <token>` "
                f"(or `squrl login` in a browser), or set ${config.ENV_TOKEN}",
                EXIT_AUTH,
            )
    return build_client(settings, state.timeout)


def out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def usage_error(message: str) -> NoReturn:
    raise CliError(message, EXIT_USAGE)


# -- login, logout, whoami, config ----------------------------------------------------------------


def _read_token(token: str) -> str:
    if token == "-":
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        usage_error("the token is empty")
    return token


def _verify(client: Client) -> dict[str, Any] | None:
    """Who the credential belongs to (`GET /me`); on a server without /me, any owned read."""
    try:
        return dict(client.me())
    except SqurlError as error:
        if error.status != 404:
            raise
    client.list_links(limit=1)
    return None


def _browser_settings(
    settings: config.Settings,
    issuer: str | None,
    client_id: str | None,
    port: int | None,
    scopes: str | None,
    id_token: bool,
) -> oauth.OidcSettings:
    stored = settings.oidc
    issuer = issuer or os.environ.get(ENV_OIDC_ISSUER) or stored.get("issuer")
    client_id = client_id or os.environ.get(ENV_OIDC_CLIENT_ID) or stored.get("client_id")
    if not issuer or not client_id:
        usage_error(
            "browser sign-in needs the user pool's issuer and app client id: "
            f"--issuer/--client-id (or ${ENV_OIDC_ISSUER}/${ENV_OIDC_CLIENT_ID}); "
            "or sign in with --token"
        )
    return oauth.OidcSettings(
        issuer=issuer,
        client_id=client_id,
        scopes=scopes or stored.get("scopes", oauth.DEFAULT_SCOPES),
        port=port or int(stored.get("port", oauth.DEFAULT_PORT)),
        use_token="id" if id_token else stored.get("use_token", "access"),
    )


@app.command()
def login(
    ctx: typer.Context,
    token: Annotated[
        str | None,
        typer.Option(help="A personal token (or, locally, an API key); `-` reads it from stdin."),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="The API's base URL to store.")] = None,
    issuer: Annotated[
        str | None, typer.Option(help="Browser sign-in: the OIDC issuer or discovery URL.")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="Browser sign-in: the app client id.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Browser sign-in: the loopback callback port.")
    ] = None,
    scopes: Annotated[str | None, typer.Option(help="Browser sign-in: OAuth scopes.")] = None,
    id_token: Annotated[
        bool,
        typer.Option(
            "--id-token", help="Browser sign-in: send the ID token, not the access token."
        ),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in URL instead of opening it.")
    ] = False,
    verify: Annotated[
        bool, typer.Option(help="Check the credential with the server first.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Sign in: with a token, or in a browser (Cognito hosted UI, PKCE)."""
    state = _state(ctx)
    state.url_flag = url or state.url_flag
    settings = config.load(state.url_flag)
    refresh_token: str | None = None
    expires_at: float | None = None
    oidc: oauth.OidcSettings | None = None
    if token is not None:
        credential = _read_token(token)
    else:
        oidc = _browser_settings(settings, issuer, client_id, port, scopes, id_token)
        announce = lambda link: err().print(f"Sign in at: {link}", soft_wrap=True)  # noqa: E731
        signed = oauth.browser_sign_in(
            oidc, announce=announce, open_browser=(lambda _: None) if no_browser else _open
        )
        credential, refresh_token, expires_at = (
            signed.token,
            signed.refresh_token,
            signed.expires_at,
        )
    me = None
    if verify:
        with build_client(
            config.Settings(url=settings.url, token=credential), state.timeout
        ) as client:
            me = _verify(client)
    path = config.save(
        url=settings.url,
        token=credential,
        refresh_token=refresh_token,
        token_expires_at=expires_at,
        oidc=oidc.to_dict() if oidc else None,
    )
    if as_json:
        print_json({"url": settings.url, "user": me, "config": str(path)})
        return
    who = f" as {me.get('email') or me.get('user_id')}" if me else ""
    out().print(f"Signed in to {settings.url}{who}. Settings: {path}")


def _open(link: str) -> None:
    import webbrowser

    webbrowser.open(link)


@app.command()
def logout(as_json: JsonFlag = False) -> None:
    """Forget the stored credential (the token stays valid: `squrl tokens revoke` ends it)."""
    had = config.forget_credentials()
    if as_json:
        print_json({"signed_out": had})
        return
    out().print("Signed out." if had else "Not signed in.")


@app.command()
def whoami(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show who the credential belongs to (GET /me)."""
    with client_for(ctx) as client:
        me = client.me()
    if as_json:
        print_json(me)
        return
    groups = ", ".join(me.get("groups") or []) or "-"
    out().print(f"{me.get('email') or '-'} (user {me.get('user_id')}; groups: {groups})")


@app.command("config")
def show_config(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the effective settings and where each comes from."""
    settings = config.load(_state(ctx).url_flag)
    data = {
        "config_dir": str(config.config_dir()),
        "url": settings.url,
        "url_source": settings.sources["url"],
        "signed_in": bool(settings.token),
        "token_source": settings.sources["token"] if settings.token else None,
        "browser_sign_in": settings.oidc or None,
    }
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        out().print(f"{key}: {value if value is not None else '-'}")


# -- links ---------------------------------------------------------------------------------------


def _urls_from(urls: list[str], from_file: Path | None) -> list[str]:
    collected = list(urls)
    if from_file is not None:
        text = sys.stdin.read() if str(from_file) == "-" else from_file.read_text(encoding="utf-8")
        collected += [line.strip() for line in text.splitlines() if line.strip()]
    return collected


@app.command()
def shorten(
    ctx: typer.Context,
    urls: Annotated[list[str] | None, typer.Argument(help="The URL(s) to shorten.")] = None,
    code: Annotated[str | None, typer.Option("--code", "-c", help="A custom short code.")] = None,
    ttl_hours: Annotated[
        int | None, typer.Option(help="Expire after this many hours (1..87600).")
    ] = None,
    redirect_type: Annotated[
        RedirectChoice | None,
        typer.Option(help="HTTP status of the redirect."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="A title (up to 200 characters).")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", "-f", help="One URL a line (`-`: stdin); sent in bulk."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Replay protection key (one is made up when absent).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Shorten a URL (several URLs, or --from-file, go through POST /urls/bulk)."""
    targets = _urls_from(urls or [], from_file)
    if not targets:
        usage_error("nothing to shorten: give a URL or --from-file")
    options: dict[str, Any] = {
        "ttl_hours": ttl_hours,
        "redirect_type": redirect_type,
        "title": title,
        "tags": tag or None,
    }
    with client_for(ctx) as client:
        if len(targets) == 1 and from_file is None:
            link = client.create_link(
                targets[0], custom_code=code, idempotency_key=idempotency_key, **options
            )
            if as_json:
                print_json(link)
            else:
                typer.echo(link["short_url"])
            return
        if code:
            usage_error("--code names one link: give one URL with it")
        results = _bulk(client, targets, options, idempotency_key)
    _report_bulk(targets, results, as_json)


def _bulk(
    client: Client, targets: list[str], options: dict[str, Any], key: str | None
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for start in range(0, len(targets), BULK_CHUNK):
        items = [
            {"original_url": target, **options} for target in targets[start : start + BULK_CHUNK]
        ]
        chunk_key = None if key is None else f"{key}-{start // BULK_CHUNK}"
        results += [dict(result) for result in client.bulk_create(items, idempotency_key=chunk_key)]
    return results


def _report_bulk(targets: list[str], results: list[dict[str, Any]], as_json: bool) -> None:
    failed = [result for result in results if "link" not in result]
    if as_json:
        print_json({"results": results})
    else:
        for target, result in zip(targets, results, strict=False):
            if "link" in result:
                typer.echo(f"{result['link']['short_url']}\t{target}")
            else:
                error = result.get("error") or {}
                typer.echo(
                    f"squrl: {target}: {error.get('error')}: {error.get('message')}", err=True
                )
    if failed:
        raise typer.Exit(EXIT_API)


StatusOption = Annotated[
    StatusChoice | None,
    typer.Option(help="Only links in this state."),
]


@app.command("ls")
def list_links(
    ctx: typer.Context,
    status: StatusOption = None,
    tag: Annotated[str | None, typer.Option(help="Only links with this tag.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Links per page (1..100).")] = 25,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page.")] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", "-a", help="Every page, not only the first.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List your links, newest first."""
    with client_for(ctx) as client:
        if all_pages:
            items = list(client.iter_links(limit=limit, status=status, tag=tag, cursor=cursor))
            page: dict[str, Any] = {"items": items, "next_cursor": None}
        else:
            page = dict(client.list_links(limit=limit, cursor=cursor, status=status, tag=tag))
    if as_json:
        print_json(page)
        return
    out().print(render.links_table(page["items"]))
    if page.get("next_cursor"):
        err().print(f"More: squrl ls --cursor {page['next_cursor']} (or --all)", soft_wrap=True)


@app.command()
def show(ctx: typer.Context, code: CodeArg, as_json: JsonFlag = False) -> None:
    """Show one link."""
    with client_for(ctx) as client:
        link = client.get_link(code)
    if as_json:
        print_json(link)
        return
    out().print(render.link_card(link))


@app.command()
def history(ctx: typer.Context, code: CodeArg, as_json: JsonFlag = False) -> None:
    """Show a link's changes, oldest first."""
    with client_for(ctx) as client:
        entries = client.link_history(code)
    if as_json:
        print_json({"items": entries})
        return
    out().print(render.history_table(entries))


def _edit_fields(
    url: str | None,
    redirect_type: int | None,
    ttl_hours: int | None,
    expires_at: str | None,
    never_expires: bool,
    title: str | None,
    tags: list[str] | None,
    clear_tags: bool,
) -> dict[str, Any]:
    if expires_at and never_expires:
        usage_error("--expires-at and --never-expires exclude each other")
    fields: dict[str, Any] = {}
    for name, value in (
        ("original_url", url),
        ("redirect_type", redirect_type),
        ("ttl_hours", ttl_hours),
        ("expires_at", expires_at),
    ):
        if value is not None:
            fields[name] = value
    if never_expires:
        fields["expires_at"] = None
    if title is not None:
        fields["title"] = title or None
    if tags or clear_tags:
        fields["tags"] = [] if clear_tags else tags
    if not fields:
        usage_error("nothing to change: give at least one option (see squrl edit --help)")
    return fields


@app.command()
def edit(
    ctx: typer.Context,
    code: CodeArg,
    url: Annotated[str | None, typer.Option("--url", help="A new destination.")] = None,
    redirect_type: Annotated[
        RedirectChoice | None, typer.Option(help="HTTP status of the redirect.")
    ] = None,
    ttl_hours: Annotated[int | None, typer.Option(help="Expire this many hours from now.")] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(help="Expire at this ISO 8601 UTC time (e.g. 2027-01-31T00:00:00Z)."),
    ] = None,
    never_expires: Annotated[
        bool, typer.Option("--never-expires", help="Remove the expiry.")
    ] = False,
    title: Annotated[str | None, typer.Option(help='A new title ("" removes it).')] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Replace the tags; repeat for more.")
    ] = None,
    clear_tags: Annotated[bool, typer.Option("--clear-tags", help="Remove every tag.")] = False,
    if_match: Annotated[
        int | None, typer.Option(help="Only if the link is still at this version (else 412).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a link (destination, redirect, expiry, title, tags)."""
    fields = _edit_fields(
        url, redirect_type, ttl_hours, expires_at, never_expires, title, tag, clear_tags
    )
    with client_for(ctx) as client:
        link = client.update_link(code, if_match=if_match, **fields)
    if as_json:
        print_json(link)
        return
    out().print(render.link_card(link))


def _set_status(ctx: typer.Context, code: str, status: str, as_json: bool) -> None:
    with client_for(ctx) as client:
        link = client.update_link(code, status=status)
    if as_json:
        print_json(link)
        return
    out().print(f"{code} is {link.get('status', status)}.")


@app.command()
def disable(ctx: typer.Context, code: CodeArg, as_json: JsonFlag = False) -> None:
    """Disable a link: it answers 410 until enabled again."""
    _set_status(ctx, code, "disabled", as_json)


@app.command()
def enable(ctx: typer.Context, code: CodeArg, as_json: JsonFlag = False) -> None:
    """Enable a disabled link again."""
    _set_status(ctx, code, "active", as_json)


@app.command("rm")
def remove(
    ctx: typer.Context, code: CodeArg, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Delete a link for good: the code answers 410 forever and is never reused."""
    if not yes and not typer.confirm(
        f"Delete {code}? Its code will never lead anywhere again", default=False, err=True
    ):
        raise CliError("not deleted", EXIT_API)
    with client_for(ctx) as client:
        client.delete_link(code)
    if as_json:
        print_json({"deleted": code})
        return
    out().print(f"Deleted {code}.")


@app.command()
def stats(
    ctx: typer.Context,
    code: CodeArg,
    days: Annotated[int, typer.Option(min=1, max=366, help="Days in the chart.")] = 14,
    as_json: JsonFlag = False,
) -> None:
    """A link's clicks: a daily chart, referrers, countries, devices (bots counted apart)."""
    with client_for(ctx) as client:
        counters = client.link_stats(code)
    if as_json:
        print_json(counters)
        return
    out().print(render.stats_view(counters, days=days, today=datetime.now(UTC).date()))


@app.command()
def qr(
    ctx: typer.Context,
    code: CodeArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (.svg or .png; `-`: stdout)."),
    ] = None,
    image_format: Annotated[
        ImageChoice | None,
        typer.Option("--format", help="Else from -o's suffix; svg."),
    ] = None,
    scale: Annotated[
        int | None, typer.Option(min=1, max=40, help="Pixels per module (1..40).")
    ] = None,
    border: Annotated[
        int | None, typer.Option(min=0, max=16, help="Quiet zone in modules (0..16).")
    ] = None,
    ecc: Annotated[
        EccChoice | None,
        typer.Option(help="Error correction level."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Save a link's QR code as SVG or PNG."""
    suffix = output.suffix.lower().lstrip(".") if output and str(output) != "-" else ""
    chosen = image_format or (suffix if suffix in ("svg", "png") else "svg")
    target = output or Path(f"{code}.{chosen}")
    with client_for(ctx) as client:
        image = client.qr(code, format=chosen, scale=scale, border=border, ecc=ecc)  # type: ignore[arg-type]
    if str(target) == "-":
        sys.stdout.buffer.write(image)
        sys.stdout.flush()
        return
    target.write_bytes(image)
    if as_json:
        print_json({"path": str(target), "format": chosen, "bytes": len(image)})
        return
    out().print(f"Wrote {target} ({chosen}, {len(image)} bytes).")


# -- import and export ---------------------------------------------------------------------------


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")
    ],
    import_format: Annotated[
        FormatChoice,
        typer.Option("--format", help="The file's format: csv, or another shortener's export."),
    ] = "csv",
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget this file's earlier job and start a new one.")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between status checks.")
    ] = 0.5,
    as_json: JsonFlag = False,
) -> None:
    """Import links from a file, with a progress bar (resumable).

    Running it again with the same file resumes the same job: nothing is imported twice.
    """
    with client_for(ctx) as client:
        run = ImportRun(client, file, import_format, poll_seconds=poll_interval)
        if restart:
            run.forget()
        job = run.start()
        if run.resumed and not as_json:
            err().print(f"Resuming import {job['id']} of {file}.")
        with _progress(as_json) as progress:
            task = progress.add_task(f"Importing {file.name}", total=None)

            def update(seen: Any) -> None:
                progress.update(task, total=seen.get("total") or None, completed=processed(seen))

            job = run.follow(job, update)
    if as_json:
        print_json(job)
    else:
        _report_import(file, job)
    if job.get("status") == "failed":
        raise typer.Exit(EXIT_API)


class _NoProgress:
    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _progress(quiet: bool) -> Any:
    if quiet:
        return _NoProgress()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
    )


def _report_import(file: Path, job: Any) -> None:
    console = out()
    console.print(
        f"Import {job['id']} of {file}: {job.get('status')}: total {job.get('total', 0)}, "
        f"created {job.get('created', 0)}, skipped {job.get('skipped', 0)}, "
        f"failed {job.get('failed', 0)}"
    )
    if job.get("message"):
        console.print(f"Reason: {job['message']}")
    errors = job.get("errors") or []
    if errors:
        console.print(render.import_errors_table(errors[:20]))
        if len(errors) > 20:
            console.print(f"… and {len(errors) - 20} more (see --json)")


@app.command()
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (else stdout).")
    ] = None,
    as_json: JsonFlag = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the export (not retried).", min=0.1)
    ] = EXPORT_TIMEOUT_SECONDS,
) -> None:
    """Export everything of yours (links with stats and history, tokens) as one JSON document."""
    with client_for(ctx) as client:
        document = client.export_me(timeout=timeout)
    if output is None:
        print_json(document)
        return
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    links = len(document.get("links") or [])
    tokens = len(document.get("tokens") or [])
    if as_json:
        print_json({"path": str(output), "links": links, "tokens": tokens})
        return
    out().print(f"Wrote {links} links and {tokens} tokens to {output}.")


# -- tokens --------------------------------------------------------------------------------------


@tokens_app.command("ls")
def tokens_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List your tokens (never their secrets)."""
    with client_for(ctx) as client:
        tokens = client.list_tokens()
    if as_json:
        print_json({"items": tokens})
        return
    out().print(render.tokens_table(tokens))


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    scope: Annotated[
        list[ScopeChoice] | None,
        typer.Option("--scope", "-s", help="Repeat for more; default all."),
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Lifetime in days.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token. Its secret is printed this once: store it now."""
    with client_for(ctx) as client:
        scopes = [str(choice.value) for choice in scope] if scope else list(SCOPES)
        token = client.create_token(name, scopes, expires_in_days=expires_in_days)
    if as_json:
        print_json(token)
        return
    typer.echo(token["token"])
    err().print(
        f"Token {token.get('id')} ({' '.join(token.get('scopes') or [])}) created; "
        "the secret above is not shown again."
    )


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (see `squrl tokens ls`).")],
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Revoke a token: it stops working at once locally, within 5 minutes in AWS."""
    if not yes and not typer.confirm(f"Revoke token {token_id}?", default=False, err=True):
        raise CliError("not revoked", EXIT_API)
    with client_for(ctx) as client:
        client.revoke_token(token_id)
    if as_json:
        print_json({"revoked": token_id})
        return
    out().print(f"Revoked {token_id}.")


def main() -> None:
    app(prog_name="squrl")

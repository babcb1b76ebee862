"""A typed client for squrl's HTTP API (docs/api.md sections 2, 7, 8 and 9), over httpx.

One method per route. Every error answer becomes a `SqurlError` carrying the API's error code,
status and details; a request that never got an answer becomes a `SqurlConnectionError`.

Retries: a `429` is retried after its `Retry-After` (the throttled request was not processed, so
this is safe for every method); a connection failure is retried only for idempotent calls (GET,
PUT, DELETE, and creates that carry an `Idempotency-Key`, which this client always sends).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypedDict
from urllib.parse import quote, urlsplit

import httpx

from squrl_cli import __version__

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 3
# The longest a Retry-After is honoured; past it the 429 is reported instead of waited out.
MAX_RETRY_AFTER_SECONDS = 60.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# GET /me/export reads every link of the caller in one request: it gets longer to answer, and
# a read timeout is not retried (a retry would run the whole export again on the server).
EXPORT_TIMEOUT_SECONDS = 120.0

LinkStatus = Literal["active", "disabled", "expired"]
RedirectType = Literal[301, 302, 307, 308]
ImportFormat = Literal["csv", "bitly", "yourls", "kutt", "shlink", "dub"]
QrFormat = Literal["svg", "png"]
QrEcc = Literal["L", "M", "Q", "H"]
Scope = Literal["links:read", "links:write", "stats:read"]


class Link(TypedDict, total=False):
    short_code: str
    original_url: str
    short_url: str
    created_at: str
    expires_at: str | None
    redirect_type: int
    status: LinkStatus
    click_count: int
    title: str | None
    tags: list[str]
    updated_at: str
    version: int


class LinkPage(TypedDict):
    items: list[Link]
    next_cursor: str | None


class HistoryEntry(TypedDict):
    at: str
    actor: str
    action: Literal["created", "updated", "deleted"]
    changes: dict[str, list[Any]]


class Stats(TypedDict, total=False):
    short_code: str
    click_count: int
    bot_clicks: int
    daily: list[dict[str, Any]]
    referrers: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    devices: list[dict[str, Any]]


class Token(TypedDict, total=False):
    id: str
    name: str
    scopes: list[str]
    token: str  # only in the create answer, shown once
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class Me(TypedDict):
    user_id: str
    email: str | None
    groups: list[str]


class ImportJob(TypedDict, total=False):
    id: str
    upload_url: str
    status: Literal["waiting", "running", "done", "failed"]
    total: int
    created: int
    skipped: int
    failed: int
    errors: list[dict[str, Any]]


class BulkResult(TypedDict, total=False):
    status: int
    link: Link
    error: dict[str, Any]


class SqurlError(Exception):
    """An error answer of the API: `{"error", "message", "details"}` and its HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details) if details is not None else None
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "details": self.details,
            "status": self.status,
        }


class SqurlConnectionError(SqurlError):
    """No answer: the server could not be reached, or the connection broke or timed out."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "ConnectionError", message)


# The error code a status stands for when the body is not squrl's error shape (API Gateway's
# own 403 `{"message": "Forbidden"}`, a proxy's HTML page).
_CODE_BY_STATUS = {
    400: "ValidationError",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "ConflictError",
    410: "Gone",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    422: "IdempotencyKeyReused",
    429: "RateLimitExceeded",
}


def error_from_response(response: httpx.Response) -> SqurlError:
    """The `SqurlError` an error answer stands for, whatever its body looks like."""
    code = _CODE_BY_STATUS.get(response.status_code, "InternalServerError")
    message = response.reason_phrase or "error"
    details: Mapping[str, Any] | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error") or code)
        message = str(body.get("message") or body.get("Message") or message)
        raw_details = body.get("details")
        details = raw_details if isinstance(raw_details, dict) else None
    return SqurlError(
        response.status_code,
        code,
        message,
        details,
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
    )


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def new_idempotency_key() -> str:
    return f"squrl-cli-{uuid.uuid4()}"


def _omit_none(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _path_segment(value: str) -> str:
    return quote(value, safe="")


class Client:
    """squrl's API for one base URL and one credential (a personal token, a Cognito JWT or,
    locally, an API key value: all travel as `Authorization: Bearer`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_retries = max_retries
        self._sleep = sleep
        headers = {"User-Agent": f"squrl-cli/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        content: bytes | None = None,
        send_credential: bool = True,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one call, retrying as the module says; return a 2xx answer or raise.
        `timeout` overrides the client's for this call."""
        retry_on_disconnect = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt = 0
        while True:
            request = self._http.build_request(
                method,
                path,
                json=json,
                content=content,
                # None, not {}: an empty mapping would drop a pre-signed URL's own query.
                params=_omit_none(params) if params else None,
                headers=dict(headers or {}),
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
            if not send_credential:
                request.headers.pop("Authorization", None)
            try:
                response = self._http.send(request)
            except httpx.TransportError as error:
                # A refused connection was never sent, so it is safe to retry for any call.
                may_retry = retry_on_disconnect or isinstance(error, httpx.ConnectError)
                if may_retry and attempt < self.max_retries:
                    attempt += 1
                    self._sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
                    continue
                raise SqurlConnectionError(
                    _describe_transport_error(error, self.base_url)
                ) from None
            if response.status_code == 429 and attempt < self.max_retries:
                wait = retry_after_seconds(response.headers.get("retry-after"))
                delay = 1.0 * 2**attempt if wait is None else wait
                if delay <= MAX_RETRY_AFTER_SECONDS:
                    attempt += 1
                    self._sleep(delay)
                    continue
            if response.is_success:
                return response
            raise error_from_response(response)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # -- section 2 and 7: links --------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """GET /health (public)."""
        return self._json("GET", "/health")  # type: ignore[no-any-return]

    def create_link(
        self,
        original_url: str,
        *,
        custom_code: str | None = None,
        ttl_hours: int | None = None,
        redirect_type: int | None = None,
        title: str | None = None,
        tags: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> Link:
        """POST /urls. A retry after a lost answer replays the first answer (same key)."""
        body = _omit_none(
            {
                "original_url": original_url,
                "custom_code": custom_code,
                "ttl_hours": ttl_hours,
                "redirect_type": redirect_type,
                "title": title,
                "tags": tags,
            }
        )
        key = idempotency_key or new_idempotency_key()
        return self._json(  # type: ignore[no-any-return]
            "POST", "/urls", json=body, headers={"Idempotency-Key": key}, idempotent=True
        )

    def list_links(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | None = None,
        tag: str | None = None,
    ) -> LinkPage:
        """GET /urls: one page, newest first."""
        params = {"limit": limit, "cursor": cursor, "status": status, "tag": tag}
        return self._json("GET", "/urls", params=params)  # type: ignore[no-any-return]

    def iter_links(
        self,
        *,
        limit: int | None = None,
        status: str | None = None,
        tag: str | None = None,
        cursor: str | None = None,
    ) -> Iterator[Link]:
        """Every link, page after page (`limit` is the page size)."""
        while True:
            page = self.list_links(limit=limit, cursor=cursor, status=status, tag=tag)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def get_link(self, code: str) -> Link:
        """GET /urls/{code}."""
        return self._json("GET", f"/urls/{_path_segment(code)}")  # type: ignore[no-any-return]

    def update_link(self, code: str, *, if_match: int | None = None, **fields: Any) -> Link:
        """PATCH /urls/{code} with the given fields (a `None` value is sent as JSON null, which
        `expires_at` uses for "never"). `if_match` makes it conditional on that version."""
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
        return self._json(  # type: ignore[no-any-return]
            "PATCH", f"/urls/{_path_segment(code)}", json=fields, headers=headers
        )

    def disable_link(self, code: str) -> Link:
        return self.update_link(code, status="disabled")

    def enable_link(self, code: str) -> Link:
        return self.update_link(code, status="active")

    def delete_link(self, code: str) -> None:
        """DELETE /urls/{code}: the code answers 410 forever and is never reassigned."""
        self.request("DELETE", f"/urls/{_path_segment(code)}")

    def link_stats(self, code: str) -> Stats:
        """GET /urls/{code}/stats."""
        return self._json("GET", f"/urls/{_path_segment(code)}/stats")  # type: ignore[no-any-return]

    def link_history(self, code: str) -> list[HistoryEntry]:
        """GET /urls/{code}/history, oldest first."""
        body = self._json("GET", f"/urls/{_path_segment(code)}/history")
        return body["items"]  # type: ignore[no-any-return]

    # -- section 8: identity -----------------------------------------------------------------

    def me(self) -> Me:
        """GET /me."""
        return self._json("GET", "/me")  # type: ignore[no-any-return]

    def export_me(self, timeout: float = EXPORT_TIMEOUT_SECONDS) -> dict[str, Any]:
        """GET /me/export: every link (with stats and history), token and import job of the
        caller. Waits `timeout` seconds; retried only when the connection was refused (never
        sent), not after a lost answer, which would export everything again."""
        return self._json(  # type: ignore[no-any-return]
            "GET", "/me/export", idempotent=False, timeout=timeout
        )

    def delete_me(self) -> None:
        """DELETE /me: deletes every link, revokes every token and removes the user."""
        self.request("DELETE", "/me")

    def list_tokens(self) -> list[Token]:
        """GET /tokens (no secrets)."""
        body = self._json("GET", "/tokens")
        return body["items"] if isinstance(body, dict) else body  # type: ignore[no-any-return]

    def create_token(
        self, name: str, scopes: list[str], *, expires_in_days: int | None = None
    ) -> Token:
        """POST /tokens. The answer's `token` is shown this once."""
        body = _omit_none({"name": name, "scopes": scopes, "expires_in_days": expires_in_days})
        return self._json("POST", "/tokens", json=body)  # type: ignore[no-any-return]

    def revoke_token(self, token_id: str) -> None:
        """DELETE /tokens/{id}."""
        self.request("DELETE", f"/tokens/{_path_segment(token_id)}")

    # -- section 9: developer surface ----------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """GET /openapi.json (public)."""
        return self._json("GET", "/openapi.json")  # type: ignore[no-any-return]

    def bulk_create(
        self, items: Sequence[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> list[BulkResult]:
        """POST /urls/bulk (1..100 create bodies): one result per item, in order."""
        key = idempotency_key or new_idempotency_key()
        body = self._json(
            "POST",
            "/urls/bulk",
            json={"items": [_omit_none(item) for item in items]},
            headers={"Idempotency-Key": key},
            idempotent=True,
        )
        return body["results"]  # type: ignore[no-any-return]

    def qr(
        self,
        code: str,
        *,
        format: QrFormat = "svg",
        scale: int | None = None,
        border: int | None = None,
        ecc: QrEcc | None = None,
    ) -> bytes:
        """GET /urls/{code}/qr: the short URL as an SVG or PNG image."""
        params = {"format": format, "scale": scale, "border": border, "ecc": ecc}
        response = self.request(
            "GET",
            f"/urls/{_path_segment(code)}/qr",
            params=params,
            headers={"Accept": "image/svg+xml" if format == "svg" else "image/png"},
        )
        return response.content

    def create_import(self, format: ImportFormat) -> ImportJob:
        """POST /imports: a job and the pre-signed URL to PUT its file to."""
        return self._json("POST", "/imports", json={"format": format})  # type: ignore[no-any-return]

    def upload_import(self, upload_url: str, data: bytes) -> None:
        """PUT the file to the job's pre-signed URL. The signature is in the URL: the API
        credential goes only to the API's own origin (S3 refuses a second auth mechanism)."""
        self.request(
            "PUT",
            upload_url,
            content=data,
            send_credential=_same_origin(upload_url, self.base_url),
        )

    def get_import(self, import_id: str) -> ImportJob:
        """GET /imports/{id}: status and counts."""
        return self._json("GET", f"/imports/{_path_segment(import_id)}")  # type: ignore[no-any-return]


def _same_origin(url: str, base_url: str) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    if not target.scheme:
        return True
    return (target.scheme, target.netloc) == (base.scheme, base.netloc)


def _describe_transport_error(error: httpx.TransportError, base_url: str) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"no answer from {base_url} in time ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot reach {base_url}: {error}"
    return f"connection to {base_url} failed: {error}"

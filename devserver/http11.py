"""HTTP/1.1 requests read from a socket, strictly by RFC 9112, with deadlines.

What is refused, and how (each with a test in tests/e2e/test_http_e2e.py):
- a request line that is not `method SP target SP HTTP/d.d`: 400; longer than 64 KiB: 414; an
  HTTP major version other than 1: 505;
- a header line with whitespace before its colon, a folded line, a control character: 400; more
  than 100 header fields or 64 KiB of them: 431; no Host, or two, in HTTP/1.1: 400;
- framing (section 6): a Content-Length that is not ASCII digits, or given twice (even equal):
  400; Content-Length with Transfer-Encoding, or Transfer-Encoding in HTTP/1.0: 400; a coding
  list whose last coding is not `chunked`, or `chunked` twice: 400; any other coding before it
  (or a parameter on it): 501; a chunk size that is not hex digits: 400; a body over the
  gateway's cap, by Content-Length or chunk by chunk: 413 before it is read;
- a request head not complete within the client timeout of its first byte, or a body not within
  the timeout after its head: 408 (a slow client does not extend its deadline by trickling).
Every refusal closes the connection: after a framing error nothing later on it can be trusted.
Empty lines before a request line are skipped (section 2.2); a keep-alive connection with no new
request within the timeout is closed without an answer.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

MAX_REQUEST_LINE = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_CHUNK_LINE = 4096
MAX_SIZE_DIGITS = 16  # more hex or decimal digits than any body this server takes

_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) (HTTP/(\d)\.(\d))")
_VERSION_LIKE = re.compile(rb"HTTP/\d+\.\d+")
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(rb"[^\x00-\x08\x0a-\x1f\x7f]*")
_DIGITS = re.compile(rb"[0-9]+")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;[^\x00-\x08\x0a-\x1f\x7f]*)?")
_HEAD_END = re.compile(rb"\n\r?\n")


class HttpError(Exception):
    """A request refused by the HTTP layer: answered with `status`, then the connection closes."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class ClientGone(Exception):
    """The client closed its side (or was cut off) before its request was complete."""


@dataclass
class Request:
    method: str
    target: str
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.version}"


class RequestReader:
    """Requests from one connection, one after another (pipelined bytes stay buffered)."""

    def __init__(self, sock: socket.socket, timeout: float, max_body: int):
        self.sock = sock
        self.timeout = timeout
        self.max_body = max_body
        self.buffer = bytearray()

    def wait_for_request(self) -> bool:
        """True once a request has begun (empty lines before it skipped); False if the client
        closed, or sent nothing within the timeout (an idle keep-alive connection)."""
        deadline = time.monotonic() + self.timeout
        while True:
            while self.buffer[:1] == b"\n" or self.buffer[:2] == b"\r\n":
                del self.buffer[: 1 if self.buffer[:1] == b"\n" else 2]
            if self.buffer and self.buffer != b"\r":
                return True
            try:
                if not self._receive(deadline):
                    return False
            except TimeoutError:
                return False

    def read_request(self, send_continue: Callable[[], None]) -> Request:
        """The request that has begun. Raises HttpError (answer, then close) or ClientGone."""
        deadline = time.monotonic() + self.timeout
        head = self._read_head(deadline)
        request, framing = parse_head(head, self.max_body)
        expect = _field(request.headers, "expect")
        if expect is not None and request.version == "HTTP/1.1":
            if expect.lower() != "100-continue":
                raise HttpError(417, "Only Expect: 100-continue is supported.")
            if framing != 0 and not self.buffer:
                send_continue()
        deadline = time.monotonic() + self.timeout
        if isinstance(framing, str):  # chunked
            request.body = self._read_chunked(deadline)
        elif framing:
            request.body = self._take(framing, deadline)
        return request

    # Reading ----------------------------------------------------------------------------------

    def _receive(self, deadline: float) -> bool:
        """More bytes into the buffer; False at end of stream. TimeoutError past the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError:  # reset by the client
            return False
        self.buffer += data
        return bool(data)

    def _more(self, deadline: float) -> None:
        try:
            received = self._receive(deadline)
        except TimeoutError:
            raise HttpError(408, "The request did not arrive in time.") from None
        if not received:
            raise ClientGone

    def _read_head(self, deadline: float) -> bytes:
        searched = 0
        while True:
            end = _HEAD_END.search(self.buffer, max(0, searched - 3))
            line_end = self.buffer.find(b"\n", 0, MAX_REQUEST_LINE + 2)
            if line_end < 0 and len(self.buffer) > MAX_REQUEST_LINE:
                raise HttpError(414, "The request target is too long.")
            if end is not None:
                head = bytes(self.buffer[: end.end()])
                del self.buffer[: end.end()]
                return head
            if len(self.buffer) - max(line_end, 0) > MAX_HEADER_BYTES:
                raise HttpError(431, "The request's header fields are too large.")
            searched = len(self.buffer)
            self._more(deadline)

    def _take(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            self._more(deadline)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _line(self, deadline: float, limit: int) -> bytes:
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                return line.removesuffix(b"\r")
            if len(self.buffer) > limit:
                raise HttpError(400, "A chunk line is too long.")
            self._more(deadline)

    def _read_chunked(self, deadline: float) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self._line(deadline, MAX_CHUNK_LINE)
            found = _CHUNK_LINE.fullmatch(line)
            if found is None:
                raise HttpError(400, "Malformed chunked body.")
            digits = found[1].lstrip(b"0")
            if len(digits) > MAX_SIZE_DIGITS:
                raise HttpError(413, "The request body is too large.")
            size = int(digits or b"0", 16)
            if size == 0:
                break
            total += size
            if total > self.max_body:
                raise HttpError(413, "The request body is too large.")
            chunks.append(self._take(size, deadline))
            if self._line(deadline, 2) != b"":
                raise HttpError(400, "Malformed chunked body.")
        # Trailer fields: read and dropped, within the header limits.
        count, size = 0, 0
        while line := self._line(deadline, MAX_HEADER_BYTES):
            count, size = count + 1, size + len(line)
            if count > MAX_HEADERS or size > MAX_HEADER_BYTES:
                raise HttpError(431, "The request's trailer fields are too large.")
        return b"".join(chunks)


def _field(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    return ", ".join(values) if values else None


def parse_head(head: bytes, max_body: int) -> tuple[Request, int | str]:
    """The request (without its body) and its framing: a length, or "chunked"."""
    lines = [line.removesuffix(b"\r") for line in head.split(b"\n")[:-2]]
    request_line, fields = lines[0], lines[1:]
    if len(request_line) > MAX_REQUEST_LINE:
        raise HttpError(414, "The request target is too long.")
    if len(head) - len(request_line) > MAX_HEADER_BYTES:
        raise HttpError(431, "The request's header fields are too large.")
    if b"\r" in head.replace(b"\r\n", b""):
        raise HttpError(400, "A bare CR is not allowed in a request head.")
    found = _REQUEST_LINE.fullmatch(request_line)
    if found is None:
        parts = request_line.split(b" ")
        if len(parts) == 3 and _VERSION_LIKE.fullmatch(parts[2]) and parts[2][5:6] != b"1":
            raise HttpError(505, "Only HTTP/1.x is supported.")
        raise HttpError(400, "Malformed request line.")
    if found[4] != b"1":
        raise HttpError(505, "Only HTTP/1.x is supported.")
    version = "HTTP/1.0" if found[5] == b"0" else "HTTP/1.1"
    if len(fields) > MAX_HEADERS:
        raise HttpError(431, f"More than {MAX_HEADERS} header fields.")
    headers: list[tuple[str, str]] = []
    for line in fields:
        name, colon, value = line.partition(b":")
        if not colon or _FIELD_NAME.fullmatch(name) is None:
            # Whitespace before the colon, or a folded line (RFC 9112 5.1, 5.2).
            raise HttpError(400, "Malformed header field.")
        value = value.strip(b" \t")
        if _FIELD_VALUE.fullmatch(value) is None:
            raise HttpError(400, "Malformed header field value.")
        headers.append((name.decode("ascii"), value.decode("latin-1")))
    request = Request(
        method=found[1].decode("ascii"),
        target=found[2].decode("ascii"),
        version=version,
        headers=headers,
        body=b"",
        keep_alive=_keep_alive(version, headers),
    )
    hosts = [value for key, value in headers if key.lower() == "host"]
    if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts):
        raise HttpError(400, "An HTTP/1.1 request has exactly one Host header field.")
    return request, _framing(version, headers, max_body)


def _keep_alive(version: str, headers: list[tuple[str, str]]) -> bool:
    options = {
        option.strip().lower()
        for key, value in headers
        if key.lower() == "connection"
        for option in value.split(",")
    }
    if "close" in options:
        return False
    return version == "HTTP/1.1" or "keep-alive" in options


def _framing(version: str, headers: list[tuple[str, str]], max_body: int) -> int | str:
    encodings = [value for key, value in headers if key.lower() == "transfer-encoding"]
    lengths = [value for key, value in headers if key.lower() == "content-length"]
    if encodings:
        if lengths:
            raise HttpError(400, "Content-Length and Transfer-Encoding together are not allowed.")
        if version == "HTTP/1.0":
            raise HttpError(400, "Transfer-Encoding is not allowed in HTTP/1.0.")
        codings = [c.strip().lower() for value in encodings for c in value.split(",") if c.strip()]
        names = [coding.split(";", 1)[0].strip() for coding in codings]
        if not names or names[-1] != "chunked" or names.count("chunked") > 1:
            raise HttpError(400, "The body's length cannot be determined: chunked must be last.")
        if codings != ["chunked"]:
            raise HttpError(501, "Only the chunked transfer coding is supported.")
        return "chunked"
    if not lengths:
        return 0
    if len(lengths) > 1:
        raise HttpError(400, "Content-Length is given more than once.")
    raw = lengths[0].encode("latin-1")
    if _DIGITS.fullmatch(raw) is None:
        raise HttpError(400, "Content-Length is not a number.")
    digits = raw.lstrip(b"0")
    if len(digits) > MAX_SIZE_DIGITS or int(digits or b"0") > max_body:
        raise HttpError(413, "The request body is too large.")
    return int(digits or b"0")


_FRAMING_HEADERS = ("content-length", "connection", "transfer-encoding")


def encode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    head: bool = False,
    close: bool = False,
    keep_alive_1_0: bool = False,
) -> bytes:
    """The response's bytes. The framing is the server's: a handler's own Content-Length or
    Connection is replaced. A HEAD answer states a length only if it is the GET body's (RFC 9110,
    8.6); the redirect leaves the body out for HEAD, so then no length is sent at all."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Server: squrl-local",
        f"Date: {formatdate(usegmt=True)}",
    ]
    for name, value in headers.items():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"the response header {name!r} holds a line break")
        if name.lower() not in _FRAMING_HEADERS:
            lines.append(f"{name}: {value}")
    if not head or body:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    elif keep_alive_1_0:
        lines.append("Connection: keep-alive")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (b"" if head else body)

"""The local server's HTTP/1.1 message parsing (RFC 9112), over raw sockets.

Each refusal is in the spec's error shape (SPEC 2). Where the framing of the request cannot be
trusted, the server closes the connection after answering, so nothing sent after it is read as
another request.
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.e2e.conftest import CLIENT_TIMEOUT_SECONDS, LocalServer
from tests.e2e.raw_http import PATIENCE_SECONDS, Exchange, read_all, read_response, responses

pytestmark = pytest.mark.e2e

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit, the local gateway's cap


def connect(squrl: LocalServer) -> socket.socket:
    host, port = squrl.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=PATIENCE_SECONDS)
    return sock


def send(squrl: LocalServer, request: bytes) -> Exchange:
    """Sends `request` and reads until the server closes (or stops answering)."""
    with connect(squrl) as sock:
        sock.sendall(request)
        return read_all(sock)


def post_head(squrl: LocalServer, *headers: bytes) -> bytes:
    return (
        b"POST /urls HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + squrl.api_key.encode()
        + b"\r\nContent-Type: application/json\r\n"
        + b"".join(header + b"\r\n" for header in headers)
        + b"\r\n"
    )


BODY = b'{"original_url": "https://framing.example/"}'  # the same length every run


def new_link() -> bytes:
    """A body that creates a new link (201), not the caller's existing one (200)."""
    return b'{"original_url": "https://framing.example/%s"}' % os.urandom(8).hex().encode()


SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(
    "length",
    [b"\xb2", "²".encode(), "٣".encode(), b"+45", b"0x2d", b"4_5", b"-5", b"45 45", b""],
)
def test_a_content_length_of_anything_but_ascii_digits_is_a_400(
    squrl: LocalServer, length: bytes
) -> None:
    reply = send(squrl, post_head(squrl, b"Content-Length: " + length) + BODY)
    assert reply.statuses == [400], reply.received[:200]
    assert reply.error() == "ValidationError"
    assert reply.closed


@pytest.mark.parametrize(
    "lengths",
    [
        (b"Content-Length: 45", b"Content-Length: 46"),
        (b"Content-Length: 45", b"Content-Length: 45"),
        (b"Content-Length: 45, 45",),
        (b"Content-Length: 45, 46",),
    ],
)
def test_more_than_one_content_length_is_a_400(
    squrl: LocalServer, lengths: tuple[bytes, ...]
) -> None:
    reply = send(squrl, post_head(squrl, *lengths) + BODY + SMUGGLED)
    assert reply.statuses == [400], reply.received[:300]
    assert reply.error() == "ValidationError"
    assert reply.closed


def test_content_length_with_transfer_encoding_is_a_400_and_nothing_after_it_is_served(
    squrl: LocalServer,
) -> None:
    # A front that frames by Content-Length would forward the smuggled request as body.
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    request = (
        post_head(squrl, b"Content-Length: %d" % len(chunked), b"Transfer-Encoding: chunked")
        + chunked
        + SMUGGLED
    )
    reply = send(squrl, request)
    assert reply.statuses == [400], reply.received[:300]
    assert reply.error() == "ValidationError"
    assert b"\r\nConnection: close" in reply.head
    assert reply.closed


@pytest.mark.parametrize(
    ("coding", "status"),
    [
        (b"xchunked", 400),  # chunked is not the final coding: the length is unknown
        (b"chunked, gzip", 400),
        (b"chunked, chunked", 400),
        (b"gzip, chunked", 501),  # framed, but a coding the server does not implement
        (b"chunked;ext=1", 501),
    ],
)
def test_only_chunked_is_chunked(squrl: LocalServer, coding: bytes, status: int) -> None:
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    reply = send(squrl, post_head(squrl, b"Transfer-Encoding: " + coding) + chunked + SMUGGLED)
    assert reply.statuses == [status], reply.received[:300]
    assert reply.error() == ("ValidationError" if status == 400 else "InternalServerError")
    assert reply.closed


def test_transfer_encoding_in_http_1_0_is_a_400(squrl: LocalServer) -> None:
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    head = post_head(squrl, b"Transfer-Encoding: chunked").replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    reply = send(squrl, head + chunked)
    assert reply.statuses == [400], reply.received[:300]
    assert reply.closed


@pytest.mark.parametrize("size", [b"-5", b"+2d", b"0x2d", b"2_d", b" 2d", "٣".encode(), b""])
def test_a_chunk_size_of_anything_but_hex_digits_is_a_400(squrl: LocalServer, size: bytes) -> None:
    # A negative size once read the connection to its end, holding all of it.
    request = post_head(squrl, b"Transfer-Encoding: chunked") + size + b"\r\n" + BODY
    reply = send(squrl, request + b"\r\n" + b"x" * 65536)
    assert reply.statuses == [400], reply.received[:300]
    assert reply.error() == "ValidationError"
    assert reply.closed


def test_a_chunked_body_over_the_gateways_cap_is_a_413_before_it_is_read(
    squrl: LocalServer,
) -> None:
    first = b"%x\r\n" % (MAX_BODY // 2) + b"{" * (MAX_BODY // 2) + b"\r\n"
    second = b"%x\r\n" % (MAX_BODY // 2 + 1)  # its data is never sent
    reply = send(squrl, post_head(squrl, b"Transfer-Encoding: chunked") + first + second)
    assert reply.statuses == [413], reply.received[:300]
    assert reply.error() == "PayloadTooLarge"
    assert reply.closed


def test_chunked_bodies_with_extensions_and_trailers_are_read(squrl: LocalServer) -> None:
    body = new_link()
    half = len(body) // 2
    chunks = b"%x;name=value\r\n%s\r\n%X\r\n%s\r\n0\r\nTrailer-Field: x\r\n\r\n" % (
        half,
        body[:half],
        len(body) - half,
        body[half:],
    )
    with connect(squrl) as sock:
        sock.sendall(post_head(squrl, b"Transfer-Encoding: chunked") + chunks + SMUGGLED)
        sock.shutdown(socket.SHUT_WR)
        reply = read_all(sock)
    # Both are answered on the one connection: the create, then the request after it.
    assert reply.statuses == [201, 200], reply.received[:400]
    assert b"https://framing.example/" in reply.received


def test_empty_lines_before_a_request_line_are_ignored(squrl: LocalServer) -> None:
    with connect(squrl) as sock:
        sock.sendall(b"\r\n\r\n" + SMUGGLED + b"\r\n" + SMUGGLED)
        sock.shutdown(socket.SHUT_WR)
        reply = read_all(sock)
    assert reply.statuses == [200, 200], reply.received[:300]


def test_expect_100_continue_is_answered_before_the_body(squrl: LocalServer) -> None:
    body = new_link()
    with connect(squrl) as sock:
        sock.sendall(post_head(squrl, b"Content-Length: %d" % len(body), b"Expect: 100-continue"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        reply = read_all(sock)
    assert reply.statuses == [201], reply.received[:300]


def test_a_request_head_not_complete_in_time_gets_a_408_and_close(squrl: LocalServer) -> None:
    # The server's client timeout is CLIENT_TIMEOUT_SECONDS: waiting that long is the test.
    with connect(squrl) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head is open
        reply = read_all(sock)
    assert reply.statuses == [408], reply.received[:300]
    assert reply.error() == "ValidationError"
    assert b"\r\nConnection: close" in reply.head
    assert reply.closed


def test_a_slowly_trickled_head_times_out_too(squrl: LocalServer) -> None:
    # Bytes that keep coming do not extend the deadline (a slowloris client).
    with connect(squrl) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        sock.settimeout(CLIENT_TIMEOUT_SECONDS / 4)
        received = b""
        for index in range(int(CLIENT_TIMEOUT_SECONDS * 4) + 8):
            try:
                sock.sendall(b"X-%d: 1\r\n" % index)
                received += sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if received:
                break
    assert [status for status, _, _ in responses(received)] == [408], received[:300]


def test_an_idle_keep_alive_connection_is_closed_without_an_answer(squrl: LocalServer) -> None:
    with connect(squrl) as sock:
        sock.sendall(SMUGGLED)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        reply = read_all(sock)  # nothing more is sent: after the client timeout, the close
    assert reply == Exchange(b"", closed=True)

"""The local server's HTTP/1.1 reader and writer (RFC 9112), without a server: byte by byte over a
socket pair. tests/e2e/test_http_e2e.py tries the same rules against a running server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from devserver.http11 import (
    ClientGone,
    HttpError,
    Request,
    RequestReader,
    encode_response,
    parse_head,
)

MAX_BODY = 64


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    with client, server:
        yield client, server


def read(pair: tuple[socket.socket, socket.socket], data: bytes, timeout: float = 5) -> Request:
    client, server = pair
    client.sendall(data)
    reader = RequestReader(server, timeout, MAX_BODY)
    assert reader.wait_for_request()
    return reader.read_request(lambda: client.sendall(b""))


def refused(pair: tuple[socket.socket, socket.socket], data: bytes, timeout: float = 5) -> int:
    with pytest.raises(HttpError) as error:
        read(pair, data, timeout)
    return error.value.status


def head(text: bytes) -> tuple[Request, int | str]:
    return parse_head(text, MAX_BODY)


def test_a_request_head_is_parsed() -> None:
    request, framing = head(
        b"POST /urls?x=1 HTTP/1.1\r\nHost: h\r\nX-Api-Key:  k \r\nContent-Length: 2\r\n\r\n"
    )
    assert (request.method, request.target, request.version) == ("POST", "/urls?x=1", "HTTP/1.1")
    assert request.headers == [("Host", "h"), ("X-Api-Key", "k"), ("Content-Length", "2")]
    assert framing == 2 and request.keep_alive


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),  # whitespace before the colon
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),  # obsolete line folding
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n", 400),  # a bare CR
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET /\xc3\xbc HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n", None),
    ],
)
def test_malformed_heads_are_refused(text: bytes, status: int | None) -> None:
    if status is None:
        head(text)  # parsed; Expect is judged when the body is read
        return
    with pytest.raises(HttpError) as error:
        head(text)
    assert error.value.status == status


def test_http_1_0_is_kept_alive_only_when_asked() -> None:
    assert not head(b"GET / HTTP/1.0\r\n\r\n")[0].keep_alive
    assert head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")[0].keep_alive
    assert not head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: x, close\r\n\r\n")[0].keep_alive


def test_pipelined_requests_are_read_one_after_another(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    client.sendall(
        b"\r\nPOST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        b"\nPOST /b HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n2\r\nde\r\n0\r\n\r\n"
    )
    client.shutdown(socket.SHUT_WR)
    reader = RequestReader(server, 5, MAX_BODY)
    bodies = []
    while reader.wait_for_request():
        request = reader.read_request(lambda: None)
        bodies.append((request.target, request.body))
    assert bodies == [("/a", b"abc"), ("/b", b"de")]


@pytest.mark.parametrize(
    "body",
    [
        b"Content-Length: 65\r\n\r\n",
        b"Content-Length: 000000000000000000000000000000065\r\n\r\n",
        b"Content-Length: 99999999999999999999999999999999999999\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n20\r\n" + b"x" * 32 + b"\r\n21\r\n",
        b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffffff\r\n",
    ],
)
def test_bodies_over_the_cap_are_refused_before_they_are_read(
    pair: tuple[socket.socket, socket.socket], body: bytes
) -> None:
    assert refused(pair, b"POST / HTTP/1.1\r\nHost: h\r\n" + body) == 413


def test_a_chunk_not_followed_by_crlf_is_a_400(pair: tuple[socket.socket, socket.socket]) -> None:
    request = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
    )
    assert refused(pair, request) == 400


def test_a_request_cut_short_is_the_clients_going(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, server = pair
    client.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
    client.shutdown(socket.SHUT_WR)
    reader = RequestReader(server, 5, MAX_BODY)
    assert reader.wait_for_request()
    with pytest.raises(ClientGone):
        reader.read_request(lambda: None)


def test_a_body_not_complete_in_time_is_a_408(pair: tuple[socket.socket, socket.socket]) -> None:
    assert (
        refused(pair, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc", 0.05) == 408
    )


def test_only_100_continue_is_expected(pair: tuple[socket.socket, socket.socket]) -> None:
    request = b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx"
    assert refused(pair, request) == 417


def test_a_silent_connection_is_not_a_request(pair: tuple[socket.socket, socket.socket]) -> None:
    _, server = pair
    assert not RequestReader(server, 0.05, MAX_BODY).wait_for_request()


def test_responses_carry_the_servers_framing() -> None:
    data = encode_response(
        302, {"Location": "https://e.example/", "Content-Length": "99", "Connection": "x"}, b"ab"
    )
    head_, _, body = data.partition(b"\r\n\r\n")
    lines = head_.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 302 Found"
    assert b"Location: https://e.example/" in lines
    assert b"Content-Length: 2" in lines and b"Content-Length: 99" not in lines
    assert not any(line.startswith(b"Connection") for line in lines)
    assert body == b"ab"
    closing = encode_response(400, {}, b"{}", close=True).split(b"\r\n")
    assert b"Connection: close" in closing


def test_a_head_answer_without_a_body_states_no_length() -> None:
    data = encode_response(404, {"Content-Type": "text/html"}, b"", head=True)
    assert b"Content-Length" not in data and data.endswith(b"\r\n\r\n")


def test_a_header_with_a_line_break_is_never_sent() -> None:
    with pytest.raises(ValueError):
        encode_response(302, {"Location": "https://e.example/\r\nSet-Cookie: x=1"}, b"")


def test_the_access_log_never_shows_an_upload_signature(capsys: pytest.CaptureFixture[str]) -> None:
    from devserver.http_server import HttpServer

    server = HttpServer("127.0.0.1", 0, lambda *args: None, max_body=1024)  # type: ignore[arg-type,return-value]
    try:
        server.log_request(
            "127.0.0.1",
            "PUT /_local/uploads/abc?expires=1700000000&signature=deadbeefcafe HTTP/1.1",
            200,
        )
        server.log_request("127.0.0.1", "GET /x?X-Amz-Signature=s3cr3t&a=1 HTTP/1.1", 200)
    finally:
        server._listener.close()
    logged = capsys.readouterr().err
    assert "deadbeefcafe" not in logged and "s3cr3t" not in logged
    assert "/_local/uploads/abc?expires=1700000000&signature=<redacted>" in logged
    assert "a=1" in logged

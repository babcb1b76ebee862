"""Stopping `make dev` (SPEC 6): in-flight requests are answered, idle connections closed, the
click stream flushed, the store stopped, nothing left listening."""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest

from tests.e2e.conftest import free_port, port_is_open, start_server, wait_ready
from tests.e2e.raw_http import read_all, read_response, responses

pytestmark = pytest.mark.e2e

IDLE_CONNECTIONS = 20
EXIT_BOUND_SECONDS = 10  # generous for a shared machine; bench/devserver_start.py measures it


def test_sigterm_answers_the_request_in_flight_and_closes_idle_connections() -> None:
    port = free_port()
    process = start_server(port, "k")
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        banner = b""
        while b"DynamoDB emulator at" not in banner:
            banner += process.stdout.readline()  # type: ignore[union-attr]
        emulator_port = int(re.search(rb"emulator at http://127\.0\.0\.1:(\d+)", banner)[1])  # type: ignore[index]

        idle = []
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
            idle.append(sock)
        body = b'{"original_url": "https://stopping.example/"}'
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(
            b"POST /urls HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\nContent-Length: %d\r\n\r\n"
            % len(body)
            + body[:10]
        )

        process.send_signal(signal.SIGTERM)
        # Once it no longer accepts, the server is stopping: idle connections are closed at
        # once, without an answer, while the request in flight still has its turn.
        while port_is_open(port):
            time.sleep(0.02)
        for sock in idle:
            assert read_all(sock).received == b""
            sock.close()
        slow.sendall(body[10:])
        reply = read_all(slow)
        assert reply.received, "the request in flight got no answer"
        [(status, head, answer)] = responses(reply.received)
        assert status == 201, reply.received[:300]
        assert b"https://stopping.example/" in answer
        assert b"\r\nConnection: close" in head
        assert reply.closed

        process.wait(timeout=EXIT_BOUND_SECONDS)
        assert process.returncode == 0
        assert not port_is_open(port)
        assert not port_is_open(emulator_port)
        output = process.stdout.read()  # type: ignore[union-attr]
        assert b"squrl stopped in " in output
        assert b"Traceback" not in output
    finally:
        if process.poll() is None:
            process.kill()

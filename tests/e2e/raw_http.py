"""Raw HTTP/1.1 over a socket, for tests that must send what no client library would."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass

# How long a test waits for an answer the server owes at once (a server that waits instead, for
# more bytes that never come, fails the test when this runs out).
PATIENCE_SECONDS = 10

STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) ")
LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def responses(received: bytes) -> list[tuple[int, bytes, bytes]]:
    """The responses in a byte stream, framed by their Content-Length: (status, head, body)."""
    found = []
    while received:
        head, separator, rest = received.partition(b"\r\n\r\n")
        status = STATUS_LINE.match(head)
        assert status and separator, received[:200]
        length = LENGTH.search(head)
        size = int(length[1]) if length else 0
        found.append((int(status[1]), head, rest[:size]))
        received = rest[size:]
    return found


@dataclass
class Exchange:
    received: bytes
    closed: bool  # the server closed the connection (rather than waiting for more)

    @property
    def statuses(self) -> list[int]:
        return [status for status, _, _ in responses(self.received)]

    @property
    def head(self) -> bytes:
        return responses(self.received)[0][1]

    def error(self) -> str:
        parsed = json.loads(responses(self.received)[0][2])
        assert set(parsed) == {"error", "message", "details"}, parsed
        assert b"\r\nContent-Type: application/json" in self.head
        return str(parsed["error"])


def read_all(sock: socket.socket) -> Exchange:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return Exchange(received, closed=False)
    except ConnectionResetError:
        pass
    return Exchange(received, closed=True)


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, read whole."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"\r\nContent-Length: (\d+)", head)[1])  # type: ignore[index]
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body

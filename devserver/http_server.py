"""The local server's HTTP/1.1 front: one thread per connection, a clean stop.

Stopping (`stop`): the listener closes first, so nothing new is accepted; idle keep-alive
connections are closed at once; requests in flight (being received, run or answered) have until
the grace period ends, and their answers say `Connection: close`; whatever is still being
received then is cut off with a 503. Nothing here waits on a client for longer than that.
"""

from __future__ import annotations

import contextlib
import re
import select
import selectors
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Literal

from devserver.http11 import ClientGone, HttpError, Request, RequestReader, encode_response
from devserver.lambda_shapes import ProxyResult, error_result

App = Callable[[str, str, dict[str, str], bytes, str], ProxyResult]
State = Literal["idle", "reading", "busy", "closed"]

# After an answer that closes the connection, how long what the client still sends is read and
# dropped, so the answer is not lost to a reset (RFC 9112 9.6).
LINGER_SECONDS = 1.0

# Query parameters that carry a credential (the local upload URLs, docs/imports.md).
_SIGNATURE = re.compile(r"([?&](?:signature|X-Amz-Signature|X-Amz-Security-Token)=)[^&\s]*")


def http_error_result(status: int, message: str) -> ProxyResult:
    """What the HTTP layer refuses, in the spec's error shape, as the API's default gateway
    responses give it: 413 `PayloadTooLarge`, other 4xx `ValidationError`, 5xx
    `InternalServerError`."""
    if status == 413:
        name = "PayloadTooLarge"
    else:
        name = "ValidationError" if status < 500 else "InternalServerError"
    return error_result(status, name, message)


class Connection:
    def __init__(self, server: HttpServer, sock: socket.socket, address: str):
        self.server = server
        self.sock = sock
        self.address = address
        self.reader = RequestReader(sock, server.client_timeout, server.max_body)
        self.state: State = "idle"
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            while self._serve_one():
                pass
        except Exception:  # a bug here must not take the server down with it
            self.server.log(f"connection from {self.address} failed:\n{traceback.format_exc()}")
        finally:
            with self.lock:
                self.state = "closed"
            with contextlib.suppress(OSError):
                self.sock.close()
            self.server.forget(self)

    def _serve_one(self) -> bool:
        """One request and its answer; False when the connection is done."""
        if not self.reader.wait_for_request():
            return False
        with self.lock:
            if self.state != "idle":  # closed by a stop while the request arrived
                return False
            self.state = "reading"
        try:
            request = self.reader.read_request(self._send_continue)
        except HttpError as refused:
            self._close_with(http_error_result(refused.status, refused.message))
            return False
        except ClientGone:
            if self.server.stopping:
                self._close_with(http_error_result(503, "The server is stopping."))
            return False
        with self.lock:
            self.state = "busy"
        result = self._run(request)
        close = not request.keep_alive or self.server.stopping
        options = {
            "head": request.method == "HEAD",
            "close": close,
            "keep_alive_1_0": request.version == "HTTP/1.0",
        }
        try:
            response = encode_response(result.status, result.headers, result.body, **options)
        except ValueError:  # a header that would split the response
            self.server.log(f"unsendable response:\n{traceback.format_exc()}")
            result = error_result(500, "InternalServerError", "The function failed.")
            response = encode_response(result.status, result.headers, result.body, **options)
        self._write(response)
        self.server.log_request(self.address, request.request_line, result.status)
        if close:
            self._linger()
            return False
        with self.lock:
            if self.server.stopping:
                return False
            self.state = "idle"
        return True

    def _run(self, request: Request) -> ProxyResult:
        headers = {k: v for k, v in request.headers if k.lower() != "transfer-encoding"}
        try:
            return self.server.app(
                request.method, request.target, headers, request.body, self.address
            )
        except Exception:  # the gateway's own answer when a function crashes
            self.server.log(f"handler failed:\n{traceback.format_exc()}")
            return error_result(500, "InternalServerError", "The function failed.")

    def _send_continue(self) -> None:
        self._write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _write(self, data: bytes) -> None:
        self.sock.settimeout(self.server.client_timeout)
        with contextlib.suppress(OSError):
            self.sock.sendall(data)

    def _close_with(self, result: ProxyResult) -> None:
        self._write(encode_response(result.status, result.headers, result.body, close=True))
        self.server.log_request(self.address, "-", result.status)
        self._linger()

    def _linger(self) -> None:
        """Half-close, then drop what the client still sends until it closes too."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (remaining := deadline - time.monotonic()) > 0:
                self.sock.settimeout(remaining)
                if not self.sock.recv(65536):
                    break

    def close_if_idle(self) -> None:
        """Closes the connection unless a request is on it: one being read, run or answered, or
        one that has arrived (in the socket or the reader's buffer) but is not read yet."""
        with self.lock:
            if self.state == "idle" and not self.reader.buffer and not self._bytes_waiting():
                self.state = "closed"
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

    def _bytes_waiting(self) -> bool:
        try:
            if not select.select([self.sock], [], [], 0)[0]:
                return False
            # Readable: bytes, or the client's close (then an empty peek).
            return bool(self.sock.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def cut_off(self) -> None:
        """At the end of the grace period: a request still being received gets no more time."""
        with self.lock:
            if self.state == "reading":
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RD)


class HttpServer:
    # A burst of concurrent clients must not be reset before the accept loop takes them.
    BACKLOG = 256

    def __init__(
        self,
        host: str,
        port: int,
        app: App,
        *,
        client_timeout: float = 5.0,
        max_body: int,
        access_log: bool = True,
    ):
        self.app = app
        self.client_timeout = client_timeout
        self.max_body = max_body
        self.access_log = access_log
        self.stopping = False
        self._listener = socket.create_server((host, port), backlog=self.BACKLOG)
        self.server_address: tuple[str, int] = self._listener.getsockname()[:2]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._all_closed = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._accept_loop, name="http-accept", daemon=True)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self.stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader or self.stopping:
                        return
                    self._accept()

    def _accept(self) -> bool:
        """Takes one connection off the listen queue; False when there is none."""
        try:
            sock, address = self._listener.accept()
        except OSError:  # none waiting (non-blocking), or one gone before it was taken
            return False
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = Connection(self, sock, address[0])
        with self._lock:
            self._connections.add(connection)
        threading.Thread(target=connection.run, name=f"http-{address[1]}", daemon=True).start()
        return True

    def forget(self, connection: Connection) -> None:
        with self._lock:
            self._connections.discard(connection)
            self._all_closed.notify_all()

    def stop(self, grace_seconds: float) -> None:
        """Stop accepting, close idle connections, let requests in flight finish (up to
        `grace_seconds`), then cut off what is still being received."""
        deadline = time.monotonic() + grace_seconds
        self.stopping = True
        self._wake_writer.send(b"x")
        if self._thread.ident is not None:
            self._thread.join(timeout=grace_seconds)
        # Connections the kernel completed but the loop had not taken yet: their clients may
        # have sent a request already. Taken now, they are served or closed like the others.
        self._listener.setblocking(False)
        while self._accept():
            pass
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close_if_idle()
        with self._all_closed:
            self._all_closed.wait_for(
                lambda: not self._connections, timeout=max(0.0, deadline - time.monotonic())
            )
            connections = list(self._connections)
        for connection in connections:
            connection.cut_off()
        with self._all_closed:
            # Time for the 503s to go out; a function still running is left to the exit.
            self._all_closed.wait_for(lambda: not self._connections, timeout=0.2)
        self._wake_reader.close()
        self._wake_writer.close()

    def log(self, message: str) -> None:
        sys.stderr.write(f"{time.strftime('%d/%b/%Y %H:%M:%S')} {message}\n")

    def log_request(self, address: str, request_line: str, status: int) -> None:
        if self.access_log:
            # A pre-signed upload URL's signature is a credential: never in a log line.
            shown = _SIGNATURE.sub(r"\1<redacted>", request_line)
            self.log(f'{address} "{shown}" {status}')

"""The embedded DynamoDB: moto's server on loopback, its table built from shared.contracts.table."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from shared.contracts import table

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _serialized(app: WsgiApp) -> WsgiApp:
    """One request at a time, as DynamoDB serializes writes to an item.

    moto's backend is not thread-safe: two concurrent conditional puts could both see the code
    free. A lock around each request makes `attribute_not_exists` as atomic as in DynamoDB.
    """
    lock = threading.Lock()

    def serialized_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serialized_app


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer = make_server(
            host, port, _serialized(app), threaded=True, request_handler=QuietRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> Emulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def create_table(self, name: str, region: str) -> None:
        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=region)
        client.create_table(**table.create_table_request(name))
        client.update_time_to_live(**table.ttl_request(name))

"""The embedded AWS endpoint on loopback: DynamoDB from squrl's own durable store, the rest
(the click dead-letter queue's SQS) from moto.

DynamoDB requests (`X-Amz-Target: DynamoDB_20120810.*`) go to devserver.store, which keeps its
tables in a data directory (SQURL_DATA_DIR, `.squrl/` in the checkout by default) and answers in
DynamoDB's JSON protocol, so the handlers' boto3 clients work unchanged. docs/design.md says why
moto's DynamoDB was replaced.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from devserver.store import DynamoError, Store
from shared.contracts import table

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT / ".squrl"
DYNAMODB_TARGET = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"


def data_dir_from_environment() -> Path:
    """SQURL_DATA_DIR, else `.squrl/` in the checkout (ignored by git)."""
    configured = os.environ.get("SQURL_DATA_DIR")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_DATA_DIR


def fresh_from_environment() -> bool:
    return os.environ.get("SQURL_FRESH", "").strip().lower() in ("1", "true", "yes")


def _serialized(app: WsgiApp) -> WsgiApp:
    """One request at a time for moto, whose backends are not thread-safe."""
    lock = threading.Lock()

    def serialized_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serialized_app


def dynamodb_app(store: Store, other: WsgiApp) -> WsgiApp:
    """DynamoDB's JSON protocol answered by `store`; any other service passed to `other`."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGET):
            return other(environ, start_response)
        operation = target[len(DYNAMODB_TARGET) :]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b"{}"
        status = "200 OK"
        try:
            response = store.call(operation, json.loads(body))
        except DynamoError as error:
            status = "400 Bad Request"
            response = {
                "__type": ERROR_PREFIX + error.code,
                "message": error.message,
                **error.extra,
            }
        except ValueError:
            status = "400 Bad Request"
            response = {"__type": ERROR_PREFIX + "SerializationException", "message": "Bad JSON"}
        except Exception:
            logger.exception("the local store failed on %s", operation)
            status = "500 Internal Server Error"
            response = {
                "__type": ERROR_PREFIX + "InternalServerError",
                "message": "The local store failed; see the server's log",
            }
        payload = json.dumps(response, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        start_response(
            status,
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", uuid.uuid4().hex),
            ],
        )
        return [payload]

    return app


class QuietRequestHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Emulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data_dir: Path | None = None,
        fresh: bool = False,
    ):
        """`data_dir` None keeps DynamoDB in memory only (nothing survives a stop)."""
        self.data_dir = data_dir
        self.store = Store(data_dir / "dynamodb" if data_dir is not None else None, fresh=fresh)
        moto = _serialized(DomainDispatcherApplication(create_backend_app))
        try:
            self._server: BaseWSGIServer = make_server(
                host,
                port,
                dynamodb_app(self.store, moto),
                threaded=True,
                request_handler=QuietRequestHandler,
            )
        except BaseException:
            self.store.close()
            raise
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
        self.store.close()

    def create_table(self, name: str, region: str) -> None:
        """The links table as shared.contracts.table defines it: created, or kept with its items."""
        del region  # one namespace: the local store has no regions
        self.store.ensure_table(
            table.create_table_request(name), table.ttl_request(name)["TimeToLiveSpecification"]
        )

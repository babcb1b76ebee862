"""Lambda's concurrency model, locally: an execution environment runs one invocation at a time.

In AWS each function has its own execution environments, each a process that serves one request
at a time; module state (Powertools' current event, a handler's clients) is never seen by two
requests at once. Locally every function lives in one interpreter, so:

- each function has one environment: its module is imported once (Lambda's init) and a lock lets
  one invocation in at a time; other requests wait their turn, as for a free environment;
- a pool per function is not possible here: a second environment would need its own copy of the
  module and of everything it imports, which one interpreter does not give;
- functions that keep per-invocation state in a shared library take turns with each other too:
  Powertools' resolver keeps the current event in a class attribute shared by every resolver,
  and its Logger and Metrics share their keys and metric set by service name. Only the
  functions in `OWN_STATE`, which import no Powertools, run beside the others.

Requests never observe each other's event, owner or body; throughput is barely lower, since the
embedded DynamoDB serializes its requests anyway (docs/design.md, "Local server").
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any

from devserver.lambda_shapes import Handler, Invoke, LambdaContext

# Functions whose modules import no Powertools (kept so by their cold-start budget): their state
# is their own module's. Any other function takes turns with every function not listed here.
OWN_STATE = frozenset({"redirect", "edge_redirect", "authorizer"})


class Environments:
    """One execution environment per function, made on first use."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None):
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._shared_turn = threading.Lock()
        self._turns = {name: threading.Lock() for name in OWN_STATE}

    def turn(self, function: str) -> threading.Lock:
        """The lock an invocation of `function` holds: its own, or the shared-state one."""
        return self._turns.get(function, self._shared_turn)

    def load(self, *functions: str) -> None:
        """Lambda's init for these functions now, so their first requests are not slow."""
        for function in functions:
            with self.turn(function):
                self._handler(function)

    def invoke(
        self, function: str, event: dict[str, Any], timeout_seconds: float = 10.0
    ) -> dict[str, Any]:
        with self.turn(function):
            # The context's clock starts when the environment takes the request, as in Lambda.
            return self._handler(function)(event, LambdaContext(function, timeout_seconds))

    def invoker(self, function: str, timeout_seconds: float = 10.0) -> Invoke:
        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            return self.invoke(function, event, timeout_seconds)

        return invoke

    def loaded(self, function: str) -> Any | None:
        """`function`'s handler module if its environment has started, else None."""
        if function not in self._handlers:
            return None
        return importlib.import_module(f"functions.{function}.handler")

    def _handler(self, function: str) -> Handler:
        handler = self._handlers.get(function)
        if handler is None:
            module = importlib.import_module(f"functions.{function}.handler")
            handler = self._handlers[function] = module.handler
        return handler

"""The errors the store answers with, named as DynamoDB names them on the wire."""

from __future__ import annotations

from typing import Any


class DynamoError(Exception):
    """A client error: HTTP 400 with `__type` set to the DynamoDB error code."""

    status = 400

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


def not_found(what: str = "") -> DynamoError:
    suffix = f": {what}" if what else ""
    return DynamoError("ResourceNotFoundException", f"Requested resource not found{suffix}")


class ConditionFailed(Exception):
    """A condition expression evaluated false (ConditionalCheckFailedException on its own,
    a `ConditionalCheckFailed` cancellation reason inside a transaction)."""

    def __init__(self, item: dict[str, Any] | None = None):
        super().__init__("The conditional request failed")
        self.item = item


class StoreError(Exception):
    """The data directory cannot be used: in use by another server, or damaged."""

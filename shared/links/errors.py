"""Error types, one per row of docs/api.md section 2's error table and section 7's additions.

Every error renders as `{"error": code, "message": sentence, "details": {...} | null}` with the
status the table gives. Handlers raise these; one place per function turns them into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SqurlError(Exception):
    code: ClassVar[str] = "InternalServerError"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side."

    def __init__(self, message: str | None = None, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


class InvalidUrl(SqurlError):
    code = "InvalidUrl"
    status = 400
    default_message = "The URL is not valid."

    def __init__(self, reason: str, message: str):
        super().__init__(message, {"reason": reason, "field": "original_url"})
        self.reason = reason


class ValidationError(SqurlError):
    code = "ValidationError"
    status = 400
    default_message = "The request is not valid."

    def __init__(self, message: str, *, field: str | None = None, reason: str = "invalid"):
        details: dict[str, Any] = {"reason": reason}
        if field is not None:
            details["field"] = field
        super().__init__(message, details)
        self.reason = reason


class Forbidden(SqurlError):
    code = "Forbidden"
    status = 403
    default_message = "A valid API key is required (header x-api-key)."


class NotFound(SqurlError):
    code = "NotFound"
    status = 404
    default_message = "No such link."


class ConflictError(SqurlError):
    code = "ConflictError"
    status = 409
    default_message = "That custom code is taken."


class IdempotencyConflict(SqurlError):
    code = "IdempotencyConflict"
    status = 409
    default_message = (
        "A request with this Idempotency-Key is still being processed; retry after it finishes."
    )


class Gone(SqurlError):
    code = "Gone"
    status = 410
    default_message = "This link has expired or was disabled."


class PreconditionFailed(SqurlError):
    code = "PreconditionFailed"
    status = 412
    default_message = "The link has changed since the version named in If-Match; nothing changed."


class PayloadTooLarge(SqurlError):
    code = "PayloadTooLarge"
    status = 413
    default_message = "The request body is larger than 8 KiB."


class IdempotencyKeyReused(SqurlError):
    code = "IdempotencyKeyReused"
    status = 422
    default_message = "This Idempotency-Key was already used with another request body."


class RateLimitExceeded(SqurlError):
    code = "RateLimitExceeded"
    status = 429
    default_message = "Too many requests; retry after the time in Retry-After."

    def __init__(self, retry_after_seconds: int = 1, message: str | None = None):
        super().__init__(message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class InternalServerError(SqurlError):
    pass

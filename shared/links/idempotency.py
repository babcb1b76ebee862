"""`Idempotency-Key` on `POST /urls` (docs/api.md section 7), with Powertools' idempotency utility.

Records live in the links table (DynamoDBPersistenceLayer): the key is `idempotency#` and a
SHA-256 of the owner and the header value, so the same key of two owners never meets, and `#`
keeps every record out of the short-code namespace. `expires_at`, the table's TTL attribute,
ends a record 24 hours after the first answer; its status and answer use attribute names a link
never has. The body is the payload Powertools validates: the same key with another body is 422.

A record is written `INPROGRESS` before the create runs and `COMPLETED` with the answer after,
so a duplicate arriving meanwhile is 409 and one arriving later gets the stored answer, status
included. A create that fails (an error answer) leaves no record: it did nothing, and the retry
runs again. A function that dies mid-create leaves an in-progress record that expires with the
invocation's remaining time, after which the key may be used again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from shared.contracts.table import (
    IDEMPOTENCY_IN_PROGRESS_EXPIRY,
    IDEMPOTENCY_PAYLOAD_HASH,
    IDEMPOTENCY_PREFIX,
    IDEMPOTENCY_RESPONSE,
    IDEMPOTENCY_STATUS,
    PARTITION_KEY,
    TTL_ATTRIBUTE,
)
from shared.links.errors import IdempotencyConflict, IdempotencyKeyReused, ValidationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
_REPLAYED = "replayed"


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The Idempotency-Key header (any letter case): 1-255 printable ASCII characters."""
    value = next(
        (v for k, v in (headers or {}).items() if k.lower() == HEADER.lower()),
        None,
    )
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in value):
        raise ValidationError(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters.",
            field=HEADER,
            reason="format",
        )
    return value


@lru_cache(maxsize=4)
def _persistence(client: Any, table_name: str) -> DynamoDBPersistenceLayer:
    # One per client: each construction registers a user-agent hook on the client.
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=PARTITION_KEY,
        expiry_attr=TTL_ATTRIBUTE,
        in_progress_expiry_attr=IDEMPOTENCY_IN_PROGRESS_EXPIRY,
        status_attr=IDEMPOTENCY_STATUS,
        data_attr=IDEMPOTENCY_RESPONSE,
        validation_key_attr=IDEMPOTENCY_PAYLOAD_HASH,
        boto3_client=client,
    )


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, _REPLAYED: True}


def first_answer(
    client: Any,
    table_name: str,
    *,
    owner_id: str,
    key: str,
    body: dict[str, Any],
    create: Callable[[], tuple[int, dict[str, Any]]],
    lambda_context: Any,
) -> tuple[int, dict[str, Any], bool]:
    """Run `create` once per owner + key for 24 hours: (status, link, replayed).

    Raises IdempotencyConflict (409) while the first request with the key is still running, and
    IdempotencyKeyReused (422) when the key came with another body.
    """
    config = IdempotencyConfig(
        event_key_jmespath="[owner, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=LIFETIME_SECONDS,
        hash_function="sha256",
        response_hook=_mark_replayed,
    )
    # In-progress records expire with the invocation, so a crash does not hold the key a day.
    config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=_persistence(client, table_name),
        config=config,
        key_prefix=IDEMPOTENCY_PREFIX,
    )
    def run_once(request: dict[str, Any]) -> dict[str, Any]:
        status, link = create()
        return {"status": status, "link": link}

    try:
        answer = run_once(request={"owner": owner_id, "key": key, "body": body})
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError):
        raise IdempotencyConflict() from None
    except IdempotencyValidationError:
        raise IdempotencyKeyReused() from None
    return int(answer["status"]), answer["link"], bool(answer.get(_REPLAYED))

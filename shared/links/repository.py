"""Data access for links. Every function takes its DynamoDB client as a parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.contracts.link_state import ACTIVE
from shared.contracts.table import DEDUP_INDEX, PARTITION_KEY
from shared.links.errors import ConflictError, InternalServerError

MAX_CREATE_ATTEMPTS = 5

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    values = {k: _deserializer.deserialize(v) for k, v in item.items()}
    # Numbers come back as Decimal; every number squrl stores is an integer.
    return {k: int(v) if type(v).__name__ == "Decimal" else v for k, v in values.items()}


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_new(client: Any, table_name: str, values: dict[str, Any]) -> bool:
    """Write a link only if its code is free. False when the code is taken."""
    try:
        client.put_item(
            TableName=table_name,
            Item=to_item(values),
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
        )
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


def create_link(
    client: Any,
    table_name: str,
    values: dict[str, Any],
    *,
    custom_code: str | None,
    new_code: Callable[[], str],
) -> dict[str, Any]:
    """Store a link under its custom code (409 if taken) or a fresh code (retried on collision)."""
    if custom_code is not None:
        item = {**values, PARTITION_KEY: custom_code, "custom_code": True}
        if not put_new(client, table_name, item):
            raise ConflictError(f"The custom code {custom_code!r} is taken.", {"reason": "taken"})
        return item
    for _ in range(MAX_CREATE_ATTEMPTS):
        item = {**values, PARTITION_KEY: new_code(), "custom_code": False}
        if put_new(client, table_name, item):
            return item
    raise InternalServerError("Could not find a free short code; try again.")


def find_reusable(
    client: Any,
    table_name: str,
    *,
    owner_id: str,
    original_url: str,
    redirect_type: int,
    min_expires_at: int | None,
    now: float,
) -> str | None:
    """The code of the owner's active link to `original_url` that satisfies the request, if any.

    Newest first. `min_expires_at` None means the request wants a link that never expires.
    """
    paginator = client.get_paginator("query")
    pages = paginator.paginate(
        TableName=table_name,
        IndexName=DEDUP_INDEX,
        KeyConditionExpression="#url = :url",
        FilterExpression="#owner = :owner AND #status = :active AND #rt = :rt",
        ExpressionAttributeNames={
            "#url": "original_url",
            "#owner": "owner_id",
            "#status": "status",
            "#rt": "redirect_type",
        },
        ExpressionAttributeValues={
            ":url": {"S": original_url},
            ":owner": {"S": owner_id},
            ":active": {"S": ACTIVE},
            ":rt": {"N": str(redirect_type)},
        },
        ScanIndexForward=False,
    )
    for page in pages:
        for item in page.get("Items", []):
            expires = item.get("expires_at")
            expires_at = int(expires["N"]) if expires else None
            if expires_at is not None and expires_at <= now:
                continue
            if min_expires_at is None and expires_at is not None:
                continue
            if (
                min_expires_at is not None
                and expires_at is not None
                and expires_at < min_expires_at
            ):
                continue
            return str(item[PARTITION_KEY]["S"])
    return None


def get_link(client: Any, table_name: str, code: str, *, consistent: bool) -> dict[str, Any] | None:
    response = client.get_item(
        TableName=table_name, Key={PARTITION_KEY: {"S": code}}, ConsistentRead=consistent
    )
    item = response.get("Item")
    return from_item(item) if item else None

"""Data access for links. Every function takes its DynamoDB client as a parameter.

Every write that changes a link also writes its history entry, in one TransactWriteItems, and
is conditional on what was read: the code is free (create), or the owner and version are
unchanged (update, delete).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.contracts.link_state import ACTIVE
from shared.contracts.table import (
    DEDUP_INDEX,
    OWNER_INDEX,
    OWNER_INDEX_PARTITION_KEY,
    OWNER_INDEX_SORT_KEY,
    PARTITION_KEY,
    VERSION,
    history_key,
    stats_key,
)
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


def _cancellation_reasons(error: ClientError) -> list[str | None] | None:
    """The per-action reasons of a cancelled transaction, or None for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons") or []  # type: ignore[typeddict-item]
    return [reason.get("Code") for reason in reasons]


def _transact(client: Any, actions: list[dict[str, Any]]) -> list[str | None] | None:
    """Run one TransactWriteItems. None when it committed, else why each action was refused
    (`ConditionalCheckFailed`, `TransactionConflict`, ... or None for an action that was not)."""
    try:
        client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        reasons = _cancellation_reasons(error)
        if reasons is None:
            raise
        return reasons or ["Unknown"]
    return None


def _put(table_name: str, values: dict[str, Any], condition: dict[str, Any] | None = None):
    action: dict[str, Any] = {"TableName": table_name, "Item": to_item(values)}
    if condition:
        action.update(condition)
    return {"Put": action}


# A link (or its tombstone) may be written only if the code is free.
_CODE_IS_FREE = {
    "ConditionExpression": "attribute_not_exists(#pk)",
    "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
}


class AlreadyRecorded(Exception):
    """The create's marker item already exists: an earlier attempt made this link (imports)."""


def put_new(
    client: Any,
    table_name: str,
    values: dict[str, Any],
    first_entry: dict[str, Any],
    marker: dict[str, Any] | None = None,
) -> str:
    """Write a link and its first history entry in one transaction, only if its code is free.

    `created`, `taken` (the code holds a link or a tombstone), `busy` (another transaction on
    the same code was in flight: worth one more try) or `recorded`: the optional `marker` item,
    written only if absent, already exists (an import row made its link before).
    """
    actions = [_put(table_name, values, _CODE_IS_FREE), _put(table_name, first_entry)]
    if marker is not None:
        actions.append(_put(table_name, marker, _CODE_IS_FREE))
    reasons = _transact(client, actions)
    if reasons is None:
        return "created"
    if marker is not None and reasons[2:3] == ["ConditionalCheckFailed"]:
        return "recorded"
    if reasons[0] == "ConditionalCheckFailed":
        return "taken"
    if "TransactionConflict" in reasons:
        return "busy"
    raise InternalServerError(f"The create transaction was cancelled: {reasons}.")


def put_new_batch(
    client: Any,
    table_name: str,
    rows: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
) -> list[str | None] | None:
    """Write several (link, first history entry, marker) triples in one transaction, each link
    and marker only if its key is free. None when it committed; else, per triple, the first
    reason one of its actions was refused (`ConditionalCheckFailed`, `TransactionConflict`...),
    or None for a triple whose actions were not."""
    actions = []
    for link, entry, marker in rows:
        actions += [
            _put(table_name, link, _CODE_IS_FREE),
            _put(table_name, entry),
            _put(table_name, marker, _CODE_IS_FREE),
        ]
    reasons = _transact(client, actions)
    if reasons is None:
        return None
    if len(reasons) != len(actions):
        return ["Unknown"] * len(rows)
    per_row = []
    for index in range(len(rows)):
        refused = [r for r in reasons[3 * index : 3 * index + 3] if r not in (None, "None")]
        per_row.append(refused[0] if refused else None)
    return per_row


def create_link(
    client: Any,
    table_name: str,
    values: dict[str, Any],
    *,
    custom_code: str | None,
    new_code: Callable[[], str],
    first_entry: Callable[[str], dict[str, Any]],
    marker: Callable[[str], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Store a link under its custom code (409 if taken) or a fresh code (retried on collision).

    The conditional write refuses any code that holds an item: a live link or the tombstone of a
    deleted one, so a deleted code is never assigned again, asked for or generated. With
    `marker`, its item is written in the same transaction, only if absent; AlreadyRecorded when
    it exists.
    """

    def put(item: dict[str, Any], code: str) -> str:
        outcome = put_new(
            client,
            table_name,
            item,
            first_entry(code),
            marker(code) if marker is not None else None,
        )
        if outcome == "recorded":
            raise AlreadyRecorded(code)
        return outcome

    if custom_code is not None:
        item = {**values, PARTITION_KEY: custom_code, "custom_code": True}
        for _ in range(MAX_CREATE_ATTEMPTS):
            outcome = put(item, custom_code)
            if outcome == "created":
                return item
            if outcome == "taken":
                break
        raise ConflictError(f"The custom code {custom_code!r} is taken.", {"reason": "taken"})
    for _ in range(MAX_CREATE_ATTEMPTS):
        code = new_code()
        item = {**values, PARTITION_KEY: code, "custom_code": False}
        if put(item, code) == "created":
            return item
    raise InternalServerError("Could not find a free short code; try again.")


def _version_condition(
    owner_id: str, version: int, *, stored_version: bool
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The link still belongs to `owner_id` (a tombstone has no owner) and is still at the
    version that was read (a link stored before versions existed has none: version 1)."""
    names = {"#owner": OWNER_INDEX_PARTITION_KEY, "#version": VERSION}
    values: dict[str, Any] = {":owner": {"S": owner_id}}
    if stored_version:
        values[":read"] = {"N": str(version)}
        return "#owner = :owner AND #version = :read", names, values
    return "#owner = :owner AND attribute_not_exists(#version)", names, values


def update_link(
    client: Any,
    table_name: str,
    code: str,
    *,
    owner_id: str,
    read_version: int,
    stored_version: bool,
    assign: dict[str, Any],
    remove: tuple[str, ...],
    entry: dict[str, Any],
) -> bool:
    """Change a link and record the change, in one transaction, if it is still the version read.

    An UpdateItem, not a Put: the click consumer adds to the link's counters at any time, and
    those increments must survive an edit. False when the link moved on (or was deleted).
    """
    condition, names, values = _version_condition(
        owner_id, read_version, stored_version=stored_version
    )
    sets = []
    for index, (name, value) in enumerate(sorted(assign.items())):
        names[f"#s{index}"] = name
        values[f":s{index}"] = _serializer.serialize(value)
        sets.append(f"#s{index} = :s{index}")
    removes = []
    for index, name in enumerate(sorted(remove)):
        names[f"#r{index}"] = name
        removes.append(f"#r{index}")
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    action = {
        "Update": {
            "TableName": table_name,
            "Key": {PARTITION_KEY: {"S": code}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }
    return _committed(_transact(client, [action, _put(table_name, entry)]))


def delete_link(
    client: Any,
    table_name: str,
    code: str,
    *,
    owner_id: str,
    read_version: int,
    stored_version: bool,
    tombstone: dict[str, Any],
    entry: dict[str, Any],
) -> bool:
    """Replace a link by its tombstone, delete its click statistics and record the deletion, in
    one transaction, if it is still the version read. False when it moved on."""
    condition, names, values = _version_condition(
        owner_id, read_version, stored_version=stored_version
    )
    replace = _put(
        table_name,
        tombstone,
        {
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        },
    )
    drop_stats = {
        "Delete": {"TableName": table_name, "Key": {PARTITION_KEY: {"S": stats_key(code)}}}
    }
    return _committed(_transact(client, [replace, drop_stats, _put(table_name, entry)]))


def _committed(reasons: list[str | None] | None) -> bool:
    if reasons is None:
        return True
    if reasons[0] in ("ConditionalCheckFailed", "TransactionConflict"):
        return False
    raise InternalServerError(f"The change transaction was cancelled: {reasons}.")


def reusable_codes(
    client: Any,
    table_name: str,
    *,
    owner_id: str,
    original_url: str,
    redirect_type: int,
    min_expires_at: int | None,
    now: float,
) -> Iterator[str]:
    """Codes of the owner's active links to `original_url` that satisfy the request, newest
    first, as the (eventually consistent) dedup index sees them: confirm each on its item.

    `min_expires_at` None means the request wants a link that never expires.
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
            yield str(item[PARTITION_KEY]["S"])


def get_link(client: Any, table_name: str, code: str, *, consistent: bool) -> dict[str, Any] | None:
    response = client.get_item(
        TableName=table_name, Key={PARTITION_KEY: {"S": code}}, ConsistentRead=consistent
    )
    item = response.get("Item")
    return from_item(item) if item else None


def owner_page(
    client: Any,
    table_name: str,
    owner_id: str,
    *,
    limit: int,
    start: dict[str, Any] | None,
    filters: tuple[str, dict[str, str], dict[str, Any]] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, int]:
    """One Query of the owner index, newest first: (items, the key to go on from or None when
    the index is exhausted, how many items DynamoDB read). `Limit` bounds the items read, before
    any filter: without a filter, every item read is returned."""
    names = {"#owner": OWNER_INDEX_PARTITION_KEY}
    values: dict[str, Any] = {":owner": {"S": owner_id}}
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": OWNER_INDEX,
        "KeyConditionExpression": "#owner = :owner",
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start is not None:
        request["ExclusiveStartKey"] = to_item(start)
    if filters is not None:
        expression, filter_names, filter_values = filters
        request["FilterExpression"] = expression
        names.update(filter_names)
        values.update(filter_values)
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = values
    response = client.query(**request)
    last = response.get("LastEvaluatedKey")
    return (
        [from_item(item) for item in response.get("Items", [])],
        from_item(last) if last else None,
        int(response.get("ScannedCount", 0)),
    )


def index_position(item: dict[str, Any]) -> dict[str, Any]:
    """The owner-index key of a listed item: where a page that ends at it goes on from."""
    return {
        OWNER_INDEX_PARTITION_KEY: item[OWNER_INDEX_PARTITION_KEY],
        OWNER_INDEX_SORT_KEY: item[OWNER_INDEX_SORT_KEY],
        PARTITION_KEY: item[PARTITION_KEY],
    }


MAX_BATCH_GET = 100
MAX_BATCH_ATTEMPTS = 5
# Unprocessed keys mean the table is throttling: wait a little, longer each time.
BATCH_BACKOFF_SECONDS = 0.05


def history_entries(client: Any, table_name: str, code: str, versions: int) -> list[dict[str, Any]]:
    """The stored history entries of versions 1..`versions`, oldest first (BatchGetItem, 100
    keys a call, unprocessed keys asked again). A version with no entry (a link stored before
    history existed) is left out."""
    found: dict[int, dict[str, Any]] = {}
    for first in range(1, versions + 1, MAX_BATCH_GET):
        batch = range(first, min(first + MAX_BATCH_GET, versions + 1))
        keys: list[dict[str, Any]] = [{PARTITION_KEY: {"S": history_key(code, n)}} for n in batch]
        for attempt in range(MAX_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(BATCH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = client.batch_get_item(
                RequestItems={table_name: {"Keys": keys, "ConsistentRead": True}}
            )
            for item in response.get("Responses", {}).get(table_name, []):
                values = from_item(item)
                found[int(values[PARTITION_KEY].rsplit("#", 1)[1])] = values
            keys = response.get("UnprocessedKeys", {}).get(table_name, {}).get("Keys", [])
            if not keys:
                break
        else:
            raise InternalServerError("The history could not be read in full; try again.")
    return [found[n] for n in sorted(found)]

"""The store: DynamoDB's operations over in-memory tables, made durable by a write-ahead log.

Writes are serialized by one lock: a write reads the items it touches, checks its conditions,
builds the new items, appends one log record and fsyncs it, and only then installs the new items
where readers see them. So a reader never sees a write that a crash could still undo, and a
transaction's items change together as far as any later write can tell. Reads take no lock:
they look items up in dicts whose values are replaced, never changed.

Nothing is kept per write besides the items themselves: no stream records, no undo copies. The
log is replaced by a snapshot once it passes `compact_bytes` and the size of the last snapshot,
so start-up replays at most that, and a snapshot (which costs the size of the table) is paid for
by at least as many bytes of writes: its cost per write does not grow with the table.
"""

from __future__ import annotations

import copy
import functools
import logging
import operator
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devserver.store import expressions as ex
from devserver.store import values as v
from devserver.store.errors import ConditionFailed, DynamoError, StoreError, not_found, validation
from devserver.store.log import (
    DataDirectory,
    WriteAheadLog,
    read_segment,
    read_snapshot,
    snapshot_name,
    wal_name,
    write_snapshot,
)
from devserver.store.runs import Run
from devserver.store.tables import Index, Key, Table
from devserver.store.values import Item

logger = logging.getLogger(__name__)

DEFAULT_COMPACT_BYTES = 16 * 1024 * 1024
MAX_PAGE_BYTES = 1024 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
_LEGACY = (
    "Expected",
    "AttributesToGet",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributeUpdates",
    "ConditionalOperator",
)
_TABLE_FIELDS = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
    "SSESpecification",
    "DeletionProtectionEnabled",
)


@dataclass
class _Write:
    """One item's new state within a commit (None: deleted)."""

    table: Table
    key: Key
    key_item: Item
    item: Item | None


class Store:
    def __init__(
        self,
        directory: Path | None = None,
        *,
        fresh: bool = False,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
    ):
        """An empty store in memory when `directory` is None; else the one kept there."""
        self.tables: dict[str, Table] = {}
        self.compact_bytes = compact_bytes
        self._lock = threading.RLock()
        self._directory = DataDirectory(directory, fresh=fresh) if directory else None
        self._log: WriteAheadLog | None = None
        self._compaction: threading.Thread | None = None
        self._failed: str | None = None
        self.replayed_records = 0
        self._snapshot_bytes = 0  # the size of the newest snapshot
        self.torn_bytes = 0
        if self._directory is not None:
            try:
                self._recover(self._directory)
            except BaseException:
                self._directory.release()
                raise

    # --- start, stop, compaction ------------------------------------------------------------

    def _recover(self, directory: DataDirectory) -> None:
        start = 1
        snapshots = directory.snapshots()
        if snapshots:
            start = snapshots[-1]
            self._snapshot_bytes = (directory.path / snapshot_name(start)).stat().st_size
            header, rows = read_snapshot(directory.path / snapshot_name(start))
            for definition in header["tables"]:
                self.tables[definition["TableName"]] = Table(definition)
            by_table: dict[str, list[Item]] = {name: [] for name in self.tables}
            for name, item in rows:
                by_table[name].append(item)
            for name, items in by_table.items():
                self.tables[name].load(items)
        segments = [number for number in directory.segments() if number >= start]
        if segments and segments != list(range(start, start + len(segments))):
            raise StoreError(
                f"{directory.path}: log segments {segments} do not follow snapshot {start}; "
                "the directory is damaged (start with --fresh to begin empty)"
            )
        truncate_to = None
        for position, number in enumerate(segments):
            segment = read_segment(directory.path / wal_name(number), number)
            last = position == len(segments) - 1
            if segment.torn and not last:
                raise StoreError(
                    f"{directory.path / wal_name(number)} is damaged before its end; "
                    "start with --fresh to begin empty"
                )
            for record in segment.records:
                self._apply(record)
            self.replayed_records += len(segment.records)
            if segment.torn:
                size = (directory.path / wal_name(number)).stat().st_size
                self.torn_bytes = size - segment.good_bytes
                truncate_to = segment.good_bytes
                logger.warning(
                    "ignored %d bytes at the end of %s: a write cut short by a crash, never "
                    "acknowledged",
                    self.torn_bytes,
                    wal_name(number),
                )
        current = segments[-1] if segments else start
        self._log = WriteAheadLog(directory.path, current, truncate_to=truncate_to)

    def _apply(self, record: dict[str, Any]) -> None:
        """A committed record, replayed at start (the live path applies the same effects)."""
        if "w" in record:
            for name, key_item, item in record["w"]:
                table = self.tables[name]
                table.install(table.key_of(key_item), item)
        elif "create" in record:
            self.tables[record["create"]["TableName"]] = Table(record["create"])
        elif "define" in record:
            self._redefine(record["define"])
        elif "drop" in record:
            self.tables.pop(record["drop"], None)
        elif "ttl" in record:
            self.tables[record["ttl"]].definition["_TimeToLive"] = record["spec"]

    def _redefine(self, definition: dict[str, Any]) -> None:
        old = self.tables[definition["TableName"]]
        table = Table(definition)
        table.items = old.items
        table.rebuild_indexes()
        self.tables[table.name] = table

    def _commit(self, record: dict[str, Any]) -> None:
        """Log `record` durably, then apply it. Called with the lock held."""
        if self._failed is not None:
            raise DynamoError("InternalServerError", self._failed)
        if self._log is not None:
            try:
                self._log.append(record)
            except OSError as error:
                # The record may or may not be on disk: no further write may build on it.
                self._failed = f"the local store could not write its log: {error}"
                raise DynamoError("InternalServerError", self._failed) from error
        self._apply(record)
        if self._log is not None and self._log.size >= max(
            self.compact_bytes, self._snapshot_bytes
        ):
            self._compact(background=True)

    def _compact(self, *, background: bool) -> None:
        """Start a new log segment and write a snapshot of everything before it."""
        assert self._directory is not None and self._log is not None
        if self._compaction is not None and self._compaction.is_alive():
            return
        directory = self._directory
        number = self._log.number + 1
        self._log.close()
        self._log = WriteAheadLog(directory.path, number)
        header = {"tables": [copy.deepcopy(t.definition) for t in self.tables.values()]}
        rows = [(t.name, list(t.items.values())) for t in self.tables.values()]

        def write() -> None:
            try:
                lines = ([name, item] for name, items in rows for item in items)
                write_snapshot(directory.path, number, header, lines)
                self._snapshot_bytes = (directory.path / snapshot_name(number)).stat().st_size
                directory.remove_before(number)
            except OSError:
                # The log still holds everything; the next compaction tries again.
                logger.exception("could not write snapshot %d", number)

        if background:
            self._compaction = threading.Thread(target=write, name="store-snapshot", daemon=True)
            self._compaction.start()
        else:
            write()

    def close(self) -> None:
        with self._lock:
            if self._compaction is not None:
                self._compaction.join()
            if self._log is not None and self._failed is None and self._log.size > 1024 * 1024:
                # A long log would be replayed at the next start: a snapshot now is cheaper.
                self._compact(background=False)
            if self._log is not None:
                self._log.close()
                self._log = None
            if self._directory is not None:
                self._directory.release()
                self._directory = None

    def retained(self) -> dict[str, int]:
        """What the store holds, for tests: items, sorted index entries, log bytes unsnapshotted."""
        return {
            "items": sum(len(t.items) for t in self.tables.values()),
            "partition_entries": sum(t.base.count() for t in self.tables.values()),
            "index_entries": sum(
                index.parts.count() for t in self.tables.values() for index in t.indexes.values()
            ),
            "log_bytes": self._log.size if self._log is not None else 0,
        }

    # --- dispatch ----------------------------------------------------------------------------

    def call(self, operation: str, request: Any) -> dict[str, Any]:
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise DynamoError(
                "UnknownOperationException", f"The local store does not support {operation}"
            )
        if not isinstance(request, dict):
            raise DynamoError("SerializationException", "The request body must be a JSON object")
        for name in _LEGACY:
            if name in request:
                raise validation(
                    f"The local store does not support the legacy parameter {name}; use expressions"
                )
        return handler(self, request)

    def _table(self, name: Any) -> Table:
        table = self.tables.get(name) if isinstance(name, str) else None
        if table is None:
            raise not_found()
        return table

    # --- tables ------------------------------------------------------------------------------

    def create_table(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("TableName")
        if not isinstance(name, str) or not 3 <= len(name) <= 255:
            raise validation("TableName must be at least 3 characters long and at most 255")
        definition = {k: copy.deepcopy(request[k]) for k in _TABLE_FIELDS if k in request}
        with self._lock:
            if name in self.tables:
                raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
            checked = Table(definition)  # refuses a bad definition before it is logged
            self._commit({"create": checked.definition})
            return {"TableDescription": self.tables[name].describe()}

    def ensure_table(self, request: dict[str, Any], ttl: dict[str, Any] | None = None) -> None:
        """The table as `request` defines it: created, or kept with its items and its indexes
        rebuilt when only the indexes changed (a new index is filled from the items)."""
        definition = {k: copy.deepcopy(request[k]) for k in _TABLE_FIELDS if k in request}
        with self._lock:
            existing = self.tables.get(request["TableName"])
            if existing is None:
                self.create_table(request)
            else:
                wanted = Table(copy.deepcopy(definition))
                if wanted.schema != existing.schema:
                    raise StoreError(
                        f"table {existing.name} in the data directory has the key schema "
                        f"{existing.schema}, not {wanted.schema}; start with --fresh to begin "
                        "empty"
                    )
                current = {k: existing.definition.get(k) for k in _TABLE_FIELDS}
                if current != {k: definition.get(k) for k in _TABLE_FIELDS}:
                    for kept in ("_CreatedAt", "_TableId", "_TimeToLive"):
                        if kept in existing.definition:
                            definition[kept] = existing.definition[kept]
                    self._commit({"define": definition})
            if ttl is not None:
                table = self.tables[request["TableName"]]
                if table.definition.get("_TimeToLive") != ttl:
                    self._commit({"ttl": table.name, "spec": dict(ttl)})

    def delete_table(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            table = self._table(request.get("TableName"))
            if table.definition.get("DeletionProtectionEnabled"):
                raise validation(
                    f"Resource cannot be deleted as it is currently protected against deletion. "
                    f"Disable deletion protection first for table {table.name}"
                )
            description = table.describe()
            self._commit({"drop": table.name})
        description["TableStatus"] = "DELETING"
        return {"TableDescription": description}

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"Table": self._table(request.get("TableName")).describe()}

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.tables)
        start = request.get("ExclusiveStartTableName")
        if start:
            names = [name for name in names if name > start]
        limit = int(request.get("Limit") or 100)
        response: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            response["LastEvaluatedTableName"] = names[limit - 1]
        return response

    def update_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        spec = request.get("TimeToLiveSpecification") or {}
        if not isinstance(spec.get("Enabled"), bool) or not spec.get("AttributeName"):
            raise validation("TimeToLiveSpecification needs Enabled and AttributeName")
        with self._lock:
            table = self._table(request.get("TableName"))
            current = table.definition.get("_TimeToLive") or {"Enabled": False}
            if current.get("Enabled") == spec["Enabled"]:
                raise validation(
                    f"TimeToLive is already {'enabled' if spec['Enabled'] else 'disabled'}"
                )
            self._commit(
                {
                    "ttl": table.name,
                    "spec": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]},
                }
            )
        return {"TimeToLiveSpecification": spec}

    def describe_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        spec = table.definition.get("_TimeToLive")
        if not spec or not spec.get("Enabled"):
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {
                "TimeToLiveStatus": "ENABLED",
                "AttributeName": spec["AttributeName"],
            }
        }

    # --- single items ------------------------------------------------------------------------

    def get_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        key = v.normalized_item(request.get("Key"), "Key")
        table.check_key_only(key)
        storage_key = table.key_of(key)
        projection = request.get("ProjectionExpression")
        placeholders = ex.Placeholders(request, projection is not None)
        paths = ex.parse_projection(projection, placeholders) if projection is not None else None
        placeholders.check_all_used()
        item = table.get(storage_key)
        if item is None:
            return {}
        return {"Item": ex.project(item, paths) if paths is not None else item}

    def put_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        item = v.normalized_item(request.get("Item"))
        table.check_item(item)
        condition = _condition(request)
        returns = _return_values(request, ("NONE", "ALL_OLD"))
        with self._lock:
            key = table.key_of(item, "item")
            current = table.get(key)
            _check(condition, current, request)
            self._commit({"w": [[table.name, table.key_item(item), item]]})
        return {"Attributes": current} if returns == "ALL_OLD" and current else {}

    def delete_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        key_item = v.normalized_item(request.get("Key"), "Key")
        table.check_key_only(key_item)
        key = table.key_of(key_item)
        condition = _condition(request)
        returns = _return_values(request, ("NONE", "ALL_OLD"))
        with self._lock:
            current = table.get(key)
            _check(condition, current, request)
            if current is not None:
                self._commit({"w": [[table.name, key_item, None]]})
        return {"Attributes": current} if returns == "ALL_OLD" and current else {}

    def update_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        key_item = v.normalized_item(request.get("Key"), "Key")
        table.check_key_only(key_item)
        key = table.key_of(key_item)
        update, condition = _update_and_condition(table, request)
        returns = _return_values(
            request, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
        )
        with self._lock:
            current = table.get(key)
            _check(condition, current, request)
            new = ex.apply_update(update, current, key_item) if update else (current or key_item)
            table.check_item(new)
            self._commit({"w": [[table.name, key_item, new]]})
        return _updated_attributes(returns, update, current, new)

    # --- reads of many items -----------------------------------------------------------------

    def query(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        index = _index(table, request)
        schema = index.schema if index is not None else table.schema
        if "KeyConditionExpression" not in request:
            raise validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        placeholders = ex.Placeholders(request, True)
        tree = ex.parse_condition(
            request["KeyConditionExpression"], "KeyConditionExpression", placeholders
        )
        partition, sort_range = _key_condition(tree, schema, table.attribute_types)
        reader = _Reader(table, index, request, placeholders)
        if reader.filter is not None:
            for name in _top_names(reader.filter):
                if name in schema.names() or (index is None and name in table.schema.names()):
                    raise validation(
                        "Filter Expression can only contain non-primary key attributes: "
                        f"Primary key attribute: {name}"
                    )
        forward = request.get("ScanIndexForward") is not False
        bare = index is None and table.schema.range_key is not None
        mark: Any = None
        if reader.start is not None:
            start_sort = reader.start_sort(reader.start)
            mark = start_sort if bare else (start_sort, table.key_of(reader.start))
        run = table.run(index, partition)
        if run is None:
            return reader.read(iter(()))
        if bare:
            walked = _walk(run, sort_range, mark, forward, lambda entry: entry)
            return reader.read((sort, (partition, sort)) for sort in walked)
        return reader.read(_walk(run, sort_range, mark, forward, lambda entry: entry[0]))

    def scan(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        index = _index(table, request)
        has_expression = any(
            request.get(name) for name in ("FilterExpression", "ProjectionExpression")
        )
        placeholders = ex.Placeholders(request, has_expression)
        reader = _Reader(table, index, request, placeholders)
        start = reader.start
        entries: Iterator[tuple[Any, Key]]
        if index is None:
            entries = _scan_table(table, None if start is None else table.key_of(start))
        else:
            mark = None
            if start is not None:
                if index.schema.hash_key not in start:
                    raise validation("The provided starting key is invalid")
                partition = v.sort_key(start[index.schema.hash_key])
                mark = (partition, (reader.start_sort(start), table.key_of(start)))
            entries = _scan_index(index, mark)
        total = request.get("TotalSegments")
        if total is not None:
            segment = request.get("Segment")
            if (
                not isinstance(total, int)
                or not isinstance(segment, int)
                or not 0 <= segment < total
            ):
                raise validation("Segment must be less than TotalSegments")
            entries = (e for e in entries if zlib.crc32(repr(e[1][0]).encode()) % total == segment)
        return reader.read(entries)

    def batch_get_item(self, request: dict[str, Any]) -> dict[str, Any]:
        requested = request.get("RequestItems")
        if not isinstance(requested, dict) or not requested:
            raise validation("RequestItems must not be empty")
        if sum(len(spec.get("Keys") or []) for spec in requested.values()) > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        for name, spec in requested.items():
            keys = spec.get("Keys") or []
            seen: set[Key] = set()
            found = responses.setdefault(name, [])
            for key in keys:
                single = {"TableName": name, "Key": key}
                for extra in ("ProjectionExpression", "ExpressionAttributeNames"):
                    if extra in spec:
                        single[extra] = spec[extra]
                table = self._table(name)
                storage_key = table.key_of(v.normalized_item(key, "Key"))
                if storage_key in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(storage_key)
                item = self.get_item(single).get("Item")
                if item is not None:
                    found.append(item)
        return {"Responses": responses, "UnprocessedKeys": {}}

    def batch_write_item(self, request: dict[str, Any]) -> dict[str, Any]:
        requested = request.get("RequestItems")
        if not isinstance(requested, dict) or not requested:
            raise validation("RequestItems must not be empty")
        total = sum(len(entries) for entries in requested.values())
        if total > MAX_BATCH_WRITE:
            raise validation("Too many items requested for the BatchWriteItem call")
        writes: list[_Write] = []
        seen: set[tuple[str, Key]] = set()
        for name, entries in requested.items():
            table = self._table(name)
            for entry in entries:
                if "PutRequest" in entry:
                    item = v.normalized_item(entry["PutRequest"].get("Item"))
                    table.check_item(item)
                    key_item, new = table.key_item(item), item
                elif "DeleteRequest" in entry:
                    key_item = v.normalized_item(entry["DeleteRequest"].get("Key"), "Key")
                    table.check_key_only(key_item)
                    new = None
                else:
                    raise validation("A write request must be a PutRequest or a DeleteRequest")
                key = table.key_of(key_item)
                if (name, key) in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add((name, key))
                writes.append(_Write(table, key, key_item, new))
        with self._lock:
            self._commit({"w": [[w.table.name, w.key_item, w.item] for w in writes]})
        return {"UnprocessedItems": {}}

    # --- transactions ------------------------------------------------------------------------

    def transact_write_items(self, request: dict[str, Any]) -> dict[str, Any]:
        actions = request.get("TransactItems")
        if not isinstance(actions, list) or not actions:
            raise validation("TransactItems must not be empty")
        if len(actions) > MAX_TRANSACTION_ACTIONS:
            raise validation(
                "1 validation error detected: Value at 'transactItems' failed to satisfy "
                "constraint: Member must have length less than or equal to 100"
            )
        prepared = [_prepare_action(self, action) for action in actions]
        targets = [(p.table.name, p.key) for p in prepared]
        if len(set(targets)) != len(targets):
            raise validation("Transaction request cannot include multiple operations on one item")
        with self._lock:
            reasons: list[dict[str, Any]] = []
            writes: list[_Write] = []
            for action in prepared:
                try:
                    write = action.run()
                except ConditionFailed as failure:
                    reason: dict[str, Any] = {
                        "Code": "ConditionalCheckFailed",
                        "Message": "The conditional request failed",
                    }
                    if failure.item is not None:
                        reason["Item"] = failure.item
                    reasons.append(reason)
                    continue
                except DynamoError as error:
                    reasons.append({"Code": "ValidationError", "Message": error.message})
                    continue
                reasons.append({"Code": "None"})
                if write is not None:
                    writes.append(write)
            if any(reason["Code"] != "None" for reason in reasons):
                codes = ", ".join(reason["Code"] for reason in reasons)
                raise DynamoError(
                    "TransactionCanceledException",
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    CancellationReasons=reasons,
                )
            if writes:
                self._commit({"w": [[w.table.name, w.key_item, w.item] for w in writes]})
        return {}

    def transact_get_items(self, request: dict[str, Any]) -> dict[str, Any]:
        actions = request.get("TransactItems")
        if not isinstance(actions, list) or not actions or len(actions) > MAX_TRANSACTION_ACTIONS:
            raise validation("TransactItems must hold 1 to 100 actions")
        gets = []
        for action in actions:
            if not isinstance(action, dict) or set(action) != {"Get"}:
                raise validation("Each TransactGetItems action must be a Get")
            gets.append(action["Get"])
        with self._lock:  # no write lands between two of the reads
            return {"Responses": [self.get_item(get) for get in gets]}


# --- helpers ---------------------------------------------------------------------------------


def _condition(request: dict[str, Any]) -> Any:
    text = request.get("ConditionExpression")
    placeholders = ex.Placeholders(request, text is not None)
    tree = (
        ex.parse_condition(text, "ConditionExpression", placeholders) if text is not None else None
    )
    placeholders.check_all_used()
    return tree


def _update_and_condition(table: Table, request: dict[str, Any]) -> tuple[ex.Update | None, Any]:
    text = request.get("UpdateExpression")
    condition_text = request.get("ConditionExpression")
    placeholders = ex.Placeholders(request, text is not None or condition_text is not None)
    update = ex.parse_update(text, placeholders) if text is not None else None
    condition = (
        ex.parse_condition(condition_text, "ConditionExpression", placeholders)
        if condition_text is not None
        else None
    )
    placeholders.check_all_used()
    if update is not None:
        for path in update.paths():
            if path.elements[0] in table.schema.names():
                raise validation(
                    "One or more parameter values were invalid: Cannot update attribute "
                    f"{path.elements[0]}. This attribute is part of the key"
                )
    return update, condition


def _check(condition: Any, current: Item | None, request: dict[str, Any]) -> None:
    if condition is None or ex.evaluate(condition, current):
        return
    extra = {}
    if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
        extra["Item"] = current
    raise DynamoError("ConditionalCheckFailedException", "The conditional request failed", **extra)


def _return_values(request: dict[str, Any], allowed: tuple[str, ...]) -> str:
    returns = request.get("ReturnValues") or "NONE"
    if returns not in allowed:
        raise validation(f"ReturnValues can only be one of {', '.join(allowed)}")
    return str(returns)


def _updated_attributes(
    returns: str, update: ex.Update | None, old: Item | None, new: Item
) -> dict[str, Any]:
    if returns == "NONE":
        return {}
    if returns == "ALL_OLD":
        return {"Attributes": old} if old else {}
    if returns == "ALL_NEW":
        return {"Attributes": new}
    names = {str(path.elements[0]) for path in (update.paths() if update else [])}
    source = (old or {}) if returns == "UPDATED_OLD" else new
    chosen = {name: source[name] for name in names if name in source}
    return {"Attributes": chosen} if chosen else {}


@dataclass
class _Action:
    kind: str
    table: Table
    key: Key
    key_item: Item
    condition: Any
    item: Item | None = None
    update: ex.Update | None = None
    return_on_failure: bool = False

    def run(self) -> _Write | None:
        current = self.table.get(self.key)
        if self.condition is not None and not ex.evaluate(self.condition, current):
            raise ConditionFailed(current if self.return_on_failure else None)
        if self.kind == "ConditionCheck":
            return None
        if self.kind == "Delete":
            return _Write(self.table, self.key, self.key_item, None) if current else None
        if self.kind == "Put":
            return _Write(self.table, self.key, self.key_item, self.item)
        new = (
            ex.apply_update(self.update, current, self.key_item)
            if self.update
            else (current or self.key_item)
        )
        self.table.check_item(new)
        return _Write(self.table, self.key, self.key_item, new)


def _prepare_action(store: Store, action: Any) -> _Action:
    """Everything about an action that does not depend on the items (refused as a whole)."""
    if not isinstance(action, dict) or len(action) != 1:
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    kind, spec = next(iter(action.items()))
    if kind not in ("ConditionCheck", "Put", "Delete", "Update") or not isinstance(spec, dict):
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    table = store._table(spec.get("TableName"))
    return_on_failure = spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    if kind == "Put":
        item = v.normalized_item(spec.get("Item"))
        table.check_item(item)
        return _Action(
            kind,
            table,
            table.key_of(item, "item"),
            table.key_item(item),
            _condition(spec),
            item=item,
            return_on_failure=return_on_failure,
        )
    key_item = v.normalized_item(spec.get("Key"), "Key")
    table.check_key_only(key_item)
    key = table.key_of(key_item)
    if kind == "Update":
        if "UpdateExpression" not in spec:
            raise validation("An Update action needs an UpdateExpression")
        update, condition = _update_and_condition(table, spec)
        return _Action(
            kind,
            table,
            key,
            key_item,
            condition,
            update=update,
            return_on_failure=return_on_failure,
        )
    if kind == "ConditionCheck" and "ConditionExpression" not in spec:
        raise validation("A ConditionCheck action needs a ConditionExpression")
    return _Action(
        kind, table, key, key_item, _condition(spec), return_on_failure=return_on_failure
    )


def _index(table: Table, request: dict[str, Any]) -> Index | None:
    name = request.get("IndexName")
    if name is None:
        return None
    index = table.indexes.get(name)
    if index is None:
        raise validation(f"The table does not have the specified index: {name}")
    if request.get("ConsistentRead") and index.is_global:
        raise validation("Consistent reads are not supported on global secondary indexes")
    return index


def _conjuncts(tree: Any) -> list[Any]:
    if isinstance(tree, ex.And):
        return _conjuncts(tree.left) + _conjuncts(tree.right)
    return [tree]


def _key_condition(tree: Any, schema: Any, types: dict[str, str]) -> tuple[Any, _SortRange | None]:
    """The partition to read and the range of sort keys, from a KeyConditionExpression."""
    parts = _conjuncts(tree)
    if len(parts) > 2:
        raise validation("Conditions can be of length 1 or 2 only")
    partition: Any = None
    sort_test: _SortRange | None = None
    for part in parts:
        name, operands = _key_part(part)
        if name == schema.hash_key and isinstance(part, ex.Comparison) and part.operator == "=":
            if partition is not None:
                raise validation("KeyConditionExpressions must only contain one condition per key")
            partition = _key_operand(operands[0], types[name])
        elif name == schema.range_key and name is not None:
            if sort_test is not None:
                raise validation("KeyConditionExpressions must only contain one condition per key")
            sort_test = _sort_range(part, [_key_operand(o, types[name]) for o in operands])
        else:
            raise validation(
                f"Query condition missed key schema element: {schema.hash_key}"
                if name != schema.hash_key
                else "Query key condition not supported"
            )
    if partition is None:
        raise validation(f"Query condition missed key schema element: {schema.hash_key}")
    return partition, sort_test


def _key_part(part: Any) -> tuple[str, list[Any]]:
    if isinstance(part, ex.Comparison) and part.operator != "<>":
        path, operands = part.left, [part.right]
    elif isinstance(part, ex.Between):
        path, operands = part.operand, [part.low, part.high]
    elif isinstance(part, ex.Function) and part.name == "begins_with":
        path, operands = part.arguments[0], [part.arguments[1]]
    else:
        raise validation("Invalid operator used in KeyConditionExpression")
    if not isinstance(path, ex.Path) or len(path.elements) != 1:
        raise validation("Query key condition not supported")
    if not all(isinstance(operand, ex.Value) for operand in operands):
        raise validation("Query key condition not supported")
    return str(path.elements[0]), operands


def _key_operand(operand: ex.Value, expected: str) -> Any:
    if v.type_of(operand.value) != expected:
        raise validation(
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type"
        )
    return v.sort_key(operand.value)


# A key condition's sort keys are one stretch of the partition's order: `before` is true of the
# sort keys ahead of it, `after` of those past it (either None: unbounded on that side).
_SortRange = tuple[Callable[[Any], bool] | None, Callable[[Any], bool] | None]


def _sort_range(part: Any, bounds: list[Any]) -> _SortRange:
    if isinstance(part, ex.Between):
        low, high = bounds
        return (lambda sort: sort < low), (lambda sort: sort > high)
    if isinstance(part, ex.Function):
        prefix = bounds[0]
        if not isinstance(prefix, (str, bytes)):
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                "function; operator or function: begins_with, operand type: N"
            )
        return (
            (lambda sort: sort < prefix),
            (lambda sort: sort > prefix and not sort.startswith(prefix)),
        )
    bound = bounds[0]
    ranges: dict[str, _SortRange] = {
        "=": ((lambda sort: sort < bound), (lambda sort: sort > bound)),
        "<": (None, lambda sort: sort >= bound),
        "<=": (None, lambda sort: sort > bound),
        ">": ((lambda sort: sort <= bound), None),
        ">=": ((lambda sort: sort < bound), None),
    }
    return ranges[part.operator]


def _walk(
    run: Run,
    sort_range: _SortRange | None,
    mark: Any,
    forward: bool,
    sort_of: Callable[[Any], Any],
) -> Iterator[Any]:
    """A partition's entries in the key condition's range, after the ExclusiveStartKey `mark`
    in the direction read: a bisection to the first, then one step per entry."""
    before, after = sort_range or (None, None)
    if forward:

        def reached(entry: Any) -> bool:
            return (before is None or not before(sort_of(entry))) and (mark is None or entry > mark)

        entries, stop = run.forward(run.seek(reached)), after
    else:

        def reached(entry: Any) -> bool:
            return (after is not None and after(sort_of(entry))) or (
                mark is not None and entry >= mark
            )

        entries, stop = run.backward(run.seek(reached)), before
    for entry in entries:
        if stop is not None and stop(sort_of(entry)):
            return
        yield entry


def _scan_table(table: Table, start: Key | None) -> Iterator[tuple[Any, Key]]:
    """(sort key, table key) in key order, after the key `start`."""
    keys = table.base.keys
    ranged = table.schema.range_key is not None
    position = (0, 0)
    if start is not None:
        first = start[0]
        position = keys.seek((lambda pk: pk >= first) if ranged else (lambda pk: pk > first))
    for partition in keys.forward(position):
        if not ranged:
            yield (None, (partition, None))
            continue
        run = table.base.runs.get(partition)
        if run is None:
            continue
        if start is not None and partition == start[0]:
            sorts = run.forward(run.seek(functools.partial(operator.lt, start[1])))
        else:
            sorts = iter(run)
        for sort in sorts:
            yield (sort, (partition, sort))


def _scan_index(index: Index, mark: tuple[Any, Any] | None) -> Iterator[tuple[Any, Key]]:
    """An index's (sort key, table key) pairs in (partition, sort key, table key) order, after
    `mark` (index partition, (index sort key, table key))."""
    keys = index.parts.keys
    position = (0, 0) if mark is None else keys.seek(lambda partition: partition >= mark[0])
    for partition in keys.forward(position):
        run = index.parts.runs.get(partition)
        if run is None:
            continue
        if mark is not None and partition == mark[0]:
            yield from run.forward(run.seek(lambda entry: entry > mark[1]))
        else:
            yield from run


def _top_names(tree: Any) -> Iterable[str]:
    if isinstance(tree, ex.Path):
        yield str(tree.elements[0])
    elif isinstance(tree, ex.Size):
        yield str(tree.path.elements[0])
    elif isinstance(tree, (ex.And, ex.Or)):
        yield from _top_names(tree.left)
        yield from _top_names(tree.right)
    elif isinstance(tree, ex.Not):
        yield from _top_names(tree.operand)
    elif isinstance(tree, ex.Comparison):
        yield from _top_names(tree.left)
        yield from _top_names(tree.right)
    elif isinstance(tree, ex.Between):
        for operand in (tree.operand, tree.low, tree.high):
            yield from _top_names(operand)
    elif isinstance(tree, ex.In):
        for operand in (tree.operand, *tree.options):
            yield from _top_names(operand)
    elif isinstance(tree, ex.Function):
        for operand in tree.arguments:
            yield from _top_names(operand)


class _Reader:
    """The shared half of Query and Scan: paging, filter, projection, Select, Limit."""

    def __init__(
        self, table: Table, index: Index | None, request: dict[str, Any], placeholders: Any
    ):
        self.table = table
        self.index = index
        filter_text = request.get("FilterExpression")
        self.filter = (
            ex.parse_condition(filter_text, "FilterExpression", placeholders)
            if filter_text is not None
            else None
        )
        projection = request.get("ProjectionExpression")
        self.paths = (
            ex.parse_projection(projection, placeholders) if projection is not None else None
        )
        placeholders.check_all_used()
        self.select = request.get("Select") or (
            "SPECIFIC_ATTRIBUTES" if self.paths is not None else "ALL_ATTRIBUTES"
        )
        if self.select not in (
            "ALL_ATTRIBUTES",
            "ALL_PROJECTED_ATTRIBUTES",
            "SPECIFIC_ATTRIBUTES",
            "COUNT",
        ):
            raise validation(f"Unknown Select value: {self.select}")
        if self.paths is not None and self.select != "SPECIFIC_ATTRIBUTES":
            raise validation(
                "Cannot specify the AttributesToGet when choosing to get only the Count"
                if self.select == "COUNT"
                else "1 validation error detected: ProjectionExpression needs Select "
                "SPECIFIC_ATTRIBUTES"
            )
        if self.select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when querying an index")
        limit = request.get("Limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise validation("Limit must be greater than or equal to 1")
        self.limit: int | None = limit
        start = request.get("ExclusiveStartKey")
        self.start = v.normalized_item(start, "ExclusiveStartKey") if start else None
        if self.start is not None:
            try:
                table.key_of(self.start)
            except DynamoError:
                raise validation("The provided starting key is invalid") from None

    def start_sort(self, start: Item) -> Any:
        """The sort value an ExclusiveStartKey names: the index's, or the table's."""
        schema = self.index.schema if self.index is not None else self.table.schema
        if schema.range_key is None:
            return None
        value = start.get(schema.range_key)
        if value is None:
            raise validation("The provided starting key is invalid")
        return v.sort_key(value)

    def _matches_index(self, sort: Any, item: Item) -> bool:
        """Whether an item still sits where the index entry read a moment ago put it."""
        assert self.index is not None
        sort_name = self.index.schema.range_key
        if self.index.schema.hash_key not in item:
            return False
        if sort_name is None:
            return True
        return sort_name in item and v.sort_key(item[sort_name]) == sort

    def read(self, entries: Iterator[tuple[Any, Key]]) -> dict[str, Any]:
        """One page of `entries` (sort value, table key), which start after the start key."""
        items: list[Item] = []
        scanned = 0
        size = 0
        last: tuple[Any, Item] | None = None
        stopped = more = False
        for sort, key in entries:
            if stopped:
                more = True
                break
            item = self.table.get(key)
            if item is None or (self.index is not None and not self._matches_index(sort, item)):
                continue
            scanned += 1
            size += v.item_size(item)
            last = (sort, item)
            if self.filter is None or ex.evaluate(self.filter, item):
                items.append(item)
            stopped = (self.limit is not None and scanned >= self.limit) or size >= MAX_PAGE_BYTES
        response: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
        if self.select != "COUNT":
            response["Items"] = [self._shape(item) for item in items]
        if last is not None and more:
            response["LastEvaluatedKey"] = self._key_of(last[1])
        return response

    def _shape(self, item: Item) -> Item:
        if self.index is not None:
            item = self.index.projected(item, self.table.schema.names())
        if self.paths is not None:
            item = ex.project(item, self.paths)
        return item

    def _key_of(self, item: Item) -> Item:
        names = list(self.table.schema.names())
        if self.index is not None:
            names += [n for n in self.index.schema.names() if n not in names]
        return {name: item[name] for name in names if name in item}


_OPERATIONS: dict[str, Callable[[Store, dict[str, Any]], dict[str, Any]]] = {
    "CreateTable": Store.create_table,
    "DeleteTable": Store.delete_table,
    "DescribeTable": Store.describe_table,
    "ListTables": Store.list_tables,
    "UpdateTimeToLive": Store.update_time_to_live,
    "DescribeTimeToLive": Store.describe_time_to_live,
    "GetItem": Store.get_item,
    "PutItem": Store.put_item,
    "DeleteItem": Store.delete_item,
    "UpdateItem": Store.update_item,
    "Query": Store.query,
    "Scan": Store.scan,
    "BatchGetItem": Store.batch_get_item,
    "BatchWriteItem": Store.batch_write_item,
    "TransactWriteItems": Store.transact_write_items,
    "TransactGetItems": Store.transact_get_items,
}

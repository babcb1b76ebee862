"""A table in memory: its definition, its items by key, and its sorted indexes.

Items are reached by key in a dict. A table with a sort key keeps, per partition, a sorted list
of sort keys; each secondary index keeps, per index partition, a sorted list of
(index sort key, table key). The lists are copy-on-write (a writer builds a new list and swaps
it in), so a reader walking one under no lock never sees it change.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devserver.store import values as v
from devserver.store.errors import validation
from devserver.store.values import AttributeValue, Item

ACCOUNT = "000000000000"
REGION = "local"

Key = tuple[Any, Any]  # (partition sort key, sort key or None)


@dataclass(frozen=True)
class KeySchema:
    hash_key: str
    range_key: str | None

    @classmethod
    def parse(cls, schema: Any, what: str) -> KeySchema:
        if not isinstance(schema, list) or not schema:
            raise validation(f"{what}: KeySchema must be a list with a HASH key")
        kinds = {entry.get("KeyType"): entry.get("AttributeName") for entry in schema}
        if len(schema) > 2 or "HASH" not in kinds or len(kinds) != len(schema):
            raise validation(
                "1 validation error detected: Invalid KeySchema: Some index key attribute have "
                "no definition"
                if len(schema) > 2
                else f"{what}: Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
            )
        return cls(kinds["HASH"], kinds.get("RANGE"))

    def names(self) -> list[str]:
        return [self.hash_key] + ([self.range_key] if self.range_key else [])

    def to_wire(self) -> list[dict[str, str]]:
        wire = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            wire.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return wire


@dataclass
class Index:
    name: str
    schema: KeySchema
    projection: dict[str, Any]
    is_global: bool
    # index partition key -> sorted [(index sort key, table key)]
    entries: dict[Any, list[tuple[Any, Key]]] = field(default_factory=dict)

    def projected(self, item: Item, table_keys: list[str]) -> Item:
        kind = self.projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            return item
        keep = set(table_keys) | set(self.schema.names())
        if kind == "INCLUDE":
            keep |= set(self.projection.get("NonKeyAttributes", []))
        return {name: value for name, value in item.items() if name in keep}

    def to_wire(self, table_arn: str) -> dict[str, Any]:
        description: dict[str, Any] = {
            "IndexName": self.name,
            "KeySchema": self.schema.to_wire(),
            "Projection": self.projection,
            "IndexSizeBytes": 0,
            "ItemCount": sum(len(entries) for entries in self.entries.values()),
            "IndexArn": f"{table_arn}/index/{self.name}",
        }
        if self.is_global:
            description["IndexStatus"] = "ACTIVE"
        return description


class Table:
    def __init__(self, definition: dict[str, Any]):
        """`definition` is a CreateTable request (checked), plus what later requests changed."""
        self.definition = definition
        self.name: str = definition["TableName"]
        self.schema = KeySchema.parse(definition.get("KeySchema"), "Table")
        self.attribute_types: dict[str, str] = {
            d["AttributeName"]: d["AttributeType"] for d in definition["AttributeDefinitions"]
        }
        self.indexes: dict[str, Index] = {}
        for entry in definition.get("GlobalSecondaryIndexes") or []:
            self._add_index(entry, is_global=True)
        for entry in definition.get("LocalSecondaryIndexes") or []:
            self._add_index(entry, is_global=False)
        self._check_definitions()
        self.items: dict[Key, Item] = {}
        # partition key -> sorted sort keys (tables with a sort key only)
        self.partitions: dict[Any, list[Any]] = {}
        self.created_at: float = definition.setdefault("_CreatedAt", time.time())
        self.table_id: str = definition.setdefault("_TableId", str(uuid.uuid4()))

    def _add_index(self, entry: dict[str, Any], *, is_global: bool) -> None:
        name = entry.get("IndexName")
        if not isinstance(name, str) or not name:
            raise validation("One or more parameter values were invalid: IndexName is required")
        if name in self.indexes:
            raise validation(
                f"One or more parameter values were invalid: Duplicate index name: {name}"
            )
        schema = KeySchema.parse(entry.get("KeySchema"), f"Index {name}")
        if not is_global and schema.hash_key != self.schema.hash_key:
            raise validation(
                "One or more parameter values were invalid: Index KeySchema does not have the "
                "same leading hash key as table KeySchema"
            )
        projection = entry.get("Projection") or {"ProjectionType": "ALL"}
        self.indexes[name] = Index(name, schema, projection, is_global)

    def _check_definitions(self) -> None:
        used = set(self.schema.names())
        for index in self.indexes.values():
            used |= set(index.schema.names())
        defined = set(self.attribute_types)
        if used - defined:
            raise validation(
                "One or more parameter values were invalid: Some index key attributes are not "
                "defined in AttributeDefinitions. Keys: "
                f"[{', '.join(sorted(used - defined))}], AttributeDefinitions: "
                f"[{', '.join(sorted(defined))}]"
            )
        if defined - used:
            raise validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema "
                "does not exactly match number of attributes defined in AttributeDefinitions"
            )
        for name, kind in self.attribute_types.items():
            if kind not in v.SCALAR_KEY_TYPES:
                raise validation(
                    f"One or more parameter values were invalid: Invalid AttributeType {kind} "
                    f"for {name}"
                )

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.name}"

    # keys

    def key_of(self, attributes: Item, what: str = "key") -> Key:
        """The storage key of a Key (or an item), checked against the schema."""
        values = []
        for name in self.schema.names():
            value = attributes.get(name)
            if value is None:
                raise validation(
                    f"One or more parameter values were invalid: Missing the key {name} in the item"
                    if what == "item"
                    else "The provided key element does not match the schema"
                )
            values.append(self._key_value(name, value, what=what))
        return (values[0], values[1] if len(values) > 1 else None)

    def check_key_only(self, key: Item) -> None:
        if set(key) != set(self.schema.names()):
            raise validation("The provided key element does not match the schema")

    def _key_value(
        self, name: str, value: AttributeValue, index: str | None = None, what: str = "key"
    ) -> Any:
        expected = self.attribute_types[name]
        actual = v.type_of(value)
        if actual != expected:
            if index is not None:
                raise validation(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{name} Expected: {expected} Actual: {actual} IndexName: {index}"
                )
            if what == "item":
                raise validation(
                    "One or more parameter values were invalid: Type mismatch for key "
                    f"{name} expected: {expected} actual: {actual}"
                )
            raise validation("The provided key element does not match the schema")
        if expected in ("S", "B") and not value[expected]:
            raise validation(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {'string' if expected == 'S' else 'binary'} "
                f"value{' for index ' + index if index else ''}. Key: {name}"
            )
        return v.sort_key(value)

    def key_item(self, item: Item) -> Item:
        return {name: item[name] for name in self.schema.names()}

    def check_item(self, item: Item) -> None:
        """What DynamoDB checks on every write: the keys, index key types, the item size."""
        self.key_of(item, "item")
        for index in self.indexes.values():
            for name in index.schema.names():
                if name in item:
                    self._key_value(name, item[name], index.name)
        size = v.item_size(item)
        if size > v.MAX_ITEM_BYTES:
            raise validation("Item size has exceeded the maximum allowed size")
        for kind, name in zip(("HASH", "RANGE"), self.schema.names(), strict=False):
            key_size = v.value_size(item[name])
            if key_size > v.MAX_KEY_BYTES[kind]:
                raise validation(
                    "One or more parameter values were invalid: Size of hashkey has exceeded the "
                    "maximum size limit of2048 bytes"
                    if kind == "HASH"
                    else "One or more parameter values were invalid: Aggregated size of all range "
                    "keys has exceeded the size limit of 1024 bytes"
                )

    # writes (the caller holds the store's write lock)

    def install(self, key: Key, item: Item | None) -> None:
        old = self.items.get(key)
        if item is None:
            if old is None:
                return
            del self.items[key]
            if self.schema.range_key is not None:
                self._unsort(self.partitions, key[0], key[1])
        else:
            self.items[key] = item
            if old is None and self.schema.range_key is not None:
                self._sort_in(self.partitions, key[0], key[1])
        for index in self.indexes.values():
            before = self._index_entry(index, old)
            after = self._index_entry(index, item)
            if before == after:
                continue
            if before is not None:
                self._unsort(index.entries, before[0], (before[1], key))
            if after is not None:
                self._sort_in(index.entries, after[0], (after[1], key))

    def _index_entry(self, index: Index, item: Item | None) -> tuple[Any, Any] | None:
        if item is None:
            return None
        hash_value = item.get(index.schema.hash_key)
        if hash_value is None:
            return None
        if index.schema.range_key is None:
            return (v.sort_key(hash_value), None)
        range_value = item.get(index.schema.range_key)
        if range_value is None:
            return None
        return (v.sort_key(hash_value), v.sort_key(range_value))

    @staticmethod
    def _sort_in(lists: dict[Any, list[Any]], partition: Any, entry: Any) -> None:
        updated = list(lists.get(partition, ()))
        bisect.insort(updated, entry, key=order)
        lists[partition] = updated

    @staticmethod
    def _unsort(lists: dict[Any, list[Any]], partition: Any, entry: Any) -> None:
        updated = [existing for existing in lists.get(partition, ()) if existing != entry]
        if updated:
            lists[partition] = updated
        else:
            lists.pop(partition, None)

    def load(self, items: list[Item]) -> None:
        """Many items at once (a snapshot): each list sorted once, not kept sorted per insert."""
        self.items = {self.key_of(item, "item"): item for item in items}
        self.rebuild_indexes()

    def rebuild_indexes(self) -> None:
        partitions: dict[Any, list[Any]] = {}
        entries: dict[str, dict[Any, list[tuple[Any, Key]]]] = {name: {} for name in self.indexes}
        for key, item in self.items.items():
            if self.schema.range_key is not None:
                partitions.setdefault(key[0], []).append(key[1])
            for index in self.indexes.values():
                entry = self._index_entry(index, item)
                if entry is not None:
                    entries[index.name].setdefault(entry[0], []).append((entry[1], key))
        for sort_keys in partitions.values():
            sort_keys.sort(key=order)
        for index in self.indexes.values():
            for pairs in entries[index.name].values():
                pairs.sort(key=order)
            index.entries = entries[index.name]
        self.partitions = partitions

    # reads (no lock: every structure read here is replaced, never changed)

    def get(self, key: Key) -> Item | None:
        return self.items.get(key)

    def partition(self, index: Index | None, partition: Any) -> list[tuple[Any, Key]]:
        """(sort key, table key) pairs of one partition, in sort-key order."""
        if index is not None:
            return list(index.entries.get(partition, ()))
        if self.schema.range_key is None:
            key = (partition, None)
            return [(None, key)] if key in self.items else []
        return [(sort, (partition, sort)) for sort in self.partitions.get(partition, ())]

    def scan_keys(self) -> Iterator[Key]:
        return iter(sorted(list(self.items), key=order))

    def describe(self) -> dict[str, Any]:
        description: dict[str, Any] = {
            "TableName": self.name,
            "TableStatus": "ACTIVE",
            "TableArn": self.arn,
            "TableId": self.table_id,
            "CreationDateTime": self.created_at,
            "KeySchema": self.schema.to_wire(),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in self.attribute_types.items()
            ],
            "ItemCount": len(self.items),
            "TableSizeBytes": 0,
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            },
            "BillingModeSummary": {
                "BillingMode": self.definition.get("BillingMode", "PROVISIONED")
            },
            "DeletionProtectionEnabled": bool(self.definition.get("DeletionProtectionEnabled")),
        }
        globals_ = [i.to_wire(self.arn) for i in self.indexes.values() if i.is_global]
        locals_ = [i.to_wire(self.arn) for i in self.indexes.values() if not i.is_global]
        if globals_:
            description["GlobalSecondaryIndexes"] = globals_
        if locals_:
            description["LocalSecondaryIndexes"] = locals_
        stream = self.definition.get("StreamSpecification")
        if stream and stream.get("StreamEnabled"):
            # The stream is described, as the table was defined with one; no records are kept.
            description["StreamSpecification"] = stream
            label = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.created_at))
            description["LatestStreamLabel"] = label
            description["LatestStreamArn"] = f"{self.arn}/stream/{label}"
        if (self.definition.get("SSESpecification") or {}).get("Enabled"):
            description["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS"}
        return description


def order(entry: Any) -> Any:
    """A total order for keys whose sort part may be None (hash-only tables and indexes)."""
    if isinstance(entry, tuple):
        return tuple(order(part) for part in entry)
    return (0, 0) if entry is None else (1, entry)

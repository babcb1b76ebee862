"""A table in memory: its definition, its items by key, and its sorted indexes.

Items are reached by key in a dict. A table keeps its partition keys in key order and, when it
has a sort key, per partition its sort keys in order; each secondary index keeps its partition
keys in order and, per index partition, (index sort key, table key) in order. Every one of them
is a `Run` (runs.py): immutable, replaced by a write in O(log n + BLOCK), so a reader walking
one under no lock never sees it change and an insert never copies a whole partition.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from devserver.store import values as v
from devserver.store.errors import validation
from devserver.store.runs import EMPTY, Run
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


class Partitions:
    """Partition keys in order, and per partition a Run of its entries in order."""

    def __init__(self) -> None:
        self.runs: dict[Any, Run] = {}
        self.keys: Run = EMPTY

    @classmethod
    def build(cls, grouped: dict[Any, list[Any]]) -> Partitions:
        """From entries grouped by partition (each list sorted here once)."""
        built = cls()
        for partition, entries in grouped.items():
            entries.sort()
            built.runs[partition] = Run.of(entries)
        built.keys = Run.of(sorted(grouped))
        return built

    def add(self, partition: Any, entry: Any) -> None:
        run = self.runs.get(partition)
        if run is None:
            self.runs[partition] = Run.of([entry])
            self.keys = self.keys.inserted(partition)
        else:
            self.runs[partition] = run.inserted(entry)

    def remove(self, partition: Any, entry: Any) -> None:
        run = self.runs.get(partition)
        if run is None:
            return
        left = run.removed(entry)
        if left is None:
            del self.runs[partition]
            self.keys = self.keys.removed(partition) or EMPTY
        else:
            self.runs[partition] = left

    def count(self) -> int:
        return sum(len(run) for run in list(self.runs.values()))


@dataclass
class Index:
    name: str
    schema: KeySchema
    projection: dict[str, Any]
    is_global: bool
    # index partition key -> Run of (index sort key, table key)
    parts: Partitions = field(default_factory=Partitions)

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
            "ItemCount": self.parts.count(),
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
        # partition keys in order; per partition its sort keys (tables with a sort key only)
        self.base = Partitions()
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
            self._unplace(key)
        else:
            self.items[key] = item
            if old is None:
                self._place(key)
        for index in self.indexes.values():
            before = self._index_entry(index, old)
            after = self._index_entry(index, item)
            if before == after:
                continue
            if before is not None:
                index.parts.remove(before[0], (before[1], key))
            if after is not None:
                index.parts.add(after[0], (after[1], key))

    def _place(self, key: Key) -> None:
        if self.schema.range_key is not None:
            self.base.add(key[0], key[1])
        else:
            self.base.keys = self.base.keys.inserted(key[0])

    def _unplace(self, key: Key) -> None:
        if self.schema.range_key is not None:
            self.base.remove(key[0], key[1])
        else:
            self.base.keys = self.base.keys.removed(key[0]) or EMPTY

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

    def load(self, items: list[Item]) -> None:
        """Many items at once (a snapshot): each partition sorted once, not per insert."""
        self.items = {self.key_of(item, "item"): item for item in items}
        self.rebuild_indexes()

    def rebuild_indexes(self) -> None:
        partitions: dict[Any, list[Any]] = {}
        entries: dict[str, dict[Any, list[tuple[Any, Key]]]] = {name: {} for name in self.indexes}
        for key, item in self.items.items():
            partitions.setdefault(key[0], []).append(key[1])
            for index in self.indexes.values():
                entry = self._index_entry(index, item)
                if entry is not None:
                    entries[index.name].setdefault(entry[0], []).append((entry[1], key))
        for index in self.indexes.values():
            index.parts = Partitions.build(entries[index.name])
        if self.schema.range_key is not None:
            self.base = Partitions.build(partitions)
        else:
            self.base = Partitions()
            self.base.keys = Run.of(sorted(partitions))

    # reads (no lock: every structure read here is replaced, never changed)

    def get(self, key: Key) -> Item | None:
        return self.items.get(key)

    def run(self, index: Index | None, partition: Any) -> Run | None:
        """The Run of one partition: (sort key, table key) pairs for an index or a table
        without a sort key, bare sort keys for a table with one."""
        if index is not None:
            return index.parts.runs.get(partition)
        if self.schema.range_key is None:
            key = (partition, None)
            return Run.of([(None, key)]) if key in self.items else None
        return self.base.runs.get(partition)

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

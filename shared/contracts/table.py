"""The one definition of the links table: its keys, indexes, TTL and the items it holds.

The CDK data construct and the local emulator both build the table from these constants, and the
API functions, the redirect and the click counters read and write items by them, so the key
schema, the indexes, the TTL attribute and the item layout cannot drift apart.

Items, by partition key (`#` is outside the short-code alphabet, so only a link or a tombstone
can ever sit under a bare code):
- `{code}`: a link (owner, URL, state, `version`), or its tombstone once deleted (status
  `deleted`, no URL, no owner key, no expiry: it answers 410 and holds the code forever);
- `stats#{code}`: the link's click breakdown;
- `history#{code}#{n}`: what version n of the link changed, one item per version;
- `idempotency#{hash}`: a create's first answer to an Idempotency-Key, for 24 hours;
- `checkpoint#{stream}#{shard}`: the click consumer's progress;
- `import#{id}`: an import job; `import#{id}#{line}`: a row of it whose link was created.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "short_code"
TTL_ATTRIBUTE = "expires_at"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

DEDUP_INDEX = "original-url-index"
DEDUP_INDEX_PARTITION_KEY = "original_url"
DEDUP_INDEX_SORT_KEY = "created_at"
# What deduplication reads from the index besides the keys, which every index projects
# (`short_code`, `original_url`, `created_at`).
DEDUP_INDEX_PROJECTION = ("status", "owner_id", "expires_at", "redirect_type")

# Every link of an owner, newest first (`GET /urls`). Projects every attribute, so a page of the
# listing is one Query with no reads back to the table. Tombstones, history, stats and
# idempotency records carry no `owner_id`, so they are never in it. Items created within the same
# second tie on `created_at`; DynamoDB orders and pages ties by the table key (`short_code`).
OWNER_INDEX = "owner-index"
OWNER_INDEX_PARTITION_KEY = "owner_id"
OWNER_INDEX_SORT_KEY = "created_at"

# Attributes the redirect needs: a projected GetItem reads nothing else.
REDIRECT_PROJECTION = ("original_url", "expires_at", "status", "redirect_type")

# Key attributes and their DynamoDB types (only keys are declared to DynamoDB).
KEY_ATTRIBUTES = {
    PARTITION_KEY: "S",
    DEDUP_INDEX_PARTITION_KEY: "S",
    DEDUP_INDEX_SORT_KEY: "S",
    OWNER_INDEX_PARTITION_KEY: "S",
}

# A link's optimistic-concurrency counter: 1 at creation, +1 per change (the ETag). A link
# stored before versions existed has none and counts as version 1.
VERSION = "version"
# Who deleted a link, on its tombstone: not `owner_id`, which would put the tombstone in the
# owner index; lets the former owner still read the history.
DELETED_BY = "deleted_by"


# Click counters (shared.clicks.counter writes them, shared.clicks.stats reads them). The link
# item carries the lifetime totals; `stats#{code}` carries the human breakdown as flat numeric
# attributes, one per UTC day, referrer host, country and device class; a checkpoint item per
# stream shard marks the last record counted. `#` is outside the short-code alphabet, so neither
# key can ever be a short code.
CLICK_COUNT = "click_count"
BOT_CLICKS = "bot_clicks"
STATS_PREFIX = "stats#"
CHECKPOINT_PREFIX = "checkpoint#"
DAY, REFERRER, COUNTRY, DEVICE = "d:", "r:", "c:", "v:"


def stats_key(code: str) -> str:
    return f"{STATS_PREFIX}{code}"


# A link's history: one item per version, written in the same transaction as the change it
# records, so no item grows with the number of edits (DynamoDB's 400 KB item limit). Read back
# by the versions 1..n that the link's `version` names. History items carry neither an owner,
# a URL attribute nor an expiry: no index lists them and TTL never removes them.
HISTORY_PREFIX = "history#"

# Idempotency records (Powertools' DynamoDB persistence layer on this table). Their status and
# stored answer use attribute names of their own: `status` is a link's.
IDEMPOTENCY_PREFIX = "idempotency"
IDEMPOTENCY_STATUS = "idempotency_status"
IDEMPOTENCY_RESPONSE = "idempotency_response"
IDEMPOTENCY_PAYLOAD_HASH = "idempotency_payload"
IDEMPOTENCY_IN_PROGRESS_EXPIRY = "idempotency_in_progress_until"


# Import jobs (docs/imports.md). The job item holds its owner, format, status, counters, the
# first errors and the cursor (byte offset and line) a chunk resumes from; its attribute names
# are its own (no `owner_id`, `status`, `original_url` or `created_at`), so no index lists it.
# A row marker is written in the same transaction as the link it created, only if absent, so a
# chunk run again (a retry, a redelivery, a resume after a crash) never creates a row twice.
# Both expire (TTL) IMPORT_RETENTION_DAYS after the job was created.
IMPORT_PREFIX = "import#"
IMPORT_RETENTION_DAYS = 30


def import_job_key(job_id: str) -> str:
    return f"{IMPORT_PREFIX}{job_id}"


def import_row_key(job_id: str, line: int) -> str:
    return f"{IMPORT_PREFIX}{job_id}#{line}"


def history_key(code: str, version: int) -> str:
    return f"{HISTORY_PREFIX}{code}#{version}"


def checkpoint_key(stream: str, shard: str) -> str:
    return f"{CHECKPOINT_PREFIX}{stream}#{shard}"


def create_table_request(name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `create_table`: on-demand, both GSIs, the stream."""
    declared = KEY_ATTRIBUTES
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": kind} for attr, kind in declared.items()
        ],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": DEDUP_INDEX,
                "KeySchema": [
                    {"AttributeName": DEDUP_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": DEDUP_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(DEDUP_INDEX_PROJECTION),
                },
            },
            {
                "IndexName": OWNER_INDEX,
                "KeySchema": [
                    {"AttributeName": OWNER_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": OWNER_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        "SSESpecification": {"Enabled": True},
    }


def ttl_request(name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `update_time_to_live`."""
    return {
        "TableName": name,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    }

"""The one definition of the links table: its keys, index, TTL and the items it holds.

The CDK data construct and the local emulator both build the table from these constants, and the
API functions, the redirect and the click counters read and write items by them, so the key
schema, the deduplication index, the TTL attribute and the item layout cannot drift apart.
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

# Attributes the redirect needs: a projected GetItem reads nothing else.
REDIRECT_PROJECTION = ("original_url", "expires_at", "status", "redirect_type")

# Key attributes and their DynamoDB types (only keys are declared to DynamoDB).
KEY_ATTRIBUTES = {
    PARTITION_KEY: "S",
    DEDUP_INDEX_PARTITION_KEY: "S",
    DEDUP_INDEX_SORT_KEY: "S",
}


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


def checkpoint_key(stream: str, shard: str) -> str:
    return f"{CHECKPOINT_PREFIX}{stream}#{shard}"


def create_table_request(name: str) -> dict[str, Any]:
    """Keyword arguments for boto3's `create_table`, on-demand, with the dedup GSI and stream."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": kind} for attr, kind in KEY_ATTRIBUTES.items()
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
            }
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

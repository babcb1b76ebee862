"""The one definition of the links table.

The CDK data construct and the local emulator both build the table from these constants, so the
key schema, the deduplication index and the TTL attribute cannot drift apart.
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


def table_name(env_name: str) -> str:
    return f"squrl-urls-{env_name}"


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

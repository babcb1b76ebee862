"""The store over DynamoDB's wire protocol, through boto3 as the handlers call it: what botocore
makes of its answers (error codes, cancellation reasons) is what shared/ relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devserver.emulator import Emulator
from shared.contracts import table

pytestmark = pytest.mark.e2e

TABLE = "squrl-urls-protocol"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    emulator = Emulator(data_dir=tmp_path).start()
    emulator.create_table(TABLE, "us-east-1")
    try:
        yield boto3.client(
            "dynamodb",
            endpoint_url=emulator.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
    finally:
        emulator.stop()


def test_the_table_is_described_as_shared_table_defines_it(client: Any) -> None:
    described = client.describe_table(TableName=TABLE)["Table"]
    request = table.create_table_request(TABLE)
    assert described["KeySchema"] == request["KeySchema"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == [
        "original-url-index",
        "owner-index",
    ]
    assert described["StreamSpecification"] == request["StreamSpecification"]
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table.TTL_ATTRIBUTE}


def test_a_failed_condition_is_a_conditional_check_failure_with_the_old_item(client: Any) -> None:
    item = {"short_code": {"S": "proto001"}, "original_url": {"S": "https://example.com/"}}
    client.put_item(TableName=TABLE, Item=item)
    with pytest.raises(ClientError) as failed:
        client.put_item(
            TableName=TABLE,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": "short_code"},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed.value.response["Item"] == item


def test_a_cancelled_transaction_carries_a_reason_per_action(client: Any) -> None:
    def count_click(code: str) -> dict[str, Any]:  # the click consumer's action on a link
        return {
            "Update": {
                "TableName": TABLE,
                "Key": {"short_code": {"S": code}},
                "UpdateExpression": "ADD #human :one",
                "ConditionExpression": "attribute_exists(#pk)",
                "ExpressionAttributeNames": {"#human": "click_count", "#pk": "short_code"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }

    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[count_click("missing1"), count_click("missing2")]
        )
    response = cancelled.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in response["CancellationReasons"]] == [
        "ConditionalCheckFailed",
        "ConditionalCheckFailed",
    ]


def test_a_malformed_request_is_a_validation_exception(client: Any) -> None:
    with pytest.raises(ClientError) as refused:
        client.get_item(TableName=TABLE, Key={"short_code": {"N": "1"}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as missing:
        client.get_item(TableName="no-such-table", Key={"short_code": {"S": "x"}})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"

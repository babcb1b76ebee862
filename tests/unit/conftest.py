from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.contracts import table


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A moto DynamoDB holding the links table, built from the same definition as the CDK's."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        name = os.environ["SQURL_TABLE_NAME"]
        client.create_table(**table.create_table_request(name))
        client.update_time_to_live(**table.ttl_request(name))
        # moto's in-process backend is not thread-safe: two concurrent conditional puts could
        # both see a code free. One call at a time makes `attribute_not_exists` as atomic as
        # DynamoDB's per-item writes (the local server's emulator does the same).
        lock = threading.Lock()
        call = client._make_api_call

        def serialized(operation: str, params: dict[str, Any]) -> Any:
            with lock:
                return call(operation, params)

        client._make_api_call = serialized
        yield client

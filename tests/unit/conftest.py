from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import table


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A moto DynamoDB holding the links table, built from the same definition as the CDK's."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        name = os.environ["SQURL_TABLE_NAME"]
        client.create_table(**table.create_table_request(name))
        client.update_time_to_live(**table.ttl_request(name))
        yield client

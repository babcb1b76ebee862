"""The local server's DynamoDB: an embedded, durable store that speaks DynamoDB's JSON protocol."""

from devserver.store.engine import Store
from devserver.store.errors import DynamoError, StoreError

__all__ = ["DynamoError", "Store", "StoreError"]

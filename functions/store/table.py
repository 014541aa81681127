"""The base of every DynamoDB store: a table name and a client made on first use (not at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.store.clients import aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TableStore:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self._client = client

    @property
    def _db(self) -> DynamoDBClient:
        self._client = self._client or aws_client("dynamodb")  # made on first use, not at import
        return self._client

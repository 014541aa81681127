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

    def _keys_by_index(self, index: str, attribute: str, value: str, key: str) -> list[str]:
        """The table keys (`key`) of the items whose `attribute` is `value`, found through `index`. An index
        finds keys only: read each item itself (consistently) for its current value."""
        page = self._db.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression="#a = :v",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
        )
        return [entry[key]["S"] for entry in page.get("Items", [])]

"""First-sighting records (table `idempotency`, docs/data-model.md), e.g. webhook bodies (WH-4).

The record shares the table with Powertools idempotency records, so it follows their layout: key
`id`, TTL attribute `expiration`. DynamoDB deletes expired items lazily (up to days later), so the
expiry is also checked in the condition: an expired record counts as unseen.
"""

from __future__ import annotations

from functions.store.dynamo_values import to_item
from functions.store.expressions import Expression
from functions.store.table import TableStore


class DedupeStore(TableStore):
    def first_time(self, key: str, *, now: int, ttl_seconds: int) -> bool:
        """True exactly once per `key` within `ttl_seconds`, whoever else asks at the same time."""
        if not key:
            raise ValueError("a dedupe key must not be empty")
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be positive")
        expr = Expression()
        expiration = expr.name("expiration")
        condition = f"attribute_not_exists({expr.name('id')}) OR {expiration} <= {expr.value(now)}"
        try:
            self._db.put_item(
                TableName=self.table,
                Item=to_item({"id": key, "expiration": now + ttl_seconds, "created_at": now}),
                **expr.params(condition=condition, update=False),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def forget(self, key: str) -> None:
        """Remove the record of `key`, so its next delivery is processed (after a failed processing)."""
        self._db.delete_item(TableName=self.table, Key=to_item({"id": key}))

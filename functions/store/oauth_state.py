"""Single-use OAuth `state` records (table `oauth state`, docs/data-model.md; OA-1).

Only hashes are stored: the raw state and the browser-binding cookie never reach the table. A record
is consumed by one conditional delete whose condition also checks the expiry, so a replayed,
concurrent or late callback finds nothing, whatever DynamoDB's TTL sweeper has done yet.
"""

from __future__ import annotations

import re
from typing import Any

from functions.store.dynamo_values import from_item, to_item
from functions.store.errors import ConflictError
from functions.store.expressions import Expression
from functions.store.table import TableStore

MAX_TTL_SECONDS = 600  # OA-1: a state lives ten minutes at most
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _check_hash(name: str, value: str) -> None:
    # Refusing anything but a digest keeps a raw state or cookie from being stored by mistake.
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"{name} must be a lower-case sha256 hex digest")


class OAuthStateStore(TableStore):
    def create(
        self,
        *,
        state_hash: str,
        cookie_hash: str,
        alias: str | None,
        now: int,
        ttl_seconds: int = MAX_TTL_SECONDS,
    ) -> None:
        _check_hash("state_hash", state_hash)
        _check_hash("cookie_hash", cookie_hash)
        if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
        record: dict[str, Any] = {
            "state_hash": state_hash,
            "cookie_hash": cookie_hash,
            "created_at": now,
            "expires_at": now + ttl_seconds,
        }
        if alias:
            record["alias"] = alias
        expr = Expression()
        try:
            self._db.put_item(
                TableName=self.table,
                Item=to_item(record),
                **expr.params(condition=f"attribute_not_exists({expr.name('state_hash')})", update=False),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ConflictError("an OAuth state with this hash already exists") from None

    def consume(self, state_hash: str, now: int) -> dict[str, Any] | None:
        """The record, deleted in the same call; None when unknown, already used or expired."""
        if not isinstance(state_hash, str) or not _SHA256_HEX.fullmatch(state_hash):
            return None  # cannot exist: create() only stores digests
        expr = Expression()
        condition = (
            f"attribute_exists({expr.name('state_hash')}) AND {expr.name('expires_at')} > {expr.value(now)}"
        )
        try:
            response = self._db.delete_item(
                TableName=self.table,
                Key={"state_hash": {"S": state_hash}},
                ReturnValues="ALL_OLD",
                **expr.params(condition=condition, update=False),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        old = response.get("Attributes")
        if not old:
            return None
        record = from_item(dict(old))
        record.setdefault("alias", None)
        return record

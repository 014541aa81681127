"""Every DynamoDB table of docs/data-model.md, with its indexes, for tests.

Deployed stacks and the local runtime get their tables from the CDK template; tests that only need
the tables (moto, dynalite) build them here, with the same keys and index names.
"""

from __future__ import annotations

import time
from typing import Any

# logical name -> (key schema, indexes, TTL attribute)
_S = "S"
_N = "N"
TABLES: dict[str, dict[str, Any]] = {
    "accounts": {
        "keys": [("account_id", _S, "HASH")],
        "indexes": {"by_open_id": [("open_id", _S, "HASH")]},
        "ttl": None,
    },
    "tokens": {"keys": [("account_id", _S, "HASH")], "indexes": {}, "ttl": None},
    "oauth_state": {"keys": [("state_hash", _S, "HASH")], "indexes": {}, "ttl": "expires_at"},
    "posts": {
        "keys": [("post_id", _S, "HASH")],
        "indexes": {
            "by_publish_id": [("publish_id", _S, "HASH")],
            "by_account": [("account_id", _S, "HASH"), ("created_at", _N, "RANGE")],
            "by_account_published": [("account_id", _S, "HASH"), ("published_at", _N, "RANGE")],
            "by_account_snapshot_due": [("account_id", _S, "HASH"), ("next_snapshot_at", _N, "RANGE")],
        },
        "ttl": None,
    },
    "quota": {"keys": [("pk", _S, "HASH"), ("sk", _S, "RANGE")], "indexes": {}, "ttl": None},
    "idempotency": {"keys": [("id", _S, "HASH")], "indexes": {}, "ttl": "expiration"},
}
DEFAULT_NAMES = {logical: f"test-{logical.replace('_', '-')}" for logical in TABLES}


def create_tables(client: Any, names: dict[str, str] | None = None, *, ttl: bool = True) -> dict[str, str]:
    """Create the tables named in `names` (logical -> physical; default: all, with test names).

    `ttl=False` skips UpdateTimeToLive, which dynalite does not implement. Returns the names used.
    """
    names = dict(DEFAULT_NAMES if names is None else names)
    unknown = set(names) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown logical table names: {sorted(unknown)}; known: {sorted(TABLES)}")
    for logical, physical in names.items():
        spec = TABLES[logical]
        attributes = {name: kind for name, kind, _ in spec["keys"]}
        for index_keys in spec["indexes"].values():
            attributes.update({name: kind for name, kind, _ in index_keys})
        params: dict[str, Any] = {
            "TableName": physical,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": n, "KeyType": role} for n, _, role in spec["keys"]],
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": k} for n, k in attributes.items()],
        }
        if spec["indexes"]:
            params["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": n, "KeyType": role} for n, _, role in keys],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, keys in spec["indexes"].items()
            ]
        client.create_table(**params)
    for physical in names.values():
        _wait_active(client, physical)
    if ttl:
        for logical, physical in names.items():
            if TABLES[logical]["ttl"]:
                client.update_time_to_live(
                    TableName=physical,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLES[logical]["ttl"]},
                )
    return names


def _wait_active(client: Any, table: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        description = client.describe_table(TableName=table)["Table"]
        indexes = description.get("GlobalSecondaryIndexes", [])
        if description["TableStatus"] == "ACTIVE" and all(i["IndexStatus"] == "ACTIVE" for i in indexes):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table} is not ACTIVE after {timeout} s")
        time.sleep(0.02)

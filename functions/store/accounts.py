"""Connected TikTok accounts (table `accounts`, docs/data-model.md): who they are, their status,
their posting preferences. Tokens live apart, in tokens.py, so most functions never touch them."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Any

from functions.store.dynamo_values import from_item, to_item
from functions.store.errors import NotFoundError
from functions.store.expressions import Expression
from functions.store.table import TableStore

ACCOUNT_STATUSES = frozenset({"connected", "reauth_required", "disconnected"})
ACCOUNT_ID_PATTERN = re.compile(r"[a-z0-9._-]{1,64}")
DEFAULT_DAILY_POST_CAP = 15
OPEN_ID_INDEX = "by_open_id"


@dataclass
class Account:
    account_id: str
    open_id: str
    username: str
    display_name: str
    scopes: list[str]
    status: str
    status_reason: str = ""
    access_expires_at: int = 0
    refresh_expires_at: int = 0
    preferences: dict[str, Any] = field(default_factory=dict)
    daily_post_cap: int = DEFAULT_DAILY_POST_CAP
    created_at: int = 0
    updated_at: int = 0
    # Why TikTok said this creator cannot post now (creator_info), empty when it last said they can.
    posting_paused: str = ""
    # The creator's follower, following, like and video counts and when TikTok gave them (user.info.stats).
    stats: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able copy (accounts hold no secrets)."""
        return {
            "account_id": self.account_id,
            "open_id": self.open_id,
            "username": self.username,
            "display_name": self.display_name,
            "scopes": list(self.scopes),
            "status": self.status,
            "status_reason": self.status_reason,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "preferences": dict(self.preferences),
            "daily_post_cap": self.daily_post_cap,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "posting_paused": self.posting_paused,
            "stats": dict(self.stats),
        }


def _check_status(status: str) -> None:
    if status not in ACCOUNT_STATUSES:
        raise ValueError(f"account status must be one of {sorted(ACCOUNT_STATUSES)}, not {status!r}")


def _account_from_item(raw: dict[str, Any]) -> Account:
    item = from_item(raw)
    return Account(
        account_id=item["account_id"],
        open_id=item.get("open_id", ""),
        username=item.get("username", ""),
        display_name=item.get("display_name", ""),
        scopes=list(item.get("scopes", [])),
        status=item.get("status", "disconnected"),
        status_reason=item.get("status_reason", ""),
        access_expires_at=int(item.get("access_expires_at", 0)),
        refresh_expires_at=int(item.get("refresh_expires_at", 0)),
        preferences=dict(item.get("preferences", {})),
        daily_post_cap=int(item.get("daily_post_cap", DEFAULT_DAILY_POST_CAP)),
        created_at=int(item.get("created_at", 0)),
        updated_at=int(item.get("updated_at", 0)),
        posting_paused=str(item.get("posting_paused", "")),
        stats={k: int(v) for k, v in dict(item.get("stats", {})).items()},
    )


class AccountStore(TableStore):
    def put(self, account: Account) -> None:
        """Create or replace the account (used at connect and reconnect)."""
        if not ACCOUNT_ID_PATTERN.fullmatch(account.account_id):
            raise ValueError(f"account_id must match [a-z0-9._-]{{1,64}}, not {account.account_id!r}")
        _check_status(account.status)
        values = account.to_dict()
        if not values["open_id"]:
            del values["open_id"]  # an index key attribute may not be an empty string
        self._db.put_item(TableName=self.table, Item=to_item(values))

    def get(self, account_id: str) -> Account | None:
        if not account_id:
            return None
        response = self._db.get_item(
            TableName=self.table, Key={"account_id": {"S": account_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _account_from_item(dict(item)) if item else None

    def list(self) -> builtins.list[Account]:
        """Every account, sorted by account_id (a deployment holds a handful)."""
        accounts: builtins.list[Account] = []
        params: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._db.scan(**params)
            accounts.extend(_account_from_item(dict(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(accounts, key=lambda a: a.account_id)

    def find_by_open_id(self, open_id: str) -> Account | None:
        """The account TikTok knows by `open_id` (webhooks name the user this way)."""
        if not open_id:
            return None
        # The consistent read drops an entry whose account has just been replaced.
        for account_id in self._keys_by_index(OPEN_ID_INDEX, "open_id", open_id, "account_id"):
            account = self.get(account_id)
            if account is not None and account.open_id == open_id:
                return account
        return None

    def set_status(self, account_id: str, status: str, reason: str, now: int) -> None:
        _check_status(status)
        self._update(account_id, {"status": status, "status_reason": reason}, now)

    def set_preferences(self, account_id: str, prefs: dict[str, Any], now: int) -> None:
        if not isinstance(prefs, dict):
            raise TypeError("preferences must be a dict")
        self._update(account_id, {"preferences": prefs}, now)

    def update_token_expiry(
        self, account_id: str, access_expires_at: int, refresh_expires_at: int, now: int
    ) -> None:
        self._update(
            account_id,
            {"access_expires_at": int(access_expires_at), "refresh_expires_at": int(refresh_expires_at)},
            now,
        )

    def resume_posting(self, account_id: str, now: int) -> None:
        """Forget a "cannot post now" seen before (only writes when one was recorded)."""
        expr = Expression().set("updated_at", now)
        expr.remove("posting_paused")
        condition = f"attribute_exists({expr.name('posting_paused')})"
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"account_id": {"S": account_id}},
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return

    def set_stats(self, account_id: str, stats: dict[str, int], now: int) -> None:
        self._update(account_id, {"stats": stats}, now)

    def set_daily_post_cap(self, account_id: str, cap: int, now: int) -> None:
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise ValueError(f"daily_post_cap must be a positive integer, not {cap!r}")
        self._update(account_id, {"daily_post_cap": cap}, now)

    def _update(self, account_id: str, fields: dict[str, Any], now: int) -> None:
        expr = Expression()
        for name, value in fields.items():
            expr.set(name, value)
        expr.set("updated_at", now)
        condition = f"attribute_exists({expr.name('account_id')})"
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"account_id": {"S": account_id}},
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise NotFoundError(f"no account {account_id!r}") from None

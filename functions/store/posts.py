"""Posts (table `posts`, docs/data-model.md): one item per post, its status and history.

Status changes are monotonic: a transition is applied only to a higher rank (or the same rank when
the step says so) and never from a terminal status, in the same conditional write that appends to
the history. A replayed webhook or a retried step therefore changes nothing.
"""

from __future__ import annotations

from typing import Any

from functions.post_status import TERMINAL, PostStatus, status_rank
from functions.store.dynamo_values import from_item, to_item
from functions.store.errors import NotFoundError
from functions.store.expressions import Expression
from functions.store.table import TableStore

PUBLISH_ID_INDEX = "by_publish_id"
ACCOUNT_INDEX = "by_account"
# Sparse indexes: published posts by when they were published, posts by their next snapshot's time.
PUBLISHED_INDEX = "by_account_published"
SNAPSHOT_DUE_INDEX = "by_account_snapshot_due"
# Written only by the methods that keep their rules: keys and index keys, status (transition),
# publish_id (set_publish_id), history (appended by transition), published_at (transition to
# PUBLISH_COMPLETE), updated_at (every write).
PROTECTED_FIELDS = frozenset(
    {
        "post_id",
        "account_id",
        "created_at",
        "updated_at",
        "status",
        "status_rank",
        "history",
        "publish_id",
        "published_at",
    }
)
MAX_LIST_LIMIT = 1000


def _check_fields(fields: dict[str, Any]) -> None:
    protected = sorted(PROTECTED_FIELDS.intersection(fields))
    if protected:
        raise ValueError(f"these fields cannot be set this way: {', '.join(protected)}")


def _set_fields(expr: Expression, fields: dict[str, Any]) -> None:
    # None clears a field: an absent attribute, never a NULL (an index key may not be NULL).
    for name, value in fields.items():
        if value is None:
            expr.remove(name)
        else:
            expr.set(name, value)


def _status_change(status: str, now: int, note: str) -> Expression:
    """The new status, its rank and a history entry for it, in one update expression."""
    expr = Expression()
    expr.set("status", status).set("status_rank", status_rank(status)).set("updated_at", now)
    if status == PostStatus.PUBLISH_COMPLETE:
        expr.set("published_at", now)
    history = expr.name("history")
    entry = expr.value([{"at": now, "status": status, "note": note}])
    expr.set_raw(f"{history} = list_append(if_not_exists({history}, {expr.value([])}), {entry})")
    return expr


class PostStore(TableStore):
    def create(self, item: dict[str, Any], now: int) -> bool:
        """Store a new post; False when `post_id` exists already (a duplicate event or retry)."""
        post_id, account_id = item.get("post_id"), item.get("account_id")
        if not isinstance(post_id, str) or not post_id:
            raise ValueError("a post needs a post_id")
        if not isinstance(account_id, str) or not account_id:
            raise ValueError("a post needs an account_id")
        status = item.get("status") or "RECEIVED"
        record = {k: v for k, v in item.items() if v is not None}
        record.update(
            status=status,
            status_rank=status_rank(status),
            created_at=int(item.get("created_at") or now),
            updated_at=now,
        )
        record.setdefault("history", [{"at": now, "status": status, "note": "created"}])
        expr = Expression()
        try:
            self._db.put_item(
                TableName=self.table,
                Item=to_item(record),
                **expr.params(condition=f"attribute_not_exists({expr.name('post_id')})", update=False),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, post_id: str) -> dict[str, Any] | None:
        if not post_id:
            return None
        response = self._db.get_item(TableName=self.table, Key=self._key(post_id), ConsistentRead=True)
        item = response.get("Item")
        return from_item(dict(item)) if item else None

    def get_by_publish_id(self, publish_id: str) -> dict[str, Any] | None:
        """The post TikTok knows by `publish_id` (webhooks and status fetches name it so)."""
        if not publish_id:
            return None
        for post_id in self._keys_by_index(PUBLISH_ID_INDEX, "publish_id", publish_id, "post_id"):
            post = self.get(post_id)
            if post is not None and post.get("publish_id") == publish_id:
                return post
        return None

    def list_by_account(
        self, account_id: str, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The account's posts, newest first, optionally only those in `status`."""
        expr = Expression()
        key = f"{expr.name('account_id')} = {expr.value(account_id)}"
        where = None
        if status is not None:
            status_rank(status)
            where = f"{expr.name('status')} = {expr.value(status)}"
        return self._query(ACCOUNT_INDEX, expr, key, limit=limit, newest_first=True, where=where)

    def published_since(self, account_id: str, since: int, limit: int = 200) -> list[dict[str, Any]]:
        """The account's posts published at or after `since`, newest first."""
        expr = Expression()
        key = f"{expr.name('account_id')} = {expr.value(account_id)} AND {expr.name('published_at')} >= {expr.value(since)}"
        return self._query(PUBLISHED_INDEX, expr, key, limit=limit, newest_first=True)

    def snapshots_due_by(self, account_id: str, until: int, limit: int = 20) -> list[dict[str, Any]]:
        """The account's posts whose next snapshot is due at or before `until`, the earliest first."""
        expr = Expression()
        key = f"{expr.name('account_id')} = {expr.value(account_id)} AND {expr.name('next_snapshot_at')} <= {expr.value(until)}"
        return self._query(SNAPSHOT_DUE_INDEX, expr, key, limit=limit, newest_first=False)

    def _query(
        self,
        index: str,
        expr: Expression,
        key: str,
        *,
        limit: int,
        newest_first: bool,
        where: str | None = None,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": key,
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if where is not None:
            params["FilterExpression"] = where
        params.update(expr.params(update=False))
        posts: list[dict[str, Any]] = []
        while len(posts) < limit:
            page = self._db.query(**params)
            posts.extend(from_item(dict(item)) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            # Limit counts items read before the filter, so keep paging until enough match.
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return posts[:limit]

    def transition(
        self,
        post_id: str,
        status: str,
        *,
        now: int,
        note: str = "",
        fields: dict[str, Any] | None = None,
        allow_same_rank: bool = False,
        from_status: str | None = None,
    ) -> bool:
        """Move the post to `status`, with `fields`, in one conditional write; False when refused.

        Refused when the post is terminal or already at a higher rank (equal rank too, unless
        `allow_same_rank`), or, with `from_status`, when it is not in that status now (one decision
        wins when several race from the same status). NotFoundError when there is no such post.
        """
        rank = status_rank(status)
        fields = fields or {}
        _check_fields(fields)
        expr = _status_change(status, now, note)
        _set_fields(expr, fields)
        terminal = ", ".join(expr.value(s) for s in sorted(TERMINAL))
        condition = (
            f"attribute_exists({expr.name('post_id')})"
            f" AND {expr.name('status_rank')} {'<=' if allow_same_rank else '<'} {expr.value(rank)}"
            f" AND NOT ({expr.name('status')} IN ({terminal}))"
        )
        if from_status is not None:
            status_rank(from_status)
            condition += f" AND {expr.name('status')} = {expr.value(from_status)}"
        return self._conditional_update(post_id, expr, condition)

    def update_fields(
        self, post_id: str, fields: dict[str, Any], now: int, expected_status: str | None = None
    ) -> bool:
        """Set (or, with None, clear) fields; False when `expected_status` is given and not current."""
        _check_fields(fields)
        expr = Expression()
        _set_fields(expr, fields)
        expr.set("updated_at", now)
        condition = f"attribute_exists({expr.name('post_id')})"
        if expected_status is not None:
            status_rank(expected_status)
            condition += f" AND {expr.name('status')} = {expr.value(expected_status)}"
        return self._conditional_update(post_id, expr, condition)

    def set_publish_id(self, post_id: str, publish_id: str, now: int) -> bool:
        """Record TikTok's publish_id, only if none is set yet (or the same one: a retried write).

        The init step stores it before doing anything else, so an execution that dies right after
        init is reconciled by status instead of initialising a second post.
        """
        if not isinstance(publish_id, str) or not publish_id:
            raise ValueError("publish_id must be a non-empty string")
        expr = Expression().set("publish_id", publish_id).set("updated_at", now)
        name, value = expr.name("publish_id"), expr.value(publish_id)
        condition = (
            f"attribute_exists({expr.name('post_id')}) AND (attribute_not_exists({name}) OR {name} = {value})"
        )
        return self._conditional_update(post_id, expr, condition)

    def reset_for_reinit(self, post_id: str, publish_id: str, *, now: int, note: str) -> bool:
        """Back from UPLOADING to INITIALIZING with no publish_id, the old one kept in
        `abandoned_publish_ids`: one of the steps allowed to lower a post's rank. Only a FILE_UPLOAD post whose
        upload URL lapsed takes it (TikTok never publishes an upload it did not receive whole)."""
        expr = _status_change("INITIALIZING", now, note)
        abandoned = expr.name("abandoned_publish_ids")
        old = expr.value([publish_id])
        expr.set_raw(f"{abandoned} = list_append(if_not_exists({abandoned}, {expr.value([])}), {old})")
        for name in ("publish_id", "upload", "upload_url", "init_started_at", "final_chunk_at"):
            expr.remove(name)
        condition = (
            f"{expr.name('status')} = {expr.value('UPLOADING')}"
            f" AND {expr.name('publish_id')} = {expr.value(publish_id)}"
        )
        return self._conditional_update(post_id, expr, condition)

    def cancel(
        self, post_id: str, *, now: int, note: str, publish_id: str | None, before_final_chunk: bool = False
    ) -> bool:
        """CANCELLED in one conditional write, so that it and whatever races it (an init, a final chunk)
        cannot both win. `publish_id` None: only while TikTok was never asked (no publish_id, no init under
        way). `before_final_chunk`: only while the upload of `publish_id` has not sent its final chunk
        (`mark_final_chunk`). Otherwise: TikTok confirmed the cancel of `publish_id`. False when refused."""
        expr = _status_change("CANCELLED", now, note)
        for name in ("upload_url", "task_token"):
            expr.remove(name)
        terminal = ", ".join(expr.value(s) for s in sorted(TERMINAL))
        condition = (
            f"attribute_exists({expr.name('post_id')}) AND NOT ({expr.name('status')} IN ({terminal}))"
        )
        if publish_id is None:
            condition += (
                f" AND attribute_not_exists({expr.name('publish_id')})"
                f" AND attribute_not_exists({expr.name('init_started_at')})"
            )
        else:
            condition += f" AND {expr.name('publish_id')} = {expr.value(publish_id)}"
        if before_final_chunk:
            condition += (
                f" AND {expr.name('status')} = {expr.value('UPLOADING')}"
                f" AND attribute_not_exists({expr.name('final_chunk_at')})"
            )
        return self._conditional_update(post_id, expr, condition)

    def mark_final_chunk(self, post_id: str, publish_id: str, now: int) -> bool:
        """Record that the final chunk of `publish_id` is about to go; False when the post was cancelled (or
        moved on) first, and then the chunk must not go. Repeating it (a retried chunk) is allowed."""
        expr = Expression().set("updated_at", now)
        at = expr.name("final_chunk_at")
        expr.set_raw(f"{at} = if_not_exists({at}, {expr.value(now)})")
        condition = (
            f"{expr.name('status')} = {expr.value('UPLOADING')}"
            f" AND {expr.name('publish_id')} = {expr.value(publish_id)}"
        )
        return self._conditional_update(post_id, expr, condition)

    def retry_after_failure(
        self, post_id: str, publish_id: str, *, now: int, note: str, retry: dict[str, Any]
    ) -> bool:
        """Back to INITIALIZING with no publish_id (kept in `abandoned_publish_ids`) and `tiktok_retry` set,
        for a post TikTok reported FAILED with a reason it says to retry. Refused unless `publish_id` is the
        post's current one and the post has not ended."""
        expr = _status_change("INITIALIZING", now, note)
        abandoned = expr.name("abandoned_publish_ids")
        old = expr.value([publish_id])
        expr.set_raw(f"{abandoned} = list_append(if_not_exists({abandoned}, {expr.value([])}), {old})")
        expr.set("tiktok_retry", retry)
        for name in (
            "publish_id",
            "upload",
            "upload_url",
            "init_started_at",
            "task_token",
            "quota",
            "final_chunk_at",
        ):
            expr.remove(name)
        terminal = ", ".join(expr.value(s) for s in sorted(TERMINAL))
        condition = (
            f"{expr.name('publish_id')} = {expr.value(publish_id)}"
            f" AND NOT ({expr.name('status')} IN ({terminal}))"
        )
        return self._conditional_update(post_id, expr, condition)

    def back_to_waiting_quota(self, post_id: str, *, now: int, note: str, waiting_until: int) -> bool:
        """Back from INITIALIZING to WAITING_QUOTA, for a post TikTok has not created (no publish_id) whose
        slot lapsed while TikTok kept answering "not now": it waits for a slot again rather than post
        beyond the cap. Besides `reset_for_reinit` and `retry_after_failure`, the only steps allowed to lower
        a post's rank."""
        expr = _status_change("WAITING_QUOTA", now, note).set("waiting_until", waiting_until)
        condition = (
            f"{expr.name('status')} = {expr.value('INITIALIZING')}"
            f" AND attribute_not_exists({expr.name('publish_id')})"
        )
        return self._conditional_update(post_id, expr, condition)

    def _conditional_update(self, post_id: str, expr: Expression, condition: str) -> bool:
        try:
            self._db.update_item(
                TableName=self.table, Key=self._key(post_id), **expr.params(condition=condition)
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            if self._missing(post_id):
                raise NotFoundError(f"no post {post_id!r}") from None
            return False
        return True

    def _missing(self, post_id: str) -> bool:
        response = self._db.get_item(
            TableName=self.table, Key=self._key(post_id), ConsistentRead=True, ProjectionExpression="post_id"
        )
        return "Item" not in response

    @staticmethod
    def _key(post_id: str) -> dict[str, Any]:
        return {"post_id": {"S": post_id}}

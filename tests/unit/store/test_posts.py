"""PostStore against moto: idempotent create, monotonic transitions, terminal statuses frozen,
publish_id written once, listing by account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.post_status import STATUS_RANK, TERMINAL
from functions.store.errors import NotFoundError
from functions.store.posts import PostStore

NOW = 1_750_000_000


@pytest.fixture
def store(tables: dict[str, str]) -> PostStore:
    return PostStore(tables["posts"])


def new_post(post_id: str = "p1", account_id: str = "alice", **extra: Any) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "account_id": account_id,
        "source": "s3",
        "media": {
            "bucket": "media",
            "key": f"posts/{account_id}/{post_id}.mp4",
            "size": 123_456,
            "fps": 29.97,
        },
        "settings": {"mode": "direct", "privacy_level": "SELF_ONLY", "caption": "hello"},
        **extra,
    }


def get(store: PostStore, post_id: str = "p1") -> dict[str, Any]:
    post = store.get(post_id)
    assert post is not None
    return post


def test_status_table_matches_the_data_model() -> None:
    assert STATUS_RANK["RECEIVED"] == 0
    assert STATUS_RANK["SEND_TO_USER_INBOX"] == 60
    assert {"PUBLISH_COMPLETE", "FAILED", "CANCELLED"} == TERMINAL
    assert all(STATUS_RANK[s] == 100 for s in TERMINAL)
    assert max(r for s, r in STATUS_RANK.items() if s not in TERMINAL) < 100


def test_create_fills_status_rank_times_and_history(store: PostStore) -> None:
    assert store.create(new_post(), NOW)
    post = get(store)
    assert post["status"] == "RECEIVED"
    assert post["status_rank"] == 0
    assert (post["created_at"], post["updated_at"]) == (NOW, NOW)
    assert post["history"] == [{"at": NOW, "status": "RECEIVED", "note": "created"}]
    assert post["media"]["fps"] == 29.97
    assert post["settings"]["privacy_level"] == "SELF_ONLY"


def test_create_is_idempotent(store: PostStore) -> None:
    assert store.create(new_post(), NOW)
    assert not store.create(new_post(settings={"caption": "second delivery"}), NOW + 5)
    post = get(store)
    assert post["settings"]["caption"] == "hello"
    assert post["updated_at"] == NOW


def test_create_with_a_given_status_and_time(store: PostStore) -> None:
    assert store.create(new_post(status="SCHEDULED", created_at=NOW - 60, publish_id=None), NOW)
    post = get(store)
    assert (post["status"], post["status_rank"], post["created_at"]) == ("SCHEDULED", 15, NOW - 60)
    assert "publish_id" not in post  # None means absent


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"account_id": "alice"}, "post_id"),
        ({"post_id": "", "account_id": "alice"}, "post_id"),
        ({"post_id": "p1"}, "account_id"),
        ({"post_id": "p1", "account_id": "alice", "status": "POSTED"}, "unknown post status"),
    ],
)
def test_create_checks_the_item(store: PostStore, item: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store.create(item, NOW)


def test_get_unknown_is_none(store: PostStore) -> None:
    assert store.get("nope") is None
    assert store.get("") is None


def test_forward_transition_sets_everything_at_once(store: PostStore) -> None:
    store.create(new_post(), NOW)
    assert store.transition(
        "p1",
        "UPLOADING",
        now=NOW + 10,
        note="chunk 1 of 3",
        fields={"upload": {"acked": 0, "total": 123_456}},
    )
    post = get(store)
    assert (post["status"], post["status_rank"], post["updated_at"]) == ("UPLOADING", 40, NOW + 10)
    assert post["upload"] == {"acked": 0, "total": 123_456}
    assert post["history"][-1] == {"at": NOW + 10, "status": "UPLOADING", "note": "chunk 1 of 3"}
    assert len(post["history"]) == 2


def test_backward_transition_is_refused_and_changes_nothing(store: PostStore) -> None:
    store.create(new_post(), NOW)
    assert store.transition("p1", "PROCESSING", now=NOW + 10)
    before = get(store)
    assert not store.transition("p1", "UPLOADING", now=NOW + 20, fields={"upload": {"acked": 5}})
    assert get(store) == before


def test_same_rank_needs_permission(store: PostStore) -> None:
    store.create(new_post(), NOW)
    assert store.transition("p1", "UPLOADING", now=NOW + 1)
    assert not store.transition("p1", "UPLOADING", now=NOW + 2, fields={"upload": {"acked": 10}})
    assert store.transition(
        "p1", "UPLOADING", now=NOW + 3, fields={"upload": {"acked": 10}}, allow_same_rank=True
    )
    post = get(store)
    assert post["upload"] == {"acked": 10}
    assert [h["status"] for h in post["history"]] == ["RECEIVED", "UPLOADING", "UPLOADING"]


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_a_terminal_status_is_frozen(store: PostStore, terminal: str) -> None:
    store.create(new_post(), NOW)
    assert store.transition("p1", terminal, now=NOW + 1, fields={"fail_reason": None})
    before = get(store)
    for status in STATUS_RANK:
        assert not store.transition("p1", status, now=NOW + 2)
        assert not store.transition("p1", status, now=NOW + 2, allow_same_rank=True)
    assert get(store) == before


def test_a_replayed_webhook_changes_nothing(store: PostStore) -> None:
    store.create(new_post(), NOW)
    store.transition("p1", "PROCESSING", now=NOW + 1)
    fields = {"tiktok_post_ids": ["7000000000000000001"], "publicly_available": True}
    assert store.transition("p1", "PUBLISH_COMPLETE", now=NOW + 2, note="webhook", fields=fields)
    assert not store.transition("p1", "PUBLISH_COMPLETE", now=NOW + 3, note="webhook", fields=fields)
    post = get(store)
    assert [h["status"] for h in post["history"]] == ["RECEIVED", "PROCESSING", "PUBLISH_COMPLETE"]
    assert post["updated_at"] == NOW + 2


def test_transition_checks_its_arguments(store: PostStore) -> None:
    store.create(new_post(), NOW)
    with pytest.raises(ValueError, match="unknown post status"):
        store.transition("p1", "DONE", now=NOW)
    for field in ("status", "status_rank", "history", "publish_id", "post_id", "account_id", "created_at"):
        with pytest.raises(ValueError, match="cannot be set this way"):
            store.transition("p1", "UPLOADING", now=NOW, fields={field: "x"})
    assert get(store)["status"] == "RECEIVED"


def test_transition_of_a_missing_post_is_not_found(store: PostStore) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        store.transition("ghost", "FAILED", now=NOW)
    assert store.get("ghost") is None


def test_update_fields(store: PostStore) -> None:
    store.create(new_post(task_token="tok-123"), NOW)
    assert store.update_fields("p1", {"upload": {"acked": 64}, "task_token": None}, NOW + 5)
    post = get(store)
    assert post["upload"] == {"acked": 64}
    assert "task_token" not in post
    assert post["updated_at"] == NOW + 5


def test_update_fields_with_an_expected_status(store: PostStore) -> None:
    store.create(new_post(), NOW)
    store.transition("p1", "UPLOADING", now=NOW + 1)
    assert not store.update_fields("p1", {"upload": {"acked": 1}}, NOW + 2, expected_status="INITIALIZING")
    assert "upload" not in get(store)
    assert store.update_fields("p1", {"upload": {"acked": 1}}, NOW + 2, expected_status="UPLOADING")
    assert get(store)["upload"] == {"acked": 1}


def test_update_fields_still_works_on_a_finished_post(store: PostStore) -> None:
    # TikTok reports publicly_available after PUBLISH_COMPLETE: details may land, status may not move.
    store.create(new_post(), NOW)
    store.transition("p1", "PUBLISH_COMPLETE", now=NOW + 1)
    assert store.update_fields("p1", {"publicly_available": True}, NOW + 2)
    post = get(store)
    assert (post["status"], post["publicly_available"]) == ("PUBLISH_COMPLETE", True)


def test_update_fields_refuses_protected_fields_and_missing_posts(store: PostStore) -> None:
    store.create(new_post(), NOW)
    with pytest.raises(ValueError, match="status"):
        store.update_fields("p1", {"status": "FAILED"}, NOW)
    with pytest.raises(ValueError, match="publish_id"):
        store.update_fields("p1", {"publish_id": "x"}, NOW)
    with pytest.raises(ValueError, match="unknown post status"):
        store.update_fields("p1", {}, NOW, expected_status="NOPE")
    with pytest.raises(NotFoundError):
        store.update_fields("ghost", {"a": 1}, NOW)
    assert store.get("ghost") is None


def test_publish_id_is_written_once(store: PostStore) -> None:
    store.create(new_post(), NOW)
    assert store.set_publish_id("p1", "v_pub_file~v2-1.123", NOW + 1)
    assert store.set_publish_id("p1", "v_pub_file~v2-1.123", NOW + 2)  # the same write, retried
    assert not store.set_publish_id("p1", "v_pub_file~v2-1.999", NOW + 3)
    post = get(store)
    assert post["publish_id"] == "v_pub_file~v2-1.123"


def test_set_publish_id_checks(store: PostStore) -> None:
    with pytest.raises(NotFoundError):
        store.set_publish_id("ghost", "pub", NOW)
    store.create(new_post(), NOW)
    with pytest.raises(ValueError):
        store.set_publish_id("p1", "", NOW)


def test_get_by_publish_id(store: PostStore) -> None:
    store.create(new_post("p1"), NOW)
    store.create(new_post("p2"), NOW)
    store.set_publish_id("p2", "pub-2", NOW)
    found = store.get_by_publish_id("pub-2")
    assert found is not None
    assert found["post_id"] == "p2"
    assert store.get_by_publish_id("pub-unknown") is None
    assert store.get_by_publish_id("") is None


def test_list_by_account_newest_first(store: PostStore) -> None:
    for i in range(6):
        store.create(new_post(f"a{i}", created_at=NOW + i), NOW + i)
    store.create(new_post("b0", account_id="bob"), NOW)
    listed = store.list_by_account("alice")
    assert [p["post_id"] for p in listed] == ["a5", "a4", "a3", "a2", "a1", "a0"]
    assert [p["post_id"] for p in store.list_by_account("alice", limit=2)] == ["a5", "a4"]
    assert [p["post_id"] for p in store.list_by_account("bob")] == ["b0"]
    assert store.list_by_account("nobody") == []


def test_list_by_account_filters_by_status_across_pages(store: PostStore) -> None:
    for i in range(12):
        store.create(new_post(f"a{i:02d}", created_at=NOW + i), NOW + i)
        if i % 4 == 0:
            store.transition(f"a{i:02d}", "FAILED", now=NOW + i)
    failed = store.list_by_account("alice", status="FAILED", limit=2)
    assert [p["post_id"] for p in failed] == ["a08", "a04"]
    assert [p["post_id"] for p in store.list_by_account("alice", status="FAILED")] == ["a08", "a04", "a00"]


def test_list_by_account_checks_arguments(store: PostStore) -> None:
    for limit in (0, 1001):
        with pytest.raises(ValueError, match="limit"):
            store.list_by_account("alice", limit=limit)
    with pytest.raises(ValueError, match="unknown post status"):
        store.list_by_account("alice", status="nope")


def test_published_since_reads_only_posts_published_in_the_window(store: PostStore) -> None:
    """The index holds published posts only, by when they were published, whatever their creation."""
    store.create(new_post("old", created_at=NOW - 10 * 86_400), NOW - 10 * 86_400)
    store.transition("old", "PUBLISH_COMPLETE", now=NOW - 5 * 86_400)
    store.create(new_post("scheduled", created_at=NOW - 9 * 86_400), NOW - 9 * 86_400)
    store.transition("scheduled", "PUBLISH_COMPLETE", now=NOW - 60)  # created long ago, published now
    store.create(new_post("failed"), NOW)
    store.transition("failed", "FAILED", now=NOW)
    store.create(new_post("waiting"), NOW)
    store.create(new_post("bobs", account_id="bob"), NOW)
    store.transition("bobs", "PUBLISH_COMPLETE", now=NOW)
    assert get(store, "scheduled")["published_at"] == NOW - 60
    assert "published_at" not in get(store, "failed")
    assert [p["post_id"] for p in store.published_since("alice", NOW - 86_400)] == ["scheduled"]
    assert [p["post_id"] for p in store.published_since("alice", NOW - 6 * 86_400)] == ["scheduled", "old"]
    with pytest.raises(ValueError, match="cannot be set"):
        store.update_fields("failed", {"published_at": NOW}, NOW)


def test_snapshots_due_by_finds_the_posts_whose_next_snapshot_is_due(store: PostStore) -> None:
    for i, due in enumerate((NOW + 100, NOW + 400, None, NOW - 50)):
        store.create(new_post(f"a{i}"), NOW)
        if due is not None:
            store.update_fields(f"a{i}", {"next_snapshot_at": due}, NOW)
    assert [p["post_id"] for p in store.snapshots_due_by("alice", NOW + 300)] == ["a3", "a0"]
    assert [p["post_id"] for p in store.snapshots_due_by("alice", NOW + 300, limit=1)] == ["a3"]
    store.update_fields("a3", {"next_snapshot_at": None}, NOW)  # none left: out of the index
    assert [p["post_id"] for p in store.snapshots_due_by("alice", NOW + 300)] == ["a0"]
    assert store.snapshots_due_by("bob", NOW + 300) == []


def test_posts_come_out_as_plain_json(store: PostStore) -> None:
    store.create(new_post(), NOW)
    store.transition("p1", "UPLOADING", now=NOW + 1, fields={"upload": {"acked": 10_000_000, "ratio": 0.5}})
    post = get(store)
    assert json.loads(json.dumps(post)) == post
    assert type(post["status_rank"]) is int
    assert type(post["upload"]["acked"]) is int
    assert type(post["upload"]["ratio"]) is float


def test_reset_for_reinit_goes_back_once_and_keeps_the_old_publish_id(store: PostStore) -> None:
    store.create(new_post(), 100)
    store.transition("p1", "UPLOADING", now=101, fields={"upload": {"offset": 5}, "upload_url": "u"})
    store.set_publish_id("p1", "v_pub_file~1", 101)
    assert not store.reset_for_reinit("p1", "v_pub_file~other", now=102, note="wrong id")
    assert store.reset_for_reinit("p1", "v_pub_file~1", now=103, note="url lapsed")
    post = get(store)
    assert post["status"] == "INITIALIZING" and post["status_rank"] == 30
    assert "publish_id" not in post and "upload" not in post and "upload_url" not in post
    assert post["abandoned_publish_ids"] == ["v_pub_file~1"]
    assert post["history"][-1] == {"at": 103, "status": "INITIALIZING", "note": "url lapsed"}
    assert not store.reset_for_reinit("p1", "v_pub_file~1", now=104, note="again")  # not UPLOADING now
    assert store.set_publish_id("p1", "v_pub_file~2", 105)

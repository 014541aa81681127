"""The stores' conditional writes under real concurrency, on dynalite (per-item atomic like DynamoDB).

In-process moto applies conditional writes without a lock, so it cannot show these properties (it let
a naive quota reservation overshoot its limit in most runs; docs/decisions.md, "quota as slot ledgers"). Each test releases its threads together from a
barrier and then checks the outcome exactly; a deliberately naive reservation shows that the same
harness catches a lost update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest
from moto import mock_aws

from functions.store.clients import reset_clients
from functions.store.dedupe import DedupeStore
from functions.store.oauth_state import OAuthStateStore
from functions.store.posts import PostStore
from functions.store.quota import Reserved, SlotLedger
from functions.store.tokens import TokenStore
from tests.support import dynalite
from tests.support.aws_tables import create_tables

# The session-scoped dynalite server and its client, as fixtures of this module.
dynalite_endpoint = dynalite.dynalite_endpoint
dynalite_client = dynalite.dynalite_client

T = TypeVar("T")
NOW = 1_750_000_000
THREADS = 16


@pytest.fixture(scope="module")
def tables(dynalite_client: Any) -> dict[str, str]:
    return create_tables(
        dynalite_client,
        {name: f"concurrency-{name}" for name in ("tokens", "oauth_state", "posts", "quota", "idempotency")},
        ttl=False,
    )


def race(threads: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..threads-1) in threads released together; re-raise the first failure."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:  # handed over to the main thread, which re-raises it
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    if errors:
        raise errors[0]
    return results


# --- (1) slot ledger --------------------------------------------------------------------------------


@pytest.fixture
def ledger_via_environment(
    dynalite_endpoint: str,
    tables: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SlotLedger]:
    # No client passed: the store finds dynalite through the standard endpoint variable.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite_endpoint)
    reset_clients()
    yield SlotLedger(tables["quota"])
    reset_clients()


@pytest.mark.parametrize("run", range(2))
def test_slot_ledger_never_overshoots(ledger_via_environment: SlotLedger, run: int) -> None:
    ledger, key, capacity, attempts = ledger_via_environment, f"posts#conc-{run}", 10, 40

    def attempts_of(thread: int) -> list[tuple[str, Any]]:
        out = []
        for attempt in range(attempts):
            holder = f"t{thread}-a{attempt}"
            out.append(
                (
                    holder,
                    ledger.reserve(key, capacity=capacity, window_seconds=86_400, holder=holder, now=NOW),
                )
            )
        return out

    results = [pair for per_thread in race(THREADS, attempts_of) for pair in per_thread]
    assert len(results) == THREADS * attempts
    won = {holder: r for holder, r in results if isinstance(r, Reserved)}
    assert len(won) == capacity
    assert len({r.slot for r in won.values()}) == capacity
    assert ledger.usage(key, NOW, capacity) == (capacity, NOW + 86_400)
    # What the table says agrees with what the callers were told.
    for holder, reserved in won.items():
        assert (
            ledger.reserve(key, capacity=capacity, window_seconds=86_400, holder=holder, now=NOW + 1)
            == reserved
        )


def naive_reserve(client: Any, table: str, key: str, capacity: int, holder: str) -> bool:
    """Read, pick a free slot, write it unconditionally: the lost-update bug the ledger avoids."""
    items = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": key}},
        ConsistentRead=True,
    )["Items"]
    taken = {item["sk"]["S"] for item in items}
    free = [f"slot#{i:02d}" for i in range(capacity) if f"slot#{i:02d}" not in taken]
    if not free:
        return False
    client.put_item(
        TableName=table,
        Item={
            "pk": {"S": key},
            "sk": {"S": free[0]},
            "holder": {"S": holder},
            "free_at": {"N": str(NOW + 60)},
        },
    )
    return True


def test_the_harness_catches_a_naive_reservation(dynalite_client: Any, tables: dict[str, str]) -> None:
    capacity = 10
    granted_per_run = []
    for run in range(3):
        key = f"naive#{run}"
        granted = race(
            THREADS,
            lambda t, key=key: sum(
                naive_reserve(dynalite_client, tables["quota"], key, capacity, f"t{t}-a{a}") for a in range(5)
            ),
        )
        granted_per_run.append(sum(granted))
        if granted_per_run[-1] > capacity:
            break
    assert max(granted_per_run) > capacity, granted_per_run


# --- (2) refresh lease ------------------------------------------------------------------------------


@pytest.fixture
def token_store(dynalite_client: Any, tables: dict[str, str]) -> Iterator[TokenStore]:
    # KMS from moto, DynamoDB from dynalite: moto lets loopback requests through.
    with mock_aws():
        kms = boto3.client("kms", region_name="eu-west-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        yield TokenStore(tables["tokens"], key_id, client=dynalite_client, kms=kms)


def save_tokens(store: TokenStore, account_id: str, refresh_token: str, access_expires_at: int) -> int:
    return store.save(
        account_id,
        access_token="act.initial",
        refresh_token=refresh_token,
        open_id="open-" + account_id,
        scopes=["video.publish"],
        access_expires_at=access_expires_at,
        refresh_expires_at=NOW + 365 * 86_400,
        now=NOW,
    )


def test_exactly_one_caller_gets_the_refresh_lease(token_store: TokenStore) -> None:
    save_tokens(token_store, "lease-race", "rft.0", NOW + 60)
    won = race(THREADS, lambda i: token_store.acquire_refresh_lease("lease-race", f"worker-{i}", NOW))
    assert won.count(True) == 1


class FakeTokenEndpoint:
    """TikTok's refresh: each refresh token works once and is replaced by a new one."""

    def __init__(self, current: str) -> None:
        self._lock = threading.Lock()
        self.valid = current
        self.calls = 0

    def refresh(self, refresh_token: str) -> tuple[str, str]:
        with self._lock:
            self.calls += 1
            if refresh_token != self.valid:
                raise RuntimeError("invalid_grant: refresh token already used")
            self.valid = f"rft.{self.calls}"
            return f"act.{self.calls}", self.valid


def fresh_access_token(store: TokenStore, endpoint: FakeTokenEndpoint, account_id: str, owner: str) -> str:
    """How a TikTok-calling function gets a usable token (OA-5): lease, re-read, refresh if due."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tokens = store.load(account_id)
        assert tokens is not None
        if tokens.access_expires_at > NOW + 300:
            return tokens.access_token
        if store.acquire_refresh_lease(account_id, owner, NOW):
            tokens = store.load(account_id)  # re-read under the lease: someone may have just refreshed
            assert tokens is not None
            if tokens.access_expires_at > NOW + 300:
                store.release_lease(account_id, owner)
                return tokens.access_token
            access, refresh = endpoint.refresh(tokens.refresh_token)
            store.replace_after_refresh(
                account_id,
                expected_version=tokens.version,
                owner=owner,
                access_token=access,
                refresh_token=refresh,
                scopes=tokens.scopes,
                access_expires_at=NOW + 86_400,
                refresh_expires_at=NOW + 365 * 86_400,
                now=NOW,
            )
            return access
        time.sleep(0.01)
    raise TimeoutError("no fresh token")


def test_concurrent_refreshes_reach_tiktok_once_and_keep_the_newest_token(token_store: TokenStore) -> None:
    save_tokens(token_store, "refresh-race", "rft.0", access_expires_at=NOW + 10)  # due for refresh
    endpoint = FakeTokenEndpoint("rft.0")
    got = race(THREADS, lambda i: fresh_access_token(token_store, endpoint, "refresh-race", f"fn-{i}"))
    assert endpoint.calls == 1
    assert set(got) == {"act.1"}
    stored = token_store.load("refresh-race")
    assert stored is not None
    assert (stored.refresh_token, stored.version) == (endpoint.valid, 2)


# --- (3) OAuth state ----------------------------------------------------------------------------------


@pytest.mark.parametrize("run", range(3))
def test_an_oauth_state_is_consumed_once(dynalite_client: Any, tables: dict[str, str], run: int) -> None:
    store = OAuthStateStore(tables["oauth_state"], client=dynalite_client)
    state = f"{run:064x}"
    store.create(state_hash=state, cookie_hash="c" * 64, alias="brand", now=NOW)
    records = race(THREADS, lambda _: store.consume(state, NOW + 1))
    assert sum(r is not None for r in records) == 1
    assert next(r for r in records if r)["alias"] == "brand"


# --- (4) posts and dedupe -------------------------------------------------------------------------------


def test_publish_id_is_set_by_exactly_one_writer(dynalite_client: Any, tables: dict[str, str]) -> None:
    store = PostStore(tables["posts"], client=dynalite_client)
    assert store.create({"post_id": "pub-race", "account_id": "alice"}, NOW)
    won = race(THREADS, lambda i: store.set_publish_id("pub-race", f"publish-{i}", NOW))
    assert won.count(True) == 1
    post = store.get("pub-race")
    assert post is not None
    assert post["publish_id"] == f"publish-{won.index(True)}"


def test_a_post_is_created_once_and_ends_once(dynalite_client: Any, tables: dict[str, str]) -> None:
    store = PostStore(tables["posts"], client=dynalite_client)
    created = race(
        THREADS, lambda i: store.create({"post_id": "end-race", "account_id": "alice", "n": i}, NOW)
    )
    assert created.count(True) == 1
    outcomes = ["FAILED", "PUBLISH_COMPLETE", "CANCELLED", "PROCESSING"]
    moved = race(
        THREADS,
        lambda i: store.transition(
            "end-race", outcomes[i % 4], now=NOW + 1, note=f"w{i}", allow_same_rank=True
        ),
    )
    post = store.get("end-race")
    assert post is not None
    terminal_entries = [h for h in post["history"] if h["status"] != "PROCESSING" and h["note"] != "created"]
    assert len(terminal_entries) == 1
    assert post["status"] == terminal_entries[0]["status"]
    # Every applied write is in the history; PROCESSING may land only before the terminal one.
    assert moved.count(True) == len(post["history"]) - 1
    assert post["history"][-1] == terminal_entries[0]


def test_a_webhook_body_is_processed_once(dynalite_client: Any, tables: dict[str, str]) -> None:
    store = DedupeStore(tables["idempotency"], client=dynalite_client)
    first = race(THREADS, lambda _: store.first_time("webhook#" + "f" * 64, now=NOW, ttl_seconds=3600))
    assert first.count(True) == 1

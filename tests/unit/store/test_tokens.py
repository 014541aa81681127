"""TokenStore against moto: KMS encryption really applied, the refresh lease, optimistic versions,
and token values kept out of reprs, errors and logs."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.store.clients import aws_client
from functions.store.errors import ConflictError, NotFoundError, StoreError
from functions.store.tokens import StoredTokens, TokenStore

NOW = 1_750_000_000
ACCESS = "act.1234567890abcdefGHIJKLmnopqrstuv!4321"
REFRESH = "rft.0987654321zyxwvuTSRQPOnmlkjihgf!1234"


@pytest.fixture
def store(tables: dict[str, str], kms_key: str) -> TokenStore:
    return TokenStore(tables["tokens"], kms_key)


def save(
    store: TokenStore, account_id: str = "alice", *, access: str = ACCESS, refresh: str = REFRESH
) -> int:
    return store.save(
        account_id,
        access_token=access,
        refresh_token=refresh,
        open_id=f"open-{account_id}",
        scopes=["user.info.basic", "video.publish"],
        access_expires_at=NOW + 86_400,
        refresh_expires_at=NOW + 365 * 86_400,
        now=NOW,
    )


def refresh(store: TokenStore, *, version: int, owner: str, suffix: str = "2", now: int = NOW + 10) -> int:
    return store.replace_after_refresh(
        "alice",
        expected_version=version,
        owner=owner,
        access_token=ACCESS + suffix,
        refresh_token=REFRESH + suffix,
        scopes=["user.info.basic", "video.publish", "video.upload"],
        access_expires_at=now + 86_400,
        refresh_expires_at=now + 365 * 86_400,
        now=now,
    )


def raw_item(dynamodb: Any, table: str, account_id: str = "alice") -> dict[str, Any]:
    return dict(dynamodb.get_item(TableName=table, Key={"account_id": {"S": account_id}})["Item"])


def test_save_then_load(store: TokenStore) -> None:
    assert save(store) == 1
    tokens = store.load("alice")
    assert tokens == StoredTokens(
        account_id="alice",
        access_token=ACCESS,
        refresh_token=REFRESH,
        open_id="open-alice",
        scopes=["user.info.basic", "video.publish"],
        access_expires_at=NOW + 86_400,
        refresh_expires_at=NOW + 365 * 86_400,
        version=1,
    )


def test_every_save_bumps_the_version(store: TokenStore) -> None:
    assert [save(store) for _ in range(3)] == [1, 2, 3]
    tokens = store.load("alice")
    assert tokens is not None
    assert tokens.version == 3


def test_load_unknown_account_is_none(store: TokenStore) -> None:
    assert store.load("nobody") is None
    assert store.load("") is None


def test_the_stored_item_holds_only_ciphertext(
    store: TokenStore, dynamodb: Any, tables: dict[str, str]
) -> None:
    save(store)
    item = raw_item(dynamodb, tables["tokens"])
    assert set(item) == {
        "account_id",
        "ciphertext",
        "open_id",
        "scopes",
        "access_expires_at",
        "refresh_expires_at",
        "version",
        "updated_at",
    }
    ciphertext = item["ciphertext"]["B"]
    assert isinstance(ciphertext, bytes)
    dump = repr(item).encode() + ciphertext
    for secret in (ACCESS, REFRESH):
        assert secret.encode() not in dump
        assert base64.b64encode(secret.encode()) not in dump
        assert secret[4:14].encode() not in dump


def test_ciphertext_is_bound_to_its_account_by_the_encryption_context(
    store: TokenStore, dynamodb: Any, tables: dict[str, str], kms_key: str
) -> None:
    save(store, "alice")
    save(store, "bob", access="act.bob-token-0000000000", refresh="rft.bob-refresh-000000000")
    ciphertext = raw_item(dynamodb, tables["tokens"], "alice")["ciphertext"]["B"]

    kms = aws_client("kms")
    good = kms.decrypt(
        KeyId=kms_key,
        CiphertextBlob=ciphertext,
        EncryptionContext={"account_id": "alice", "purpose": "tiktok-tokens"},
    )
    assert ACCESS.encode() in good["Plaintext"]
    for context in ({"account_id": "bob", "purpose": "tiktok-tokens"}, {"account_id": "alice"}, {}):
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(KeyId=kms_key, CiphertextBlob=ciphertext, EncryptionContext=context)

    # Alice's ciphertext pasted onto Bob's item does not give Bob Alice's tokens.
    dynamodb.update_item(
        TableName=tables["tokens"],
        Key={"account_id": {"S": "bob"}},
        UpdateExpression="SET ciphertext = :c",
        ExpressionAttributeValues={":c": {"B": ciphertext}},
    )
    with pytest.raises(StoreError, match="do not decrypt") as caught:
        store.load("bob")
    assert ACCESS not in str(caught.value)


def test_tokens_encrypted_under_another_key_do_not_load(tables: dict[str, str], kms_key: str) -> None:
    save(TokenStore(tables["tokens"], kms_key))
    other_key = aws_client("kms").create_key()["KeyMetadata"]["KeyId"]
    # KMS names the wrong key IncorrectKeyException (-> StoreError); moto answers AccessDenied.
    with pytest.raises((StoreError, ClientError)) as caught:
        TokenStore(tables["tokens"], other_key).load("alice")
    assert ACCESS not in str(caught.value)


def test_an_item_without_ciphertext_is_an_error(
    store: TokenStore, dynamodb: Any, tables: dict[str, str]
) -> None:
    dynamodb.put_item(TableName=tables["tokens"], Item={"account_id": {"S": "alice"}, "version": {"N": "1"}})
    with pytest.raises(StoreError, match="no ciphertext"):
        store.load("alice")


def test_repr_and_str_never_show_token_values(store: TokenStore) -> None:
    save(store)
    tokens = store.load("alice")
    assert tokens is not None
    for text in (repr(tokens), str(tokens), f"{tokens}", f"{tokens!r}", repr([tokens]), repr({"t": tokens})):
        assert ACCESS not in text
        assert REFRESH not in text
        assert "<redacted>" in text
        assert "alice" in text


def test_tokens_never_reach_the_logs(store: TokenStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the level functions run at
    caplog.set_level(logging.DEBUG, logger="functions")
    save(store)
    tokens = store.load("alice")
    assert tokens is not None
    assert store.acquire_refresh_lease("alice", "worker-1", NOW)
    refresh(store, version=tokens.version, owner="worker-1")
    with pytest.raises(ConflictError):
        refresh(store, version=tokens.version, owner="worker-1", suffix="3")
    logging.getLogger("functions.test").info("loaded %s", tokens)
    assert caplog.records, "the capture works: the test's own record is there"
    for secret in (ACCESS, REFRESH, ACCESS + "2", REFRESH + "2"):
        assert secret not in caplog.text


def test_save_refuses_empty_tokens(store: TokenStore) -> None:
    with pytest.raises(ValueError, match="access token and a refresh token"):
        save(store, access="")
    with pytest.raises(ValueError):
        save(store, refresh="")


def test_a_key_id_is_required(tables: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="KMS key"):
        TokenStore(tables["tokens"], "")


# --- the refresh lease ----------------------------------------------------------------------------


def test_lease_is_exclusive_until_it_expires(store: TokenStore) -> None:
    save(store)
    assert store.acquire_refresh_lease("alice", "a", NOW, lease_seconds=30)
    assert not store.acquire_refresh_lease("alice", "b", NOW + 29)
    assert store.acquire_refresh_lease("alice", "b", NOW + 30)  # expired: taken over
    assert not store.acquire_refresh_lease("alice", "a", NOW + 31)


def test_lease_owner_may_reacquire_and_extend(
    store: TokenStore, dynamodb: Any, tables: dict[str, str]
) -> None:
    save(store)
    assert store.acquire_refresh_lease("alice", "a", NOW, lease_seconds=30)
    assert store.acquire_refresh_lease("alice", "a", NOW + 20, lease_seconds=30)
    item = raw_item(dynamodb, tables["tokens"])
    assert (item["lease_owner"]["S"], item["lease_until"]["N"]) == ("a", str(NOW + 50))
    assert not store.acquire_refresh_lease("alice", "b", NOW + 40)


def test_lease_on_an_account_without_tokens_is_not_found(store: TokenStore) -> None:
    with pytest.raises(NotFoundError, match="no stored tokens"):
        store.acquire_refresh_lease("ghost", "a", NOW)


def test_lease_arguments_are_checked(store: TokenStore) -> None:
    save(store)
    with pytest.raises(ValueError):
        store.acquire_refresh_lease("alice", "", NOW)
    with pytest.raises(ValueError):
        store.acquire_refresh_lease("alice", "a", NOW, lease_seconds=0)


def test_release_lease(store: TokenStore) -> None:
    save(store)
    assert store.acquire_refresh_lease("alice", "a", NOW)
    assert not store.release_lease("alice", "b")
    assert not store.acquire_refresh_lease("alice", "b", NOW)
    assert store.release_lease("alice", "a")
    assert not store.release_lease("alice", "a")
    assert store.acquire_refresh_lease("alice", "b", NOW)


def test_release_lease_of_unknown_account_is_false(store: TokenStore) -> None:
    assert not store.release_lease("ghost", "a")


# --- replace_after_refresh ------------------------------------------------------------------------


def test_refresh_stores_new_tokens_and_clears_the_lease(
    store: TokenStore, dynamodb: Any, tables: dict[str, str]
) -> None:
    version = save(store)
    assert store.acquire_refresh_lease("alice", "w1", NOW)
    assert refresh(store, version=version, owner="w1") == version + 1
    tokens = store.load("alice")
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token, tokens.version) == (ACCESS + "2", REFRESH + "2", 2)
    assert tokens.scopes == ["user.info.basic", "video.publish", "video.upload"]
    assert tokens.access_expires_at == NOW + 10 + 86_400
    assert tokens.open_id == "open-alice"  # kept from connect
    item = raw_item(dynamodb, tables["tokens"])
    assert "lease_owner" not in item
    assert "lease_until" not in item
    assert store.acquire_refresh_lease("alice", "w2", NOW + 11)


def test_refresh_with_a_stale_version_conflicts(store: TokenStore) -> None:
    version = save(store)
    assert store.acquire_refresh_lease("alice", "w1", NOW)
    with pytest.raises(ConflictError, match="version 0"):
        refresh(store, version=version - 1, owner="w1")
    tokens = store.load("alice")
    assert tokens is not None
    assert (tokens.access_token, tokens.version) == (ACCESS, version)


def test_refresh_without_the_lease_conflicts(store: TokenStore) -> None:
    version = save(store)
    with pytest.raises(ConflictError):
        refresh(store, version=version, owner="w1")
    assert store.acquire_refresh_lease("alice", "w2", NOW)
    with pytest.raises(ConflictError, match="lease"):
        refresh(store, version=version, owner="w1")


def test_a_stolen_lease_makes_the_slow_refresher_lose(store: TokenStore) -> None:
    version = save(store)
    assert store.acquire_refresh_lease("alice", "slow", NOW, lease_seconds=30)
    # "slow" stalls past its lease; "fast" takes over and refreshes first.
    assert store.acquire_refresh_lease("alice", "fast", NOW + 31)
    assert refresh(store, version=version, owner="fast", suffix="-fast", now=NOW + 32) == version + 1
    with pytest.raises(ConflictError):
        refresh(store, version=version, owner="slow", suffix="-slow", now=NOW + 33)
    tokens = store.load("alice")
    assert tokens is not None
    assert tokens.refresh_token == REFRESH + "-fast"


def test_an_expired_lease_nobody_took_still_lets_its_owner_store(store: TokenStore) -> None:
    # TikTok has already spent the old refresh token: the new one must be kept if nobody took over.
    version = save(store)
    assert store.acquire_refresh_lease("alice", "w1", NOW, lease_seconds=30)
    assert refresh(store, version=version, owner="w1", now=NOW + 300) == version + 1


def test_a_reconnect_during_a_refresh_wins(store: TokenStore) -> None:
    version = save(store)
    assert store.acquire_refresh_lease("alice", "w1", NOW)
    save(store, access="act.reconnected-000000000", refresh="rft.reconnected-000000000")
    with pytest.raises(ConflictError):
        refresh(store, version=version, owner="w1")
    tokens = store.load("alice")
    assert tokens is not None
    assert tokens.access_token == "act.reconnected-000000000"


def test_refresh_after_delete_conflicts_and_says_so(store: TokenStore) -> None:
    version = save(store)
    assert store.acquire_refresh_lease("alice", "w1", NOW)
    store.delete("alice")
    with pytest.raises(ConflictError, match="deleted"):
        refresh(store, version=version, owner="w1")
    assert store.load("alice") is None


def test_conflict_messages_hold_no_token(store: TokenStore) -> None:
    version = save(store)
    with pytest.raises(ConflictError) as caught:
        refresh(store, version=version, owner="w1")
    assert ACCESS not in str(caught.value)
    assert REFRESH not in str(caught.value)


def test_delete_is_idempotent(store: TokenStore) -> None:
    save(store)
    store.delete("alice")
    store.delete("alice")
    assert store.load("alice") is None

"""An account's TikTok tokens (table `tokens`, docs/data-model.md), encrypted with KMS.

The access and refresh tokens are stored only as a KMS ciphertext bound to the account by its
encryption context, so a ciphertext copied onto another account's item does not decrypt. TikTok
rotates the refresh token on every refresh, so refreshes are serialised per account (OA-5): a caller
takes the refresh lease, refreshes, and stores the result with a write conditional on both the
version it read and still owning the lease. Token values never appear in a repr, an error or a log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from functions.store.clients import aws_client
from functions.store.dynamo_values import from_item
from functions.store.errors import ConflictError, NotFoundError, StoreError
from functions.store.expressions import Expression
from functions.store.table import TableStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

TOKEN_PURPOSE = "tiktok-tokens"  # noqa: S105  # nosec B105
DEFAULT_LEASE_SECONDS = 30


class TokenGrant(TypedDict):
    """What TikTok's token endpoint granted: stored encrypted (the tokens) and in the clear (the rest)."""

    access_token: str
    refresh_token: str
    scopes: list[str]
    access_expires_at: int
    refresh_expires_at: int


@dataclass(frozen=True, repr=False)
class StoredTokens:
    account_id: str
    access_token: str
    refresh_token: str
    open_id: str
    scopes: list[str]
    access_expires_at: int
    refresh_expires_at: int
    version: int

    def __repr__(self) -> str:
        return (
            f"StoredTokens(account_id={self.account_id!r}, access_token=<redacted>, "
            f"refresh_token=<redacted>, open_id={self.open_id!r}, scopes={self.scopes!r}, "
            f"access_expires_at={self.access_expires_at}, refresh_expires_at={self.refresh_expires_at}, "
            f"version={self.version})"
        )

    __str__ = __repr__


def encryption_context(account_id: str) -> dict[str, str]:
    return {"account_id": account_id, "purpose": TOKEN_PURPOSE}


class TokenStore(TableStore):
    def __init__(
        self,
        table: str,
        key_id: str,
        client: DynamoDBClient | None = None,
        kms: KMSClient | None = None,
    ) -> None:
        if not key_id:
            raise ValueError("TokenStore needs the KMS key id that encrypts tokens")
        super().__init__(table, client)
        self.key_id = key_id
        self._kms_client = kms

    @property
    def _kms(self) -> KMSClient:
        self._kms_client = self._kms_client or aws_client("kms")  # made on first use, not at import
        return self._kms_client

    def save(
        self,
        account_id: str,
        *,
        open_id: str,
        now: int,
        **grant: Unpack[TokenGrant],
    ) -> int:
        """Store tokens from a fresh consent (connect); returns the new version.

        Unconditional, and it drops any refresh lease: a refresh running on the old grant then fails
        its conditional write instead of overwriting the tokens the creator just granted.
        """
        expr = self._token_fields(account_id, now=now, **grant)
        expr.set("open_id", open_id)
        version = expr.name("version")
        expr.set_raw(f"{version} = if_not_exists({version}, {expr.value(0)}) + {expr.value(1)}")
        expr.remove("lease_owner").remove("lease_until")
        response = self._db.update_item(
            TableName=self.table,
            Key={"account_id": {"S": account_id}},
            ReturnValues="UPDATED_NEW",
            **expr.params(),
        )
        return int(response["Attributes"]["version"]["N"])

    def load(self, account_id: str) -> StoredTokens | None:
        """The account's current tokens, decrypted; None when the account has none."""
        if not account_id:
            return None
        response = self._db.get_item(
            TableName=self.table, Key={"account_id": {"S": account_id}}, ConsistentRead=True
        )
        raw = response.get("Item")
        if not raw:
            return None
        ciphertext = raw.get("ciphertext", {}).get("B")
        item = from_item({k: v for k, v in raw.items() if k != "ciphertext"})
        if not ciphertext:
            raise StoreError(f"the token item of {account_id!r} holds no ciphertext")
        secrets = self._decrypt(account_id, bytes(ciphertext))
        return StoredTokens(
            account_id=account_id,
            access_token=secrets["access_token"],
            refresh_token=secrets["refresh_token"],
            open_id=item.get("open_id", ""),
            scopes=list(item.get("scopes", [])),
            access_expires_at=int(item.get("access_expires_at", 0)),
            refresh_expires_at=int(item.get("refresh_expires_at", 0)),
            version=int(item.get("version", 0)),
        )

    def acquire_refresh_lease(
        self, account_id: str, owner: str, now: int, lease_seconds: int = DEFAULT_LEASE_SECONDS
    ) -> bool:
        """Take (or extend) the right to refresh this account's tokens for `lease_seconds`.

        True when `owner` now holds the lease: there was none, it had expired, or `owner` held it.
        False when another owner holds a live lease. NotFoundError when the account has no tokens.
        """
        if not owner:
            raise ValueError("a lease owner must be named")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        expr = Expression()
        expr.set("lease_owner", owner).set("lease_until", now + lease_seconds)
        owner_name, until_name = expr.name("lease_owner"), expr.name("lease_until")
        condition = (
            f"attribute_exists({expr.name('account_id')}) AND (attribute_not_exists({owner_name})"
            f" OR {until_name} <= {expr.value(now)} OR {owner_name} = {expr.value(owner)})"
        )
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"account_id": {"S": account_id}},
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            if not self._exists(account_id):
                raise NotFoundError(f"account {account_id!r} has no stored tokens") from None
            return False
        return True

    def replace_after_refresh(
        self,
        account_id: str,
        *,
        expected_version: int,
        owner: str,
        now: int,
        **grant: Unpack[TokenGrant],
    ) -> int:
        """Store refreshed tokens and release the lease; returns the new version.

        Conditional on the version read before refreshing and on `owner` still holding the lease
        (even an expired one: the old refresh token is already spent at TikTok, so the new one must
        be kept unless someone else has taken over). ConflictError otherwise.
        """
        expr = self._token_fields(account_id, now=now, **grant)
        version_name = expr.name("version")
        expr.set_raw(f"{version_name} = {version_name} + {expr.value(1)}")
        expr.remove("lease_owner").remove("lease_until")
        condition = (
            f"{version_name} = {expr.value(expected_version)}"
            f" AND {expr.name('lease_owner')} = {expr.value(owner)}"
        )
        try:
            response = self._db.update_item(
                TableName=self.table,
                Key={"account_id": {"S": account_id}},
                ReturnValues="UPDATED_NEW",
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            state = "were deleted" if not self._exists(account_id) else "changed or the lease was lost"
            raise ConflictError(
                f"refreshed tokens for {account_id!r} not stored: the tokens {state} since version "
                f"{expected_version} was read by {owner!r}"
            ) from None
        return int(response["Attributes"]["version"]["N"])

    def release_lease(self, account_id: str, owner: str) -> bool:
        """Give the lease back after a failed refresh; False when `owner` did not hold it."""
        expr = Expression().remove("lease_owner").remove("lease_until")
        condition = f"{expr.name('lease_owner')} = {expr.value(owner)}"
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"account_id": {"S": account_id}},
                **expr.params(condition=condition),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, account_id: str) -> None:
        """Forget the tokens (authorization removed or account disconnected); idempotent."""
        self._db.delete_item(TableName=self.table, Key={"account_id": {"S": account_id}})

    def _token_fields(
        self,
        account_id: str,
        *,
        now: int,
        **grant: Unpack[TokenGrant],
    ) -> Expression:
        access_token, refresh_token = grant["access_token"], grant["refresh_token"]
        if not access_token or not refresh_token:
            raise ValueError("both an access token and a refresh token are required")
        expr = Expression()
        expr.set("ciphertext", self._encrypt(account_id, access_token, refresh_token))
        expr.set("scopes", [str(s) for s in grant["scopes"]])
        expr.set("access_expires_at", int(grant["access_expires_at"]))
        expr.set("refresh_expires_at", int(grant["refresh_expires_at"]))
        expr.set("updated_at", int(now))
        return expr

    def _encrypt(self, account_id: str, access_token: str, refresh_token: str) -> bytes:
        plaintext = json.dumps(
            {"access_token": access_token, "refresh_token": refresh_token}, sort_keys=True
        ).encode()
        response = self._kms.encrypt(
            KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=encryption_context(account_id)
        )
        return bytes(response["CiphertextBlob"])

    def _decrypt(self, account_id: str, ciphertext: bytes) -> dict[str, str]:
        try:
            response = self._kms.decrypt(
                KeyId=self.key_id, CiphertextBlob=ciphertext, EncryptionContext=encryption_context(account_id)
            )
        except (self._kms.exceptions.InvalidCiphertextException, self._kms.exceptions.IncorrectKeyException):
            raise StoreError(
                f"the tokens of {account_id!r} do not decrypt with their encryption context "
                "and key (the item was altered, or copied from another account or key)"
            ) from None
        data: Any = json.loads(response["Plaintext"])
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("access_token", "refresh_token")
        ):
            raise StoreError(f"the decrypted tokens of {account_id!r} are not in the expected shape")
        return {"access_token": data["access_token"], "refresh_token": data["refresh_token"]}

    def _exists(self, account_id: str) -> bool:
        response = self._db.get_item(
            TableName=self.table,
            Key={"account_id": {"S": account_id}},
            ConsistentRead=True,
            ProjectionExpression="account_id",
        )
        return "Item" in response

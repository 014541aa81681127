"""DynamoDB tables of docs/data-model.md and the customer-managed keys that protect them."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from constructs import Construct

from functions.settings import Env

S = ddb.AttributeType.STRING
N = ddb.AttributeType.NUMBER


class Tables(Construct):
    """Accounts, tokens, OAuth state, posts, quota and idempotency tables.

    `data_key` encrypts every table at rest. `token_key` encrypts the TikTok tokens inside the tokens
    table (application-level encryption); only the functions that call TikTok are granted its use.
    """

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.data_key = kms.Key(
            self,
            "DataKey",
            enable_key_rotation=True,
            description="tiktok-publisher tables at rest",
            removal_policy=removal_policy,
            pending_window=Duration.days(7),
        )
        self.token_key = kms.Key(
            self,
            "TokenKey",
            enable_key_rotation=True,
            description="tiktok-publisher TikTok tokens",
            removal_policy=removal_policy,
            pending_window=Duration.days(7),
        )
        self._removal_policy = removal_policy

        self.accounts = self._table("Accounts", "account_id")
        self.accounts.add_global_secondary_index(
            index_name="by_open_id", partition_key=ddb.Attribute(name="open_id", type=S)
        )
        self.tokens = self._table("Tokens", "account_id")
        self.oauth_state = self._table("OAuthState", "state_hash", ttl="expires_at")
        self.posts = self._table("Posts", "post_id")
        self.posts.add_global_secondary_index(
            index_name="by_publish_id", partition_key=ddb.Attribute(name="publish_id", type=S)
        )
        self.posts.add_global_secondary_index(
            index_name="by_account",
            partition_key=ddb.Attribute(name="account_id", type=S),
            sort_key=ddb.Attribute(name="created_at", type=N),
        )
        # Sparse: only published posts, and posts with a snapshot to take. A read through them is as
        # large as the account's recent work, not its whole history (bench/README.md, "scale").
        self.posts.add_global_secondary_index(
            index_name="by_account_published",
            partition_key=ddb.Attribute(name="account_id", type=S),
            sort_key=ddb.Attribute(name="published_at", type=N),
        )
        self.posts.add_global_secondary_index(
            index_name="by_account_snapshot_due",
            partition_key=ddb.Attribute(name="account_id", type=S),
            sort_key=ddb.Attribute(name="next_snapshot_at", type=N),
        )
        self.quota = self._table("Quota", "pk", sort_key="sk")
        self.idempotency = self._table("Idempotency", "id", ttl="expiration")

    def _table(
        self, name: str, key: str, *, sort_key: str | None = None, ttl: str | None = None
    ) -> ddb.Table:
        return ddb.Table(
            self,
            name,
            partition_key=ddb.Attribute(name=key, type=S),
            sort_key=ddb.Attribute(name=sort_key, type=S) if sort_key else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.data_key,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=ttl,
            removal_policy=self._removal_policy,
        )

    def environment(self) -> dict[str, str]:
        return {
            Env.ACCOUNTS_TABLE: self.accounts.table_name,
            Env.TOKENS_TABLE: self.tokens.table_name,
            Env.OAUTH_STATE_TABLE: self.oauth_state.table_name,
            Env.POSTS_TABLE: self.posts.table_name,
            Env.QUOTA_TABLE: self.quota.table_name,
            Env.IDEMPOTENCY_TABLE: self.idempotency.table_name,
            Env.TOKEN_KEY_ID: self.token_key.key_arn,
        }

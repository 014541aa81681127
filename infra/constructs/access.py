"""What a function may do, named per resource, and the IAM statements that grant exactly that.

FUNCTION_SPECS (functions.py) names each function's needs with this vocabulary; `FunctionAccess` turns them
into statements on the function's role: the DynamoDB actions per table and index, the KMS uses with the
conditions that tie them to their purpose, the secrets, the media objects, the queues and the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from functions.posting.repair import DERIVED_PREFIX
from functions.settings import Env
from functions.store.tokens import TOKEN_PURPOSE
from infra.constructs.tables import Tables

# DynamoDB actions, as a spec names them per table; "Query@by_account" queries that index.
GET, PUT, UPDATE, DELETE, QUERY, SCAN = "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"

# Capabilities a spec may name besides tables (names of needs, not credentials: hence the S105 waivers).
# kms:Encrypt and kms:Decrypt with the token key, for the tokens only (by their encryption context):
TOKEN_ENCRYPT = "token_encrypt"  # noqa: S105  # nosec B105
TOKEN_DECRYPT = "token_decrypt"  # noqa: S105  # nosec B105
# The TikTok app's client key and secret:
APP_SECRET = "app_secret"  # noqa: S105  # nosec B105
REVIEW_LINK_KEY = "review_link_key"  # the key that signs and checks review links
MEDIA_SIGNING_KEY = "media_signing_key"  # CloudFront's signing key for pull URLs and previews
MEDIA_KEY_MAKER = "media_key_maker"  # writes that key when the stack deploys (the key pair's custom resource)
MEDIA_READ = "media_read"  # s3:GetObject under posts/ (the current version)
MEDIA_READ_VERSION = "media_read_version"  # s3:GetObjectVersion under posts/ (a named version)
DERIVED_READ = "derived_read"  # s3:GetObjectVersion under derived/ (a repaired copy, by its version)
DERIVED_WRITE = "derived_write"  # s3:PutObject (multipart) and s3:AbortMultipartUpload under derived/
EVENTS = "events"  # EventBridge PutEvents on the default bus
WEBHOOK_SEND = "webhook_send"  # enqueue a verified webhook
UPLOADS_CONSUME = "uploads_consume"  # the event source mapping of the uploads queue
WEBHOOKS_CONSUME = "webhooks_consume"  # the event source mapping of the webhooks queue
START_EXECUTION = "start_execution"
STOP_EXECUTION = "stop_execution"
TASK_SUCCESS = "task_success"  # answer the publishing workflow's task tokens (resume a waiting post)
TASK_FAILURE = "task_failure"
METRICS_WRITE = "metrics_write"  # s3:PutObject under metrics/ (the snapshots Athena reads)
SCHEDULE = "schedule"  # one-off EventBridge Scheduler schedules of the work after publishing (granted later)


@dataclass(frozen=True)
class TableNeed:
    table: str  # as Tables names it: accounts, tokens, oauth_state, posts, quota, idempotency
    actions: frozenset[str]


def table(name: str, *actions: str) -> TableNeed:
    return TableNeed(name, frozenset(actions))


Need = TableNeed | str

# What every TikTok call needs for the creator's access token (functions/accounts/tokens.py): the account,
# its tokens (a refresh writes both, under a lease on the tokens item), the token key both ways, the app secret.
ACCESS_TOKENS: tuple[Need, ...] = (
    table("accounts", GET, UPDATE),
    table("tokens", GET, UPDATE),
    TOKEN_DECRYPT,
    TOKEN_ENCRYPT,
    APP_SECRET,
)
# The per-token request budgets of TikTok's rate limits (functions/posting/rate_budget.py).
RATE_BUDGET: tuple[Need, ...] = (table("quota", QUERY, UPDATE),)
# The post record: read it, move it (every conditional write reads the item when its condition fails).
POST_RECORD: tuple[Need, ...] = (table("posts", GET, UPDATE),)


@dataclass
class StackResources:
    """What the functions' grants point at (the review link key and the media signing secret are made later)."""

    tables: Tables
    bucket: s3.IBucket
    app_secret: secretsmanager.ISecret
    webhook_queue: sqs.IQueue
    uploads_queue: sqs.IQueue
    state_machine_name: str
    review_link_key: secretsmanager.ISecret | None = None


class FunctionAccess:
    """Adds to a function's role the statements its needs name, and nothing else."""

    def __init__(self, resources: StackResources) -> None:
        self.r = resources

    def grant(
        self, fn: lambda_.Function, tables: Mapping[str, frozenset[str]], capabilities: frozenset[str]
    ) -> None:
        for name, actions in sorted(tables.items()):
            self._table(fn, name, actions)
        if tables:
            # DynamoDB opens a table encrypted with a customer managed key with the caller's permission.
            self._decrypt_via(fn, self.r.tables.data_key.key_arn, "dynamodb")
        for capability in sorted(capabilities):
            self._capability(fn, capability)
        secrets = [s for c, s in self._secrets().items() if c in capabilities and s is not None]
        if secrets:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=[s.secret_arn for s in secrets]
                )
            )
            # Every secret of the stack is encrypted with the token key.
            self._decrypt_via(fn, self.r.tables.token_key.key_arn, "secretsmanager")
        if REVIEW_LINK_KEY in capabilities and self.r.review_link_key is not None:
            fn.add_environment(Env.REVIEW_LINK_KEY_ARN, self.r.review_link_key.secret_arn)

    def grant_secret(self, fn: lambda_.Function, secret: secretsmanager.ISecret) -> None:
        """A secret made after the functions (the media signing key); encrypted with the token key too."""
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn])
        )
        self._decrypt_via(fn, self.r.tables.token_key.key_arn, "secretsmanager")

    def grant_secret_write(self, fn: lambda_.Function, secret: secretsmanager.ISecret) -> None:
        """Write a new value of `secret` (Secrets Manager asks KMS for a data key on the caller's behalf)."""
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:PutSecretValue"], resources=[secret.secret_arn])
        )
        region = Stack.of(fn).region
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"],
                resources=[self.r.tables.token_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            )
        )

    def _secrets(self) -> dict[str, secretsmanager.ISecret | None]:
        return {APP_SECRET: self.r.app_secret, REVIEW_LINK_KEY: self.r.review_link_key}

    def _table(self, fn: lambda_.Function, name: str, actions: frozenset[str]) -> None:
        table = getattr(self.r.tables, name)
        on_table = sorted(a for a in actions if "@" not in a)
        indexes = sorted(a.split("@", 1)[1] for a in actions if a.startswith(f"{QUERY}@"))
        unknown = sorted(a for a in actions if "@" in a and not a.startswith(f"{QUERY}@"))
        if unknown:
            raise ValueError(f"{fn.node.id}: only Query names an index, not {unknown}")
        if on_table:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=[f"dynamodb:{a}" for a in on_table], resources=[table.table_arn])
            )
        if indexes:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{i}" for i in indexes]
                )
            )

    def _decrypt_via(self, fn: lambda_.Function, key_arn: str, service: str) -> None:
        region = Stack.of(fn).region
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
            )
        )

    def _capability(self, fn: lambda_.Function, capability: str) -> None:
        statement = self._statement(fn, capability)
        if statement is not None:
            fn.add_to_role_policy(statement)

    def _statement(self, fn: lambda_.Function, capability: str) -> iam.PolicyStatement | None:  # noqa: PLR0911 - a branch per capability
        r = self.r
        if capability in (TOKEN_ENCRYPT, TOKEN_DECRYPT):
            action = "kms:Encrypt" if capability == TOKEN_ENCRYPT else "kms:Decrypt"
            return iam.PolicyStatement(
                actions=[action],
                resources=[r.tables.token_key.key_arn],
                conditions={"StringEquals": {"kms:EncryptionContext:purpose": TOKEN_PURPOSE}},
            )
        if capability in (MEDIA_READ, MEDIA_READ_VERSION):
            action = "s3:GetObject" if capability == MEDIA_READ else "s3:GetObjectVersion"
            return iam.PolicyStatement(actions=[action], resources=[r.bucket.arn_for_objects("posts/*")])
        if capability == DERIVED_READ:
            return iam.PolicyStatement(
                actions=["s3:GetObjectVersion"], resources=[r.bucket.arn_for_objects(f"{DERIVED_PREFIX}*")]
            )
        if capability == DERIVED_WRITE:
            # A multipart upload's create, parts and completion are s3:PutObject; its abort has its own name.
            return iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[r.bucket.arn_for_objects(f"{DERIVED_PREFIX}*")],
            )
        if capability == EVENTS:
            stack = Stack.of(fn)
            bus = f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default"
            return iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus])
        if capability == WEBHOOK_SEND:
            return iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[r.webhook_queue.queue_arn])
        if capability in (UPLOADS_CONSUME, WEBHOOKS_CONSUME):
            queue = r.uploads_queue if capability == UPLOADS_CONSUME else r.webhook_queue
            # What Lambda's SQS poller calls with the function's role.
            actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
            return iam.PolicyStatement(actions=actions, resources=[queue.queue_arn])
        if capability in _WORKFLOW_ACTIONS:
            return iam.PolicyStatement(
                actions=[_WORKFLOW_ACTIONS[capability]], resources=[self._workflow_arn(fn, capability)]
            )
        if capability == METRICS_WRITE:
            return iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[r.bucket.arn_for_objects("metrics/*")]
            )
        if capability == SCHEDULE:
            return None  # the scheduler's role exists only later: infra/constructs/after_publishing.py
        if capability in (APP_SECRET, REVIEW_LINK_KEY, MEDIA_SIGNING_KEY, MEDIA_KEY_MAKER):
            return None  # secrets: granted together in `grant`, the media signing key once it exists
        raise ValueError(f"{fn.node.id}: unknown capability {capability!r}")

    def _workflow_arn(self, fn: lambda_.Function, capability: str) -> str:
        """The publishing state machine (or its executions), by name: the machine invokes some of these
        functions, so a reference to it would be a dependency cycle (docs/decisions.md)."""
        if capability == STOP_EXECUTION:  # any execution of the machine (named by post id at run time)
            return f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:{self.r.state_machine_name}:*"
        return Stack.of(fn).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.r.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )


_WORKFLOW_ACTIONS = {
    START_EXECUTION: "states:StartExecution",
    STOP_EXECUTION: "states:StopExecution",
    TASK_SUCCESS: "states:SendTaskSuccess",
    TASK_FAILURE: "states:SendTaskFailure",
}

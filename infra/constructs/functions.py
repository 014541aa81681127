"""Every Lambda function: one shared code asset and dependency layer, one spec per function, least privilege.

A function's permissions follow from the capabilities named in its spec, so "who may read the tokens" is
answered by reading FUNCTION_SPECS, not by searching the stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import bundling
from infra.config import DeploymentConfig
from infra.constructs.tables import Tables

# Capabilities a spec may name.
TOKENS = "tokens"  # decrypt/encrypt and read/write TikTok tokens; TikTok app credentials
ACCOUNTS = "accounts"
OAUTH_STATE = "oauth_state"
POSTS = "posts"
QUOTA = "quota"
IDEMPOTENCY = "idempotency"
MEDIA_READ = "media_read"
EVENTS = "events"
APP_CREDENTIALS = "app_credentials"  # the TikTok app credentials alone (the webhook verifies signatures)
WEBHOOK_QUEUE = "webhook_queue"
REVIEW_LINKS = "review_links"  # the key that signs and checks review links
TASK_ANSWER = "task_answer"  # answer the publishing workflow's task tokens (resume a waiting post)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    capabilities: frozenset[str]
    memory_mb: int = 512
    timeout_seconds: int = 30

    @property
    def handler(self) -> str:
        return f"functions.handlers.{self.name}.handler"


def _spec(
    name: str, description: str, *caps: str, memory_mb: int = 512, timeout_seconds: int = 30
) -> FunctionSpec:
    return FunctionSpec(name, description, frozenset(caps), memory_mb, timeout_seconds)


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    _spec("oauth", "GET /connect and GET /oauth/callback", TOKENS, ACCOUNTS, OAUTH_STATE, QUOTA),
    _spec(
        "api", "Posts and accounts management API", TOKENS, ACCOUNTS, POSTS, QUOTA, MEDIA_READ, IDEMPOTENCY
    ),
    _spec(
        "webhook",
        "POST /webhooks/tiktok: verify and enqueue",
        APP_CREDENTIALS,
        WEBHOOK_QUEUE,
        memory_mb=256,
        timeout_seconds=10,
    ),
    _spec(
        "webhook_processor",
        "Apply TikTok webhook events to posts and accounts",
        ACCOUNTS,
        POSTS,
        QUOTA,
        IDEMPOTENCY,
        TOKENS,
        EVENTS,
        timeout_seconds=60,
    ),
    _spec(
        "start_post",
        "Start one workflow per new object under posts/",
        ACCOUNTS,
        POSTS,
        MEDIA_READ,
        IDEMPOTENCY,
        EVENTS,
        timeout_seconds=60,
    ),
    _spec(
        "prepare",
        "Workflow: read and validate the post against creator_info",
        TOKENS,
        ACCOUNTS,
        POSTS,
        QUOTA,
        MEDIA_READ,
        timeout_seconds=60,
    ),
    _spec(
        "reserve_quota", "Workflow: reserve posting quota or name the time to wait", ACCOUNTS, POSTS, QUOTA
    ),
    _spec(
        "init_post",
        "Workflow: the one TikTok init call",
        TOKENS,
        ACCOUNTS,
        POSTS,
        QUOTA,
        MEDIA_READ,
        timeout_seconds=60,
    ),
    _spec(
        "upload_chunks",
        "Workflow: stream the media from S3 to TikTok's upload URL",
        TOKENS,
        ACCOUNTS,
        POSTS,
        MEDIA_READ,
        memory_mb=1024,
        timeout_seconds=900,
    ),
    _spec("register_wait", "Workflow: keep the task token until TikTok reports the outcome", POSTS),
    _spec(
        "check_status",
        "Workflow: poll TikTok's status when no webhook came",
        TOKENS,
        ACCOUNTS,
        POSTS,
        QUOTA,
        timeout_seconds=60,
    ),
    _spec("finish", "Workflow: record the outcome and emit the event", ACCOUNTS, POSTS, QUOTA, EVENTS),
    _spec(
        "register_review",
        "Workflow: park a post for review, issue its signed review link, announce it",
        POSTS,
        EVENTS,
        REVIEW_LINKS,
        TASK_ANSWER,
        memory_mb=256,
    ),
    _spec(
        "review",
        "GET and POST /review/{token}: the review page, with fresh creator_info",
        TOKENS,
        ACCOUNTS,
        POSTS,
        QUOTA,
        MEDIA_READ,
        REVIEW_LINKS,
        TASK_ANSWER,
    ),
)


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Tables,
        media_bucket: s3.IBucket,
        app_secret: secretsmanager.ISecret,
        webhook_queue: sqs.IQueue,
        environment: dict[str, str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._tables = tables
        self._bucket = media_bucket
        self._secret = app_secret
        self._webhook_queue = webhook_queue
        # Read here rather than passed in: the review settings concern these functions and the workflow only.
        config = DeploymentConfig.from_context(self)
        review_environment = {
            "REVIEW_ALL_DIRECT_POSTS": "true" if config.review_all_direct_posts else "false",
            "REVIEW_EXPIRY_SECONDS": str(config.review_expiry_seconds),
        }
        # Signs review links (HMAC-SHA256). Rotating it by hand (any new random value) voids open links only.
        self.review_link_key = secretsmanager.Secret(
            self,
            "ReviewLinkKey",
            description="tiktok-publisher: the key that signs review links (random; never leaves the functions)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            encryption_key=tables.token_key,
            removal_policy=removal_policy,
        )
        code = bundling.code_asset()
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=bundling.dependency_layer_code(),
            compatible_runtimes=[bundling.RUNTIME],
            compatible_architectures=[bundling.ARCHITECTURE],
            description="tiktok-publisher runtime dependencies (from uv.lock)",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.by_name: dict[str, lambda_.Function] = {}
        for spec in FUNCTION_SPECS:
            log_group = logs.LogGroup(
                self,
                f"{spec.name}Logs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=removal_policy,
            )
            # An explicit role: logs only to the function's own log group (no AWS managed policy).
            role = iam.Role(
                self,
                f"{spec.name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"tiktok-publisher {spec.name}",
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                )
            )
            fn = lambda_.Function(
                self,
                spec.name,
                role=role,
                description=spec.description,
                runtime=bundling.RUNTIME,
                architecture=bundling.ARCHITECTURE,
                code=code,
                handler=spec.handler,
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
                logging_format=lambda_.LoggingFormat.JSON,
                environment={
                    **review_environment,
                    **environment,
                    "POWERTOOLS_SERVICE_NAME": f"tiktok-publisher-{spec.name.replace('_', '-')}",
                    "POWERTOOLS_METRICS_NAMESPACE": "TikTokPublisher",
                },
            )
            self._grant(fn, spec.capabilities)
            self.by_name[spec.name] = fn

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]

    def _grant(self, fn: lambda_.Function, caps: frozenset[str]) -> None:
        t = self._tables
        if TOKENS in caps:
            t.tokens.grant_read_write_data(fn)
            # Tokens are encrypted with KMS Encrypt/Decrypt directly (they are far below 4 KB).
            t.token_key.grant(fn, "kms:Encrypt", "kms:Decrypt")
            self._secret.grant_read(fn)
        if APP_CREDENTIALS in caps:
            self._secret.grant_read(fn)
        if ACCOUNTS in caps:
            t.accounts.grant_read_write_data(fn)
        if OAUTH_STATE in caps:
            t.oauth_state.grant_read_write_data(fn)
        if POSTS in caps:
            t.posts.grant_read_write_data(fn)
        if QUOTA in caps:
            t.quota.grant_read_write_data(fn)
        if IDEMPOTENCY in caps:
            t.idempotency.grant_read_write_data(fn)
        if MEDIA_READ in caps:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[self._bucket.arn_for_objects("posts/*")],
                )
            )
        if EVENTS in caps:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=["events:PutEvents"], resources=[self._event_bus_arn(fn)])
            )
        if WEBHOOK_QUEUE in caps:
            self._webhook_queue.grant_send_messages(fn)
        if REVIEW_LINKS in caps:
            self.review_link_key.grant_read(fn)
            fn.add_environment("REVIEW_LINK_KEY_ARN", self.review_link_key.secret_arn)
        if TASK_ANSWER in caps:
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                    resources=[self._state_machine_arn(fn)],
                )
            )

    @staticmethod
    def _state_machine_arn(fn: lambda_.Function) -> str:
        """The publishing state machine's ARN, by name: the machine invokes some of these functions, so a
        reference to it would be a dependency cycle (docs/decisions.md, "task-token permission by name")."""
        stack = Stack.of(fn)
        name = getattr(stack, "state_machine_name", f"{stack.stack_name}-publish")
        return stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=str(name),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    @staticmethod
    def _event_bus_arn(fn: lambda_.Function) -> str:
        stack = fn.stack
        return f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/default"

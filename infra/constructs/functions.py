"""Every Lambda function: one shared code asset and dependency layer, one spec per function, least privilege.

A function's permissions follow from what its spec names, so "who may read the tokens" is answered by
reading FUNCTION_SPECS, not by searching the stack. Each DynamoDB action is named per table (a query of an
index as `Query@index`), and every other need by a capability below; `tests/local/test_least_privilege.py`
runs every path with each function under its own role and fails on a missing grant or an idle one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.settings import Env
from infra import bundling
from infra.config import DeploymentConfig
from infra.constructs.access import (
    ACCESS_TOKENS,
    APP_SECRET,
    DELETE,
    DERIVED_READ,
    DERIVED_WRITE,
    EVENTS,
    GET,
    MEDIA_KEY_MAKER,
    MEDIA_READ,
    MEDIA_READ_VERSION,
    MEDIA_SIGNING_KEY,
    METRICS_WRITE,
    POST_RECORD,
    PUT,
    QUERY,
    RATE_BUDGET,
    REVIEW_LINK_KEY,
    SCAN,
    SCHEDULE,
    START_EXECUTION,
    STOP_EXECUTION,
    TASK_FAILURE,
    TASK_SUCCESS,
    TOKEN_ENCRYPT,
    UPDATE,
    UPLOADS_CONSUME,
    WEBHOOK_SEND,
    WEBHOOKS_CONSUME,
    FunctionAccess,
    Need,
    StackResources,
    TableNeed,
    table,
)

REPAIR_MEMORY_MB = 3008


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    tables: Mapping[str, frozenset[str]] = field(default_factory=dict)
    capabilities: frozenset[str] = frozenset()
    memory_mb: int = 512
    timeout_seconds: int = 30
    ephemeral_mb: int = 512  # /tmp; Lambda's default
    layers: tuple[str, ...] = ()
    """Dependency groups shipped as layers besides `lambda` (every function's): "repair"."""

    @property
    def handler(self) -> str:
        return f"functions.handlers.{self.name}.handler"


def _spec(
    name: str,
    description: str,
    *needs: Need | tuple[Need, ...],
    memory_mb: int = 512,
    timeout_seconds: int = 30,
    ephemeral_mb: int = 512,
    layers: tuple[str, ...] = (),
) -> FunctionSpec:
    tables: dict[str, set[str]] = {}
    capabilities: set[str] = set()
    for need in _flat(needs):
        if isinstance(need, TableNeed):
            tables.setdefault(need.table, set()).update(need.actions)
        else:
            capabilities.add(need)
    frozen = {t: frozenset(actions) for t, actions in tables.items()}
    return FunctionSpec(
        name, description, frozen, frozenset(capabilities), memory_mb, timeout_seconds, ephemeral_mb, layers
    )


def _flat(needs: Iterable[Need | tuple[Need, ...]]) -> Iterable[Need]:
    for need in needs:
        if isinstance(need, tuple):
            yield from need
        else:
            yield need


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    _spec(
        "oauth",
        "GET /connect and GET /oauth/callback",
        table("oauth_state", PUT, DELETE),
        table("accounts", GET, PUT, "Query@by_open_id"),
        table("tokens", UPDATE),
        TOKEN_ENCRYPT,
        APP_SECRET,
    ),
    _spec(
        "api",
        "Posts and accounts management API",
        ACCESS_TOKENS,  # disconnect revokes at TikTok; cancelling a pull asks TikTok to cancel it
        table("accounts", SCAN, UPDATE),
        table("tokens", DELETE),
        table("quota", QUERY, UPDATE),  # a cancelled post gives back its unused slots
        table("posts", PUT, GET, UPDATE, "Query@by_account"),
        EVENTS,
        START_EXECUTION,
        STOP_EXECUTION,
    ),
    _spec(
        "webhook",
        "POST /webhooks/tiktok: verify and enqueue",
        APP_SECRET,
        WEBHOOK_SEND,
        memory_mb=256,
        timeout_seconds=10,
    ),
    _spec(
        "webhook_processor",
        "Apply TikTok webhook events to posts and accounts",
        table("idempotency", PUT, DELETE),
        POST_RECORD,
        table("posts", "Query@by_publish_id", "Query@by_account"),
        table("quota", QUERY, UPDATE),
        table("accounts", GET, UPDATE, "Query@by_open_id"),
        table("tokens", DELETE),
        EVENTS,
        TASK_SUCCESS,
        TASK_FAILURE,
        WEBHOOKS_CONSUME,
        SCHEDULE,  # an inbox draft the creator posted: its link search and snapshots
        timeout_seconds=60,
    ),
    _spec(
        "start_post",
        "Start one workflow per new object under posts/",
        table("accounts", GET),
        table("posts", PUT, GET, UPDATE),
        MEDIA_READ_VERSION,
        EVENTS,
        START_EXECUTION,
        UPLOADS_CONSUME,
        timeout_seconds=60,
    ),
    _spec(
        "prepare",
        "Workflow: read and validate the post against creator_info",
        POST_RECORD,
        ACCESS_TOKENS,
        RATE_BUDGET,
        MEDIA_READ,
        MEDIA_READ_VERSION,
        timeout_seconds=60,
    ),
    _spec(
        "repair",
        "Workflow: repair media TikTok would reject into a conforming copy under derived/",
        POST_RECORD,
        MEDIA_READ_VERSION,  # the original, as it is (never changed)
        DERIVED_WRITE,  # the copy, by multipart upload
        DERIVED_READ,  # the copy probed again from S3 before it replaces the original
        # 3008 MB: the most every account may set (new accounts are held there; 1.7 vCPUs, which the
        # repair's time budget counts). Peak use measured (bench/repair.py): 250 MB for 1080p, flat in
        # the length; 724 MB for 4K H.265 at 120 fps; 1270 MB for an 8K source scaled to 4096 px.
        memory_mb=REPAIR_MEMORY_MB,
        timeout_seconds=900,
        # /tmp holds the copy while MP4's index is moved to its front: at most 3.6 GB (the plan's bit rate
        # cap keeps it within TikTok's 4 GB), plus audio.
        ephemeral_mb=4096,
        layers=("repair",),
    ),
    _spec(
        "reserve_quota",
        "Workflow: reserve posting quota or name the time to wait",
        POST_RECORD,
        table("quota", QUERY, UPDATE),
        # The creator's public videos posted elsewhere hold daily-cap slots too (video.list).
        ACCESS_TOKENS,
        table("posts", "Query@by_account_published"),  # which of those videos are ours
    ),
    _spec(
        "init_post",
        "Workflow: the one TikTok init call",
        POST_RECORD,
        ACCESS_TOKENS,
        RATE_BUDGET,
        MEDIA_SIGNING_KEY,
        # After TikTok's "not now", video.list again: which of the creator's videos are ours.
        table("posts", "Query@by_account_published"),
        timeout_seconds=60,
    ),
    _spec(
        "upload_chunks",
        "Workflow: stream the media from S3 to TikTok's upload URL",
        POST_RECORD,
        MEDIA_READ_VERSION,
        DERIVED_READ,  # a repaired post sends its copy
        ACCESS_TOKENS,  # an unclear end (403/404 on a chunk) asks TikTok for the upload's status
        RATE_BUDGET,
        memory_mb=1024,
        timeout_seconds=900,
    ),
    _spec(
        "register_wait",
        "Workflow: keep the task token until TikTok reports the outcome",
        POST_RECORD,
        TASK_SUCCESS,
        TASK_FAILURE,
    ),
    _spec(
        "check_status",
        "Workflow: poll TikTok's status when no webhook came",
        POST_RECORD,
        ACCESS_TOKENS,
        RATE_BUDGET,
        timeout_seconds=60,
    ),
    _spec(
        "finish",
        "Workflow: record the outcome and emit the event",
        POST_RECORD,
        table("quota", QUERY, UPDATE),
        table("accounts", GET),  # whether the account may read its public videos (video.list)
        EVENTS,
        SCHEDULE,  # the link search and the snapshots of a published post
    ),
    _spec(
        "after_publish",
        "After publishing: the public post's link and its numbers over time (EventBridge Scheduler)",
        ACCESS_TOKENS,
        RATE_BUDGET,
        # Videos other posts own (the link search); the account's other due snapshots (one batch).
        table("posts", GET, UPDATE, "Query@by_account_published", "Query@by_account_snapshot_due"),
        EVENTS,
        METRICS_WRITE,
        SCHEDULE,
        timeout_seconds=120,
    ),
    _spec(
        "register_review",
        "Workflow: park a post for review, issue its signed review link, announce it",
        POST_RECORD,
        REVIEW_LINK_KEY,
        EVENTS,
        TASK_FAILURE,
        memory_mb=256,
    ),
    _spec(
        "review",
        "GET and POST /review/{token}: the review page, with fresh creator_info",
        POST_RECORD,
        ACCESS_TOKENS,
        RATE_BUDGET,
        REVIEW_LINK_KEY,
        MEDIA_SIGNING_KEY,
        MEDIA_READ_VERSION,  # the preview is a presigned URL of the exact version without a media domain
        DERIVED_READ,  # ... of the repaired copy, for a repaired post
        TASK_SUCCESS,
        TASK_FAILURE,
    ),
    _spec(
        "media_key",
        "Custom resource: the media domain's CloudFront signing key pair, made at deploy time",
        MEDIA_KEY_MAKER,
        memory_mb=256,
        timeout_seconds=60,
    ),
)


class Functions(Construct):
    """The functions of FUNCTION_SPECS, each with its own role holding what its spec names."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: StackResources,
        environment: dict[str, str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # Read here rather than passed in: the review settings concern these functions and the workflow only.
        config = DeploymentConfig.from_context(self)
        review_environment = {
            Env.REVIEW_ALL_DIRECT_POSTS: "true" if config.review_all_direct_posts else "false",
            Env.REVIEW_EXPIRY_SECONDS: str(config.review_expiry_seconds),
        }
        # Signs review links (HMAC-SHA256). Rotating it by hand (any new random value) voids open links only.
        self.review_link_key = secretsmanager.Secret(
            self,
            "ReviewLinkKey",
            description="tiktok-publisher: the key that signs review links (random; never leaves the functions)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            encryption_key=resources.tables.token_key,
            removal_policy=removal_policy,
        )
        resources.review_link_key = self.review_link_key
        self.access = FunctionAccess(resources)
        code = bundling.code_asset()
        self.layer = self._layer("Dependencies", "lambda", "runtime dependencies")
        # Built only when a function needs it: PyAV and Pillow are large and the repair function's alone.
        groups = sorted({group for spec in FUNCTION_SPECS for group in spec.layers})
        self.layers = {
            group: self._layer(f"{group.capitalize()}Dependencies", group, f"{group} dependencies")
            for group in groups
        }
        self.by_name: dict[str, lambda_.Function] = {}
        self.specs = {spec.name: spec for spec in FUNCTION_SPECS}
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
                layers=[self.layer, *(self.layers[group] for group in spec.layers)],
                memory_size=spec.memory_mb,
                ephemeral_storage_size=Size.mebibytes(spec.ephemeral_mb),
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
            self.access.grant(fn, spec.tables, spec.capabilities)
            self.by_name[spec.name] = fn

    def _layer(self, construct_id: str, group: str, what: str) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(
            self,
            construct_id,
            code=bundling.dependency_layer_code(group),
            compatible_runtimes=[bundling.RUNTIME],
            compatible_architectures=[bundling.ARCHITECTURE],
            description=f"tiktok-publisher {what} (from uv.lock)",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.by_name[name]

    def with_capability(self, capability: str) -> list[lambda_.Function]:
        return [self.by_name[name] for name, spec in self.specs.items() if capability in spec.capabilities]

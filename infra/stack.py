"""The stack composes the constructs; each construct owns one concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.posting.media_urls import VERIFICATION_PREFIX
from functions.settings import Env
from infra.config import DeploymentConfig
from infra.constructs.access import (
    MEDIA_KEY_MAKER,
    MEDIA_SIGNING_KEY,
    SCHEDULE,
    START_EXECUTION,
    StackResources,
)
from infra.constructs.after_publishing import AfterPublishing
from infra.constructs.api import HttpApi
from infra.constructs.functions import Functions
from infra.constructs.media_delivery import MediaDelivery
from infra.constructs.observability import Observability
from infra.constructs.queues import QueueWithDlq
from infra.constructs.storage import MediaStorage
from infra.constructs.tables import Tables
from infra.constructs.workflow import PublishWorkflow

# The operator replaces it after the first deploy (README: deploying); never a real credential.
_APP_CREDENTIALS_PLACEHOLDER = '{"client_key": "set-me"}'


class TikTokPublisherStack(Stack):
    @property
    def state_machine_name(self) -> str:
        return f"{self.stack_name}-publish"

    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY

        tables = Tables(self, "Tables", removal_policy=removal)
        uploads = QueueWithDlq(self, "Uploads", visibility_timeout=Duration.seconds(360))
        webhooks = QueueWithDlq(self, "Webhooks", visibility_timeout=Duration.seconds(360))
        storage = MediaStorage(self, "Storage", removal_policy=removal, uploads_queue=uploads.queue)
        app_secret = secretsmanager.Secret(
            self,
            "TikTokApp",
            description="TikTok app credentials: replace client_key and client_secret after the first deploy",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=_APP_CREDENTIALS_PLACEHOLDER,
                generate_string_key="client_secret",
            ),
            encryption_key=tables.token_key,
            removal_policy=removal,
        )

        resources = StackResources(
            tables=tables,
            bucket=storage.bucket,
            app_secret=app_secret,
            webhook_queue=webhooks.queue,
            uploads_queue=uploads.queue,
            state_machine_name=self.state_machine_name,
        )
        functions = Functions(
            self,
            "Functions",
            resources=resources,
            removal_policy=removal,
            environment={
                **tables.environment(),
                Env.MEDIA_BUCKET: storage.bucket.bucket_name,
                Env.TIKTOK_SECRET_ARN: app_secret.secret_arn,
                Env.WEBHOOK_QUEUE_URL: webhooks.queue.queue_url,
                Env.EVENT_BUS_NAME: "default",
                Env.APP_STATUS: config.app_status,
                Env.TIKTOK_API_BASE_URL: config.tiktok_api_base_url,
                Env.TIKTOK_AUTH_BASE_URL: config.tiktok_auth_base_url,
                Env.WEBHOOK_TOLERANCE_SECONDS: str(config.webhook_tolerance_seconds),
            },
        )
        workflow = PublishWorkflow(
            self,
            "Workflow",
            functions=dict(functions.by_name),
            state_machine_name=self.state_machine_name,
            await_timeout=Duration.seconds(config.await_timeout_seconds),
            removal_policy=removal,
        )
        machine = workflow.state_machine
        for fn in functions.with_capability(START_EXECUTION):
            fn.add_environment(Env.STATE_MACHINE_ARN, machine.state_machine_arn)

        AfterPublishing(
            self,
            "AfterPublishing",
            target=functions["after_publish"],
            schedulers=functions.with_capability(SCHEDULE),
            schedule_prefix=self.stack_name,
            snapshot_ages=",".join(str(age) for age in config.snapshot_ages),
        )

        api = HttpApi(self, "Http", functions=dict(functions.by_name), removal_policy=removal)
        for name in ("oauth", "api"):
            functions[name].add_environment(Env.OAUTH_REDIRECT_URI, f"{api.url}oauth/callback")

        functions["start_post"].add_event_source_mapping(
            "UploadsQueue",
            event_source_arn=uploads.queue.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
        )
        functions["webhook_processor"].add_event_source_mapping(
            "WebhooksQueue",
            event_source_arn=webhooks.queue.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
        )

        Observability(
            self,
            "Observability",
            functions=dict(functions.by_name),
            dead_letter_queues={"Uploads": uploads.dlq, "Webhooks": webhooks.dlq},
            state_machine=machine,
            removal_policy=removal,
        )

        (key_maker,) = functions.with_capability(MEDIA_KEY_MAKER)
        media = MediaDelivery(
            self,
            "Media",
            bucket=storage.bucket,
            log_bucket=storage.access_logs,
            key_maker=key_maker,
            domain_name=config.media_domain,
            certificate_arn=config.media_certificate_arn,
            encryption_key=tables.token_key,
            removal_policy=removal,
        )
        functions.access.grant_secret_write(key_maker, media.signing_secret)
        # Not on the key maker: CloudFront's key is made from its answer (a reference back would be a cycle).
        for fn in (f for f in functions.by_name.values() if f is not key_maker):
            fn.add_environment(Env.MEDIA_BASE_URL, media.base_url)
            fn.add_environment(Env.MEDIA_KEY_PAIR_ID, media.key_pair_id)
            fn.add_environment(Env.MEDIA_SIGNING_SECRET_ARN, media.signing_secret.secret_arn)
            fn.add_environment(Env.MEDIA_DOMAIN_VERIFIED, "true" if config.media_domain_verified else "false")
        for fn in functions.with_capability(MEDIA_SIGNING_KEY):  # pull URLs and review-page previews
            functions.access.grant_secret(fn, media.signing_secret)
        CfnOutput(self, "MediaBaseUrl", value=media.base_url)
        CfnOutput(self, "MediaSigningSecretArn", value=media.signing_secret.secret_arn)
        CfnOutput(
            self,
            "MediaVerificationLocation",
            value=f"s3://{storage.bucket.bucket_name}/{VERIFICATION_PREFIX}",
            description="Put the file TikTok's URL-prefix verification gives you here; it is served at MediaBaseUrl/",
        )

        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "ConnectUrl", value=f"{api.url}connect")
        CfnOutput(self, "WebhookUrl", value=f"{api.url}webhooks/tiktok")
        CfnOutput(self, "MediaBucketName", value=storage.bucket.bucket_name)
        CfnOutput(self, "TikTokAppSecretArn", value=app_secret.secret_arn)
        CfnOutput(self, "StateMachineArn", value=machine.state_machine_arn)

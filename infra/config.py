"""Deployment settings read from CDK context (cdk.json or `-c key=value`), with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

APP_STATUSES = ("unaudited", "audited")
STACK_NAME = "TikTokPublisher"
MIN_REVIEW_SECONDS, MAX_REVIEW_SECONDS = 300, 14 * 86_400


def _flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str = "dev"
    app_status: str = "unaudited"
    tiktok_api_base_url: str = "https://open.tiktokapis.com"
    tiktok_auth_base_url: str = "https://www.tiktok.com"
    await_timeout_seconds: int = 600
    webhook_tolerance_seconds: int = 259_200
    # The media domain (CloudFront over the bucket) is always there; its own name and certificate are
    # optional. Once TikTok verified it (the operator says so), videos go by PULL_FROM_URL.
    media_domain: str = ""
    media_certificate_arn: str = ""
    media_domain_verified: bool = False
    # After publishing: the ages (seconds) at which a public post's numbers are read.
    snapshot_ages: tuple[int, ...] = (3600, 86_400, 604_800)
    # The review page: every direct post waits for the creator's approval when true (otherwise only those
    # without an author's privacy level do); a review link, and the wait for it, last this long.
    review_all_direct_posts: bool = False
    review_expiry_seconds: int = 259_200

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentConfig:
        def ctx(key: str, default: object) -> str:
            value = scope.node.try_get_context(key)
            return str(default if value is None else value)

        config = cls(
            stage=ctx("stage", cls.stage),
            app_status=ctx("app_status", cls.app_status).lower(),
            tiktok_api_base_url=ctx("tiktok_api_base_url", cls.tiktok_api_base_url).rstrip("/"),
            tiktok_auth_base_url=ctx("tiktok_auth_base_url", cls.tiktok_auth_base_url).rstrip("/"),
            await_timeout_seconds=int(ctx("await_timeout_seconds", cls.await_timeout_seconds)),
            webhook_tolerance_seconds=int(ctx("webhook_tolerance_seconds", cls.webhook_tolerance_seconds)),
            media_domain=ctx("media_domain", ""),
            media_certificate_arn=ctx("media_certificate_arn", ""),
            media_domain_verified=_flag(ctx("media_domain_verified", "false")),
            snapshot_ages=tuple(
                int(a) for a in ctx("snapshot_ages", "3600,86400,604800").split(",") if a.strip()
            ),
            review_all_direct_posts=_flag(ctx("review_all_direct_posts", "false")),
            review_expiry_seconds=int(ctx("review_expiry_seconds", cls.review_expiry_seconds)),
        )
        if not MIN_REVIEW_SECONDS <= config.review_expiry_seconds <= MAX_REVIEW_SECONDS:
            raise ValueError(
                f"context review_expiry_seconds must be between {MIN_REVIEW_SECONDS} and {MAX_REVIEW_SECONDS} "
                "(a review must end well within the workflow's 30-day limit)"
            )
        if config.media_domain and not config.media_certificate_arn:
            raise ValueError(
                "context media_domain needs media_certificate_arn (an ACM certificate in us-east-1)"
            )
        if config.app_status not in APP_STATUSES:
            raise ValueError(f"context app_status must be one of {APP_STATUSES}, not {config.app_status!r}")
        return config

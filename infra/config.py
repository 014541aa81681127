"""Deployment settings read from CDK context (cdk.json or `-c key=value`), with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

APP_STATUSES = ("unaudited", "audited")


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str = "dev"
    app_status: str = "unaudited"
    tiktok_api_base_url: str = "https://open.tiktokapis.com"
    tiktok_auth_base_url: str = "https://www.tiktok.com"
    await_timeout_seconds: int = 600
    webhook_tolerance_seconds: int = 259_200

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
        )
        if config.app_status not in APP_STATUSES:
            raise ValueError(f"context app_status must be one of {APP_STATUSES}, not {config.app_status!r}")
        return config

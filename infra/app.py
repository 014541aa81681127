"""CDK entry point: `python -m infra.app` (what cdk.json runs). Composes only; makes no AWS calls."""

from __future__ import annotations

import os

import aws_cdk as cdk

from infra.config import STACK_NAME, DeploymentConfig
from infra.nag import apply_nag
from infra.stack import TikTokPublisherStack

# Synth needs no account: an explicit placeholder environment keeps the template free of lookups.
DEFAULT_ENV = cdk.Environment(account="123456789012", region="eu-west-1")


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"), context=context)
    config = DeploymentConfig.from_context(app)
    account = os.environ.get("CDK_DEPLOY_ACCOUNT") or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEPLOY_REGION") or os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else DEFAULT_ENV
    stack = TikTokPublisherStack(app, STACK_NAME, config=config, env=env)
    apply_nag(app, stack)
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()

"""A moto world for handler tests: every table, the token key, the media bucket, the app secret, queues,
and a Wiring whose settings point at them (as the CDK template's environment would)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from moto import mock_aws

from functions import wiring
from functions.settings import Env, Settings
from functions.store.clients import aws_client, reset_clients
from tests.support.aws_tables import create_tables

REGION = "eu-west-1"
BUCKET = "media-bucket"
CLIENT_KEY = "sandbox-client-key"
CLIENT_SECRET = "sandbox-client-secret"


@dataclass
class World:
    settings: Settings
    wiring: wiring.Wiring
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return aws_client(service)


def build_world(**overrides: Any) -> World:
    """Inside mock_aws: create every resource and return settings and wiring for them."""
    tables = create_tables(aws_client("dynamodb"))
    key_id = aws_client("kms").create_key(Description="tokens")["KeyMetadata"]["Arn"]
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secret_arn = aws_client("secretsmanager").create_secret(
        Name="tiktok-app", SecretString=json.dumps({"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})
    )["ARN"]
    queue_url = aws_client("sqs").create_queue(QueueName="webhooks")["QueueUrl"]
    env = {
        Env.ACCOUNTS_TABLE: tables["accounts"],
        Env.TOKENS_TABLE: tables["tokens"],
        Env.OAUTH_STATE_TABLE: tables["oauth_state"],
        Env.POSTS_TABLE: tables["posts"],
        Env.QUOTA_TABLE: tables["quota"],
        Env.IDEMPOTENCY_TABLE: tables["idempotency"],
        Env.TOKEN_KEY_ID: key_id,
        Env.MEDIA_BUCKET: BUCKET,
        Env.TIKTOK_SECRET_ARN: secret_arn,
        Env.WEBHOOK_QUEUE_URL: queue_url,
        Env.EVENT_BUS_NAME: "default",
        Env.OAUTH_REDIRECT_URI: "https://api.example.com/oauth/callback",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    settings = Settings.from_env_dict(env)
    return World(settings=settings, wiring=wiring.Wiring(settings), env=env)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    reset_clients()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        w = build_world()
        for name, value in w.env.items():
            monkeypatch.setenv(name, value)
        wiring.for_settings.cache_clear()
        yield w
    wiring.for_settings.cache_clear()
    reset_clients()


def with_settings(w: World, **changes: Any) -> World:
    settings = replace(w.settings, **changes)
    return World(settings=settings, wiring=wiring.Wiring(settings), env=w.env)

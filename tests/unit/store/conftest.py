"""Fixtures for the store tests: moto in process, every table of docs/data-model.md, a KMS key, a
versioned bucket. Stores under test are built without a client, so they go through aws_client(); the
fixtures use the same cached clients (creating a boto3 client costs tens of milliseconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from functions.store.clients import aws_client, reset_clients
from tests.support.aws_tables import create_tables

REGION = "eu-west-1"
BUCKET = "media-bucket"


@pytest.fixture
def aws() -> Iterator[None]:
    # Clients cached before mock_aws starts would talk to the real endpoints: drop them both ways.
    reset_clients()
    with mock_aws():
        yield
    reset_clients()


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return aws_client("dynamodb")


@pytest.fixture
def tables(dynamodb: Any) -> dict[str, str]:
    return create_tables(dynamodb)


@pytest.fixture
def kms_key(aws: None) -> str:
    kms = aws_client("kms")
    return str(kms.create_key(Description="tiktok tokens")["KeyMetadata"]["KeyId"])


@pytest.fixture
def s3(aws: None) -> Any:
    client = aws_client("s3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client

"""aws_client: one cached client per service, region and endpoint; nothing made at import."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from functions.store import clients
from functions.store.clients import aws_client, reset_clients
from functions.store.posts import PostStore
from tests.unit.store.conftest import REGION


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    reset_clients()
    yield
    reset_clients()


def test_same_service_gives_the_same_client() -> None:
    assert aws_client("dynamodb") is aws_client("dynamodb")
    assert aws_client("dynamodb") is not aws_client("s3")


def test_service_endpoint_variable_is_honoured_and_keys_the_cache(clean_env: pytest.MonkeyPatch) -> None:
    default = aws_client("dynamodb")
    clean_env.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4567")
    local = aws_client("dynamodb")
    assert local is not default
    assert local.meta.endpoint_url == "http://127.0.0.1:4567"
    # Other services are not redirected by DynamoDB's variable.
    assert aws_client("s3").meta.endpoint_url != "http://127.0.0.1:4567"


def test_global_endpoint_variable_is_honoured(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert aws_client("kms").meta.endpoint_url == "http://127.0.0.1:5000"
    assert aws_client("s3").meta.endpoint_url == "http://127.0.0.1:5000"


def test_region_keys_the_cache(clean_env: pytest.MonkeyPatch) -> None:
    first = aws_client("dynamodb")
    assert first.meta.region_name == REGION
    clean_env.setenv("AWS_REGION", "us-east-2")
    second = aws_client("dynamodb")
    assert second is not first
    assert second.meta.region_name == "us-east-2"


def test_reset_clients_forgets_every_client() -> None:
    first = aws_client("dynamodb")
    reset_clients()
    assert aws_client("dynamodb") is not first


def test_concurrent_first_use_creates_one_client() -> None:
    seen: list[Any] = []
    barrier = threading.Barrier(12)

    def grab() -> None:
        barrier.wait()
        seen.append(aws_client("sqs"))

    threads = [threading.Thread(target=grab) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 12
    assert len({id(client) for client in seen}) == 1


def test_a_store_makes_no_client_until_used() -> None:
    PostStore("posts")
    assert clients._clients == {}


def test_importing_the_stores_does_not_import_boto3() -> None:
    # Cold start: handler modules import stores; boto3 costs hundreds of ms and loads on first use.
    code = (
        "import sys\n"
        "import functions.store.accounts, functions.store.tokens, functions.store.oauth_state\n"
        "import functions.store.quota, functions.store.posts, functions.store.dedupe\n"
        "import functions.store.media, functions.store.secrets, functions.store.clients\n"
        "heavy = [m for m in ('boto3', 'botocore', 'aws_lambda_powertools') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    root = clients.__file__.rsplit("/functions/", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""

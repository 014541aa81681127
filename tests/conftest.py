"""Test-wide setup: markers by folder, an offline AWS environment, and UTC everywhere.

Network access is limited to loopback by pytest-socket (`--allow-hosts` in pyproject.toml).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before any test module imports boto3 or Powertools.
os.environ.update(
    {
        "TZ": "UTC",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "TikTokPublisherTest",
        "POWERTOOLS_SERVICE_NAME": "tiktok-publisher-test",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)

ROOT = Path(__file__).resolve().parent.parent
_KIND_BY_FOLDER = {
    "unit": "unit",
    "handlers": "handler",
    "contract": "contract",
    "infra": "infra",
    "integration": "integration",
    "local": "local",
    "cli": "cli",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries the marker of its folder, so `-m unit` etc. select by kind."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        kind = _KIND_BY_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if kind:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthesis of the real CDK app per session (bundling skipped), for the tests that start the
    local stack (tests/local, tests/cli)."""
    from local.runtime import synthesize

    return synthesize(tmp_path_factory.mktemp("local-cdk.out"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch whose environment changes are undone after the test."""
    yield monkeypatch

"""Integration fixtures: a real sandbox HTTP server on loopback, and the moto world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.sandbox import SandboxConfig, SandboxServer
from tests.support.world import CLIENT_KEY, CLIENT_SECRET, world  # noqa: F401 - a fixture

REDIRECT_URI = "https://api.example.com/oauth/callback"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        time_scale=50.0,
        seed=20261126,  # with every reset, injected faults fall the same way: no test depends on luck
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox: SandboxServer) -> SandboxServer:
    sandbox.reset()
    return sandbox

"""Contract-suite fixtures: one sandbox per test module (reset before every test), a webhook receiver
and a media origin on loopback, and a factory for sandboxes with other settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_client import CLIENT_KEY, CLIENT_SECRET, REDIRECT_URI, Api
from sandbox_peers import MediaOrigin, WebhookReceiver

from local.sandbox import SandboxConfig, SandboxServer


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    peer = WebhookReceiver().start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def origin() -> Iterator[MediaOrigin]:
    peer = MediaOrigin().start()
    yield peer
    peer.stop()


def contract_config(receiver: WebhookReceiver, origin: MediaOrigin, **overrides: Any) -> SandboxConfig:
    settings: dict[str, Any] = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [REDIRECT_URI, "http://127.0.0.1:*/callback/"],
        "webhook_urls": [receiver.url],
        "verified_prefixes": [f"{origin.url}/media/"],
        # Processing, moderation and webhook retries 1000x faster: no test waits a real second.
        "time_scale": 1000.0,
        "seed": 7,
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


@pytest.fixture(scope="module")
def sandbox_server(receiver: WebhookReceiver, origin: MediaOrigin) -> Iterator[SandboxServer]:
    with SandboxServer(contract_config(receiver, origin)) as server:
        yield server


@pytest.fixture
def sandbox(
    sandbox_server: SandboxServer, receiver: WebhookReceiver, origin: MediaOrigin
) -> Iterator[SandboxServer]:
    """The module's sandbox, fresh: no tokens, posts, calls, deliveries or faults; clock at zero."""
    sandbox_server.reset()
    receiver.clear()
    origin.clear()
    yield sandbox_server
    receiver.clear()


@pytest.fixture
def api(sandbox: SandboxServer) -> Api:
    return Api(sandbox.base_url)


@pytest.fixture
def make_sandbox(
    receiver: WebhookReceiver, origin: MediaOrigin
) -> Iterator[Callable[..., tuple[SandboxServer, Api]]]:
    """A sandbox with other settings, stopped at the end of the test."""
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> tuple[SandboxServer, Api]:
        receiver.clear()
        server = SandboxServer(contract_config(receiver, origin, **overrides)).start()
        started.append(server)
        return server, Api(server.base_url)

    yield make
    for server in started:
        server.stop()

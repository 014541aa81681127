"""Fixtures for the TikTok client tests: loopback fake servers and a sleep that records instead of waiting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tiktok_fakes import FakeApiServer, RecordingSleep


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()

"""The local runtime's fixtures (the session's synthesis of the real CDK app, `cdk_out`, is in
tests/conftest.py: the command line's tests start the same stack)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.runtime import LocalAws
from tests.local.browser import ensure_chromium


@pytest.fixture
def make_runtime(cdk_out: Path) -> Iterator[Callable[..., LocalAws]]:
    """Start a LocalAws on the session's cloud assembly; stopped after the test."""
    started: list[LocalAws] = []

    def make(**kwargs: Any) -> LocalAws:
        runtime = LocalAws(cdk_out=cdk_out, **kwargs).start()
        started.append(runtime)
        return runtime

    yield make
    for runtime in reversed(started):
        runtime.stop()


@pytest.fixture(scope="session")
def chromium() -> None:
    """Chromium and chromedriver for the browser tests (installed on first use, see browser.py)."""
    ensure_chromium()

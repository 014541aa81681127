"""The command line's fixtures: one local stack per module (`python -m local.serve` in its own process) and
the account `me`, connected through the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.local_stack import FREE_PORTS, ROOT, LocalStack, connect, wait_for_file


@pytest.fixture(scope="module")
def stack(cdk_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`make local` on free ports, with 5 MiB TikTok chunks (a 16 MiB video goes in three: TikTok adds the rest to the last)."""
    folder = tmp_path_factory.mktemp("cli")
    endpoints_file, log, banner = folder / "endpoints.json", folder / "serve.log", folder / "banner.txt"
    (folder / "cache").mkdir()
    with log.open("wb") as errors, banner.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "local.serve", *FREE_PORTS, "--chunk-mib", "5"),
                *("--cdk-out", str(cdk_out), "--endpoints-file", str(endpoints_file)),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=errors,
        )
    try:
        wait_for_file(endpoints_file, process, log)
        yield LocalStack(process, endpoints_file, folder / "cache", banner)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()[-4000:]
    assert not endpoints_file.exists(), "the endpoint file outlived the stack"


@pytest.fixture(scope="module")
def account(stack: LocalStack) -> subprocess.CompletedProcess[str]:
    """The account `me`, connected through the command line; the run's output."""
    return connect(stack, "me")

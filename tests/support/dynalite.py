"""A dynalite server (DynamoDB on LevelDB, in memory) on a free loopback port, for tests that need
DynamoDB's per-item atomicity: in-process moto does not apply conditional writes atomically across
threads (docs/decisions.md, "quota as slot ledgers").

Use from a test module: `from tests.support.dynalite import dynalite_endpoint, dynalite_client`.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DYNALITE = ROOT / "node_modules" / ".bin" / "dynalite"
_START_TIMEOUT = 15.0
_START_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """True once a DynamoDB API answers on the port (any JSON reply to ListTables: even an auth error
    proves the server is up and speaks the protocol, and not some other process holding the port)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request(
            "POST",
            "/",
            body=b"{}",
            headers={
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        body = connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return b"TableNames" in body or b"__type" in body


def start_dynalite() -> tuple[subprocess.Popen[bytes], str]:
    """Start dynalite and wait until it accepts connections; retries when a port race is lost."""
    if not DYNALITE.exists():
        raise RuntimeError(f"dynalite is not installed at {DYNALITE}: run `npm ci` in {ROOT}")
    last_error = ""
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        # stderr goes to a file, not a pipe: a pipe nobody reads could fill up and stall the server.
        with tempfile.TemporaryFile() as log:
            # Tables become ACTIVE at once (dynalite simulates a 500 ms delay by default).
            process = subprocess.Popen(  # fixed argv, no shell
                [
                    str(DYNALITE),
                    *("--port", str(port), "--host", "127.0.0.1"),
                    *("--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            deadline = time.monotonic() + _START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(port) and process.poll() is None:
                    return process, f"http://127.0.0.1:{port}"
                time.sleep(0.05)
            stop_dynalite(process)
            log.seek(0)
            last_error = log.read().decode(errors="replace")[-500:]
    raise RuntimeError(f"dynalite did not start after {_START_ATTEMPTS} attempts: {last_error}")


def stop_dynalite(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def dynamodb_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client for dynalite, sized for many threads sharing it."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 3}),
    )


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    process, endpoint = start_dynalite()
    try:
        yield endpoint
    finally:
        stop_dynalite(process)


@pytest.fixture(scope="session")
def dynalite_client(dynalite_endpoint: str) -> Any:
    return dynamodb_client(dynalite_endpoint)

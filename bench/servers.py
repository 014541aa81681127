"""The two local endpoints of the upload benchmark, each in its own process: moto's S3 server and the sink.

Both are started with the bench's own Python, bound to 127.0.0.1 on a free port, and stopped (by their
process id, never by name) when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a helper process: this one's, plus the repository on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


@contextmanager
def moto_s3(spool_dir: Path, log: IO[bytes] | int = subprocess.DEVNULL) -> Iterator[Server]:
    """`python -m moto.server` in its own process; objects above 5 MiB spool to files in `spool_dir`
    (put it on /dev/shm so the S3 side reads from memory, as S3's own servers would serve from cache)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=child_env(TMPDIR=str(spool_dir), **FAKE_CREDENTIALS),
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO,
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        _wait_for_port(port, process)
        yield server
    finally:
        server.stop()


@contextmanager
def sink() -> Iterator[Server]:
    """`python -m bench.sink` in its own process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sink"],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    server = Server(process, "")
    try:
        if process.stdout is None:
            raise RuntimeError("no stdout from the sink")
        first = process.stdout.readline().decode().strip()
        if not first.startswith("http://"):
            raise RuntimeError(f"the sink did not start: {first!r}")
        server.url = first
        yield server
    finally:
        server.stop()


def shm_dir() -> Path:
    """The memory-backed shm folder when it exists and is writable, else the temp dir."""
    shm = Path("/dev/shm")  # noqa: S108 - a private subdirectory is created under it
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(os.environ.get("TMPDIR", "/tmp"))  # noqa: S108

"""The local stack as `make local` runs it (`python -m local.serve` in its own process, its endpoint file in
a temporary folder), and the console script run as a user runs it (`.venv/bin/tiktok-publisher --local
...`) in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from local.sandbox.consent import complete_consent

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "tiktok-publisher"
FREE_PORTS = ["--api-port", "0", "--sandbox-port", "0", "--media-port", "0", "--aws-port", "0"]
START_TIMEOUT = 90


@dataclass
class LocalStack:
    """A running `python -m local.serve` and the environment the command line finds it with."""

    process: subprocess.Popen[bytes]
    endpoints_file: Path
    cache: Path
    banner: Path

    @property
    def endpoints(self) -> dict[str, Any]:
        return dict(json.loads(self.endpoints_file.read_text()))

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TIKTOK_PUBLISHER_ENDPOINTS": str(self.endpoints_file),
            "TIKTOK_PUBLISHER_CACHE": str(self.cache),
            "COLUMNS": "200",
        }

    def cli(
        self, *args: str, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`tiktok-publisher --local ARGS` to its end (in `cwd`, default a folder of its own)."""
        return subprocess.run(
            [str(CLI), "--local", *args],
            cwd=cwd or self.cache,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_cli(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(CLI), "--local", *args],
            cwd=self.cache,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def s3(self) -> Any:
        import boto3

        endpoints = self.endpoints
        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoints["aws_endpoint_url"],
            region_name=endpoints["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def sandbox_post(self, publish_id: str) -> dict[str, Any]:
        answer = requests.get(f"{self.endpoints['tiktok_url']}/_sandbox/posts/{publish_id}", timeout=10)
        answer.raise_for_status()
        return dict(answer.json())

    def authorize(self, link: str, creator: str = "sandbox_public") -> requests.Response:
        """The browser's part after the user opens the connect link: TikTok's consent form, Authorize, the
        callback (the session keeps the state cookie, as any HTTP client does on plain http to loopback)."""
        session = requests.Session()
        start = session.get(link, allow_redirects=False, timeout=30)
        assert start.status_code == 302, start.text
        back = urlsplit(complete_consent(start.headers["Location"], creator=creator))
        api = self.endpoints["api_url"]
        return session.get(f"{api}{back.path}", params=dict(parse_qsl(back.query)), timeout=30)


def wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"local.serve ended with {process.returncode}:\n{log.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no endpoint file within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def connect(
    stack: LocalStack, alias: str, creator: str = "sandbox_public"
) -> subprocess.CompletedProcess[str]:
    """`tiktok-publisher connect ALIAS`, with the browser's part done as the link is printed (a TikTok
    account connected already keeps its first name: another alias needs another creator)."""
    child = stack.start_cli("connect", alias, "--no-browser", "--timeout", "60")
    assert child.stdout is not None
    printed: list[str] = []
    for line in child.stdout:
        printed.append(line)
        if "/connect?alias=" in line:
            assert stack.authorize(line.strip(), creator).status_code == 200
            break
    out, err = child.communicate(timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, "".join(printed) + out, err)


def one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    """The single `error: ...` line a failure prints on stderr (never a traceback)."""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]

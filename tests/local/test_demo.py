"""`make demo` and `make local` as a user runs them: `python -m local.demo` and `python -m local.serve` in
their own processes, on the session's synthesized cloud assembly."""

from __future__ import annotations

import hashlib
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests

from local.media import video
from local.sandbox import SandboxConfig, SandboxServer
from local.sandbox.consent import complete_consent
from local.serve import READY

ROOT = Path(__file__).resolve().parents[2]
FREE_PORTS = ["--api-port", "0", "--sandbox-port", "0", "--media-port", "0", "--aws-port", "0"]


class Lines:
    """A child's output stream read line by line on a thread, so a test can wait for a line with a
    timeout and the child never blocks on a full pipe."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n" + "\n".join(self.seen[-40:]))
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n" + "\n".join(self.seen[-40:]))

    def rest(self, timeout: float = 10) -> list[str]:
        """Everything until the stream ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
        return self.seen


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Any]:
    """Start `python -m <module> ...` in the repository; killed after the test if still running."""
    children: list[subprocess.Popen[str]] = []

    def start(module: str, *args: str, stderr: Any = subprocess.PIPE) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


def test_the_demo_publishes_a_photo_set_then_a_byte_identical_video(cdk_out: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "local.demo", "--cdk-out", str(cdk_out), "--log-file", str(tmp_path / "log")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    took = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-4000:]
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.stdout  # nothing but the records on stdout
    photos, repaired, clip = (json.loads(line) for line in lines)
    assert repaired["status"] == "PUBLISH_COMPLETE"
    assert repaired["repair"]["changes"] == ["frame rate 120 -> 60 fps"]
    assert repaired["prepared"]["video"]["key"].startswith("derived/demo/")
    assert re.search(r"repaired: frame rate 120 -> 60 fps in [\d.]+ s; TikTok was sent the copy", run.stderr)
    assert photos["status"] == "PUBLISH_COMPLETE" and photos["kind"] == "photo"
    assert clip["status"] == "PUBLISH_COMPLETE" and clip["kind"] == "video"
    assert clip["upload"]["complete"] and clip["upload"]["chunks"] >= 3
    assert clip["upload"]["offset"] == clip["upload"]["total"] == clip["prepared"]["video"]["size"]
    assert [h["status"] for h in clip["history"]][-3:] == ["UPLOADING", "PROCESSING", "PUBLISH_COMPLETE"]
    # The progress the user watched: the chunks, each status, the verdict.
    assert re.search(r"video +upload .* 100%", run.stderr), run.stderr
    assert "sending chunk 2 of" in run.stderr
    assert "sha256 identical to the local file" in run.stderr
    # After publishing: the public video's link and its first snapshot.
    link = re.search(r"video: public at (https://www\.tiktok\.com/@sandbox_public/video/(\d+))", run.stderr)
    assert link, run.stderr[-3000:]
    assert re.search(r"video: first snapshot, \d+ s after publishing: \d+ views, \d+ likes", run.stderr)
    assert took < 90, f"the demo took {took:.0f} s"


def test_ctrl_c_stops_the_demo_cleanly_mid_upload(cdk_out: Path, tmp_path: Path, spawn: Any) -> None:
    # Each chunk held 2 s: the upload lasts long enough for the signal to land in it on a busy machine.
    log_file = str(tmp_path / "log")
    demo = spawn("local.demo", "--cdk-out", str(cdk_out), "--log-file", log_file, "--chunk-delay", "2")
    progress = Lines(demo.stderr)
    progress.until(r"video +UPLOADING", timeout=60)
    interrupted = time.monotonic()
    demo.send_signal(signal.SIGINT)
    assert demo.wait(timeout=30) == 130
    assert time.monotonic() - interrupted < 10
    assert any("interrupted (exit 130)" in line for line in progress.rest())
    assert demo.stdout is not None and demo.stdout.read() == ""  # no records for an unfinished run


def _connect(api: str, creator: str, alias: str) -> requests.Response:
    """The browser's part of the OAuth flow, with the state cookie kept by the session as a browser does."""
    session = requests.Session()
    start = session.get(f"{api}/connect", params={"alias": alias}, allow_redirects=False, timeout=30)
    assert start.status_code == 302, start.text
    back = urlsplit(complete_consent(start.headers["Location"], creator=creator))
    return session.get(f"{api}{back.path}", params=dict(parse_qsl(back.query)), timeout=30)


def _aws_client(service: str, endpoint: str) -> Any:
    """boto3 as `aws --endpoint-url` uses it: moto accepts any credentials."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_serve_prints_its_endpoints_posts_from_the_aws_endpoint_and_stops_on_sigterm(
    cdk_out: Path, tmp_path: Path, spawn: Any
) -> None:
    errors = (tmp_path / "serve.err").open("w")
    endpoints_file = ["--endpoints-file", str(tmp_path / "endpoints.json")]  # not the repository's own
    server = spawn("local.serve", *FREE_PORTS, *endpoints_file, "--cdk-out", str(cdk_out), stderr=errors)
    assert server.stdout is not None
    out = Lines(server.stdout)
    out.until(re.escape(READY), timeout=90)
    banner = "\n".join(out.seen)

    def endpoint(name: str) -> str:
        found = re.search(rf"^  {name} +(\S+)$", banner, re.MULTILINE)
        assert found, banner
        return found[1]

    api, aws, sandbox, bucket = (
        endpoint("HTTP API"),
        endpoint("AWS endpoint"),
        endpoint("TikTok"),
        endpoint("bucket"),
    )
    assert endpoint("client key") == "sandbox-client-key"
    assert endpoint("client secret") == "sandbox-client-secret"
    assert endpoint("connect link") == f"{api}/connect?alias=me"
    assert f"aws --endpoint-url {aws} s3 cp video.mp4 s3://{bucket}/posts/me/" in banner
    assert f"curl '{api}/posts?account=me'" in banner
    assert requests.get(f"{api}/accounts", timeout=10).json() == {"accounts": []}

    # Server mode end to end: an object put through the AWS endpoint becomes a post.
    assert _connect(api, "sandbox_public", "me").status_code == 200
    preferences = {"mode": "direct", "privacy_level": "SELF_ONLY", "caption": "through the endpoint"}
    requests.put(f"{api}/accounts/me/preferences", json=preferences, timeout=30).raise_for_status()
    s3 = _aws_client("s3", aws)
    clip = video(label="make local")
    s3.put_object(Bucket=bucket, Key="posts/me/clip.mp4", Body=clip)
    deadline = time.monotonic() + 60
    posts: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        posts = requests.get(f"{api}/posts", params={"account": "me"}, timeout=30).json()["posts"]
        if posts and posts[0]["status"] in {"PUBLISH_COMPLETE", "FAILED"}:
            break
        time.sleep(0.2)
    assert posts and posts[0]["status"] == "PUBLISH_COMPLETE", posts
    received = requests.get(f"{sandbox}/_sandbox/posts/{posts[0]['publish_id']}", timeout=10).json()
    assert received["sha256"] == hashlib.sha256(clip).hexdigest()
    tables = _aws_client("dynamodb", aws)
    assert len(tables.list_tables()["TableNames"]) == 6

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    errors.close()
    assert (tmp_path / "serve.err").read_text().rstrip().endswith("stopped")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api}/accounts", timeout=5)


def test_serve_talks_to_another_tiktok_with_the_app_credentials_it_is_given(
    cdk_out: Path, tmp_path: Path, spawn: Any
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        api_port = probe.getsockname()[1]
    api = f"http://127.0.0.1:{api_port}"
    config = SandboxConfig(
        client_key="other-key", client_secret="other-secret", redirect_uris=[f"{api}/oauth/callback"]
    )
    with SandboxServer(config) as other:
        ports = ["--api-port", str(api_port), "--sandbox-port", "0", "--media-port", "0", "--aws-port", "0"]
        flags = [
            "--tiktok-url",
            other.base_url,
            "--client-key",
            "other-key",
            "--client-secret",
            "other-secret",
        ]
        errors = (tmp_path / "serve.err").open("w")
        flags += ["--endpoints-file", str(tmp_path / "endpoints.json")]  # not the repository's own
        server = spawn("local.serve", *ports, *flags, "--cdk-out", str(cdk_out), stderr=errors)
        assert server.stdout is not None
        out = Lines(server.stdout)
        out.until(re.escape(READY), timeout=90)
        banner = "\n".join(out.seen)
        assert f"  TikTok          {other.base_url} (external)" in banner
        assert "  client key      other-key\n  client secret   other-secret\n" in banner
        assert _connect(api, "sandbox_public", "elsewhere").status_code == 200  # through the other TikTok
        assert requests.get(f"{api}/accounts/elsewhere", timeout=10).json()["status"] == "connected"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        errors.close()


def test_serve_refuses_a_busy_port(spawn: Any) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        server = spawn("local.serve", *FREE_PORTS[:-1], port)
        assert server.wait(timeout=30) == 2
        assert server.stderr is not None
        assert f"--aws-port {port}" in server.stderr.read()


def test_the_demo_reads_again_when_a_read_races_a_handlers_write() -> None:
    from local.demo import PostsWatch

    answers: list[Any] = [RuntimeError("dictionary changed size during iteration")] * 2 + [{"Item": {}}]

    def racing() -> dict[str, Any]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    assert PostsWatch._read(racing) == {"Item": {}}
    assert answers == []

    def always() -> dict[str, Any]:
        raise RuntimeError("still changing")

    with pytest.raises(RuntimeError, match="still changing"):
        PostsWatch._read(always)

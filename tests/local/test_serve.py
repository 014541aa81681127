"""`make local` as a user meets it: `python -m local.serve` in its own process (synthesizing the app itself,
in real time, on a machine whose time zone is not UTC), driven over HTTP with requests, the banner's
commands run as printed, and Ctrl-C at the end."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests

from local.media import video
from local.sandbox.consent import complete_consent
from local.serve import READY, build_parser, cloud_assembly, quiet_startup, system_for
from tests.local.test_demo import FREE_PORTS, ROOT, Lines

# Nine hours ahead of UTC: moto's own Timestamp waits (local time against a UTC timestamp) end at once here.
NOT_UTC = "Asia/Tokyo"
NOISE = ("No application metrics to publish", "no Python 3.14 here", "Traceback", "Exception ignored")


@dataclass
class Served:
    process: subprocess.Popen[str]
    banner: str
    errors: Path

    def row(self, label: str) -> str:
        found = re.search(rf"^  {re.escape(label)} +(\S.*)$", self.banner, re.MULTILINE)
        assert found, self.banner
        return found[1]

    @property
    def api(self) -> str:
        return self.row("HTTP API")

    def running(self) -> None:
        assert self.process.poll() is None, self.errors.read_text()[-4000:]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    errors = folder / "serve.err"
    with errors.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.serve", *FREE_PORTS, "--endpoints-file", str(folder / "ep.json")],
            cwd=ROOT,
            env={**os.environ, "TZ": NOT_UTC},
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches it
        )
    try:
        assert process.stdout is not None
        out = Lines(process.stdout)
        out.until(re.escape(READY), timeout=150)
        yield Served(process, "\n".join(out.seen), errors)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _aws(served: Served, service: str) -> Any:
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=served.row("AWS endpoint"),
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _to_callback(served: Served, session: requests.Session, alias: str) -> tuple[str, dict[str, str]]:
    """/connect then the sandbox's consent form, with the session a client keeps: the callback to call."""
    start = session.get(f"{served.api}/connect", params={"alias": alias}, allow_redirects=False, timeout=30)
    assert start.status_code == 302, start.text
    assert "Secure" not in start.headers["Set-Cookie"]  # plain http on loopback (never on https)
    back = urlsplit(complete_consent(start.headers["Location"], creator="sandbox_public"))
    return f"{served.api}{back.path}", dict(parse_qsl(back.query))


def _columns(block: list[str]) -> set[int]:
    """Where each line's value starts: after the label's two or more spaces, or the indent alone."""
    starts = set()
    for line in block:
        found = re.match(r"^  \S.*?  +(?=\S)", line) or re.match(r"^ +", line)
        assert found, line
        starts.add(found.end())
    return starts


def test_the_banner_lines_up_and_names_the_app_the_stack_uses(served: Served) -> None:
    lines = served.banner.splitlines()
    first = lines.index("") + 1
    block = lines[first : lines.index("", first)]
    assert len(_columns(block)) == 1, "\n".join(block)  # every value in one column
    assert served.row("client key") == "sandbox-client-key"
    assert served.row("client secret") == "sandbox-client-secret"
    assert served.row("webhook URL") == f"{served.api}/webhooks/tiktok"
    assert served.row("time").startswith("real:")
    tables = [line for line in block if "TikTokPublisher-Tables" in line]
    assert len(tables) == 6 and len({line.index("TikTokPublisher-") for line in tables}) == 1


def test_a_webhook_signed_as_the_banner_says_is_accepted(served: Served) -> None:
    served.running()
    lines = served.banner.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Send a webhook as TikTok does"))
    first = lines.index("", start) + 1
    script = "\n".join(lines[first : lines.index("", first)])
    assert "TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256" in "\n".join(lines[start : first - 1])
    bash = shutil.which("bash") or "/bin/bash"
    sent = subprocess.run([bash, "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, '{"message": "ok"}', "")
    forged = script.replace("sandbox-client-secret", "another-secret")
    refused = subprocess.run([bash, "-c", forged], capture_output=True, text=True, timeout=30, check=False)
    assert refused.stdout == '{"message": "signature rejected: signature mismatch"}'


def test_requests_connects_over_plain_http_and_a_bogus_code_says_to_start_again(served: Served) -> None:
    served.running()
    with requests.Session() as browser:
        url, params = _to_callback(served, browser, "me")
        connected = browser.get(url, params=params, timeout=30)
    assert connected.status_code == 200 and "Connected: Sandbox Public" in connected.text, connected.text
    assert requests.get(f"{served.api}/accounts/me", timeout=10).json()["status"] == "connected"

    with requests.Session() as browser:
        url, params = _to_callback(served, browser, "other")
        bogus = browser.get(url, params={**params, "code": "bogus"}, timeout=30)
    assert bogus.status_code == 400, bogus.text
    assert "start connecting again" in bogus.text
    assert '<a href="/connect?alias=other">Start again</a>' in bogus.text
    assert requests.get(f"{served.api}/accounts/other", timeout=10).status_code == 404


def test_a_post_scheduled_ahead_waits_its_time_for_real(served: Served) -> None:
    served.running()
    if requests.get(f"{served.api}/accounts/me", timeout=10).status_code != 200:
        with requests.Session() as browser:
            url, params = _to_callback(served, browser, "me")
            assert browser.get(url, params=params, timeout=30).status_code == 200
    bucket = served.row("bucket")
    _aws(served, "s3").put_object(Bucket=bucket, Key="posts/me/media/later.mp4", Body=video(label="later"))
    publish_at = int(time.time()) + 20
    at_text = datetime.fromtimestamp(publish_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest = {
        "account": "me",
        "video": "media/later.mp4",
        "privacy_level": "SELF_ONLY",
        "publish_at": at_text,
    }
    created = requests.post(f"{served.api}/posts", json=manifest, timeout=30)
    assert created.status_code == 202, created.text
    post_url = f"{served.api}/posts/{created.json()['post_id']}"

    def status() -> str:
        return str(requests.get(post_url, timeout=30).json()["status"])

    while time.time() < publish_at - 4:
        assert status() in {"RECEIVED", "SCHEDULED"}
        time.sleep(1)
    assert status() == "SCHEDULED"
    deadline = time.monotonic() + 90
    while status() not in {"PUBLISH_COMPLETE", "FAILED"} and time.monotonic() < deadline:
        time.sleep(0.5)
    post = requests.get(post_url, timeout=30).json()
    assert post["status"] == "PUBLISH_COMPLETE", post
    went = next(h["at"] for h in post["history"] if h["status"] == "INITIALIZING")
    assert went >= publish_at, (went, publish_at)


def test_ctrl_c_stops_it_and_nothing_meaningless_was_printed(served: Served) -> None:
    served.running()
    os.killpg(served.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    assert served.process.wait(timeout=60) == 0
    logged = served.errors.read_text()
    assert logged.rstrip().endswith("stopped"), logged[-2000:]
    for noise in NOISE:
        assert noise not in logged, logged[-4000:]


def test_fast_time_is_asked_for_and_real_time_is_the_default(cdk_out: Path) -> None:
    real = system_for(build_parser().parse_args([]), cdk_out, [])
    fast = system_for(build_parser().parse_args(["--fast-time"]), cdk_out, [])
    assert (real.fast_time, fast.fast_time) == (False, True)


def test_v_shows_the_warnings_that_are_quiet_by_default() -> None:
    from aws_lambda_powertools import Metrics

    for verbose, shown in ((False, 0), (True, 1)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            quiet_startup(verbose)
            Metrics(namespace="Test", service="serve").flush_metrics()  # a handler run without a metric
        assert len([w for w in seen if "No application metrics" in str(w.message)]) == shown


def test_a_failing_synthesis_shows_what_it_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.serve import SynthesisFailed

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(SynthesisFailed), cloud_assembly(not_a_folder, verbose=False):
        pass
    assert "Traceback" in capsys.readouterr().err  # the child's own error, for the user to read

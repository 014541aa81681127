"""`python -m local.sandbox`: flags, config file, printed base URL, clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.sandbox", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
    return process, base_url


def test_cli_serves_until_sigterm_with_flags_and_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.json"
    config.write_text(
        json.dumps(
            {
                "creators": [
                    {"username": "only_one", "nickname": "Only", "open_id": "open-only", "private": True}
                ],
                "faults": {"error_rate": {"/upload/": 0.1}},
                "posts_per_day": 3,
            }
        )
    )
    process, base_url = start(
        "--client-key",
        "cli-key",
        "--client-secret",
        "cli-secret",
        "--redirect-uri",
        "http://127.0.0.1:8765/oauth/callback",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--verified-prefix",
        "https://media.example.com/posts/",
        "--verified-prefix",
        "static.example.org",
        "--time-scale",
        "20",
        "--unaudited",
        "--access-ttl",
        "600",
        "--refresh-ttl",
        "3600",
        "--config",
        str(config),
    )
    try:
        shown = requests.get(base_url + "/_sandbox/config", timeout=5).json()
        assert shown["client_key"] == "cli-key"
        assert shown["redirect_uris"] == ["http://127.0.0.1:8765/oauth/callback"]
        assert shown["verified_prefixes"] == ["https://media.example.com/posts/", "static.example.org"]
        assert shown["audited"] is False and shown["time_scale"] == 20
        assert shown["access_token_ttl"] == 600 and shown["refresh_token_ttl"] == 3600
        assert shown["posts_per_day"] == 3
        creators = requests.get(base_url + "/_sandbox/creators", timeout=5).json()["creators"]
        assert [c["username"] for c in creators] == ["only_one"]
        assert requests.get(base_url + "/_sandbox/faults", timeout=5).json()["error_rate"] == {
            "/upload/": 0.1
        }
        minted = requests.post(base_url + "/_sandbox/tokens", json={"creator": "only_one"}, timeout=5).json()
        assert minted["expires_in"] == 600
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_cli_rejects_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"creators": [], "no_such_setting": 1}))
    result = subprocess.run(
        [sys.executable, "-m", "local.sandbox", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "no_such_setting" in result.stderr
    insecure = subprocess.run(
        [sys.executable, "-m", "local.sandbox", "--redirect-uri", "http://publisher.example.com/cb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert insecure.returncode == 2 and "localhost" in insecure.stderr

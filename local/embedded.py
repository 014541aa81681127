"""The whole system on one machine: the CDK stack in moto with in-process handlers, its HTTP API and media
server on loopback, and the TikTok sandbox wired to them (redirect URI, webhook URL, verified prefix).

`make demo`, `make local` and the end-to-end tests all start it the same way:

    with EmbeddedSystem() as system:
        account = system.connect("sandbox_public", alias="me")
        system.put_object("posts/me/clip.mp4", data)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import requests

from local.runtime import HttpApiServer, LocalAws, MediaServer
from local.sandbox import SandboxConfig, SandboxServer
from local.sandbox.consent import complete_consent

CLIENT_KEY = "sandbox-client-key"
# The sandbox's own secret, known to every local run.
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105  # nosec B105


class VirtualClock:
    """Time for the functions that moves on when the state machine waits: a post waiting a day for its
    quota is published in a moment, and every ledger sees the day go by."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.on_advance: list[Any] = []  # callables(seconds): e.g. the sandbox's clock follows

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._offset += seconds
        for follower in self.on_advance:
            follower(seconds)

    @contextmanager
    def installed(self) -> Iterator[None]:
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

        def wait(_state: Any, env: Any, wait_seconds: float) -> None:  # moto passes both by keyword
            # moto truncates a wait to whole seconds (it may end up to 1 s early); AWS never ends early.
            self.advance(float(wait_seconds) + 1 if wait_seconds > 0 else 0.0)

        with (
            mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait),
            mock.patch("functions.wiring.Wiring.now", staticmethod(lambda: int(self.now()))),
            mock.patch("functions.wiring.Wiring.sleep", staticmethod(self.advance)),
        ):
            yield


@dataclass
class EmbeddedSystem:
    """Starts (and stops) everything; `virtual_time` lets Wait states move the functions' clock."""

    cdk_out: Path | None = None
    sandbox_config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    virtual_time: bool = False
    api_port: int = 0
    sandbox_port: int = 0
    media_port: int = 0
    server: bool = False
    aws_port: int = 0  # moto's server port when `server` (0: a free one)

    def __post_init__(self) -> None:
        self.clock = VirtualClock()
        self.runtime: LocalAws | None = None
        self.api: HttpApiServer | None = None
        self.media: MediaServer | None = None
        self.sandbox: SandboxServer | None = None
        self._clock_context: Any = None

    def __enter__(self) -> EmbeddedSystem:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> EmbeddedSystem:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.runtime = LocalAws(
            cdk_out=self.cdk_out,
            env_overrides={"PULL_VIDEOS": "false", **self.env},
            secrets={"TikTokApp": json.dumps({"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})},
            server=self.server,
            server_port=self.aws_port,
        ).start()
        self.api = HttpApiServer(self.runtime, port=self.api_port).start()
        self.media = MediaServer(self.runtime, port=self.media_port).start()
        config = {
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{self.api.base_url}/oauth/callback"],
            "webhook_urls": [f"{self.api.base_url}/webhooks/tiktok"],
            "verified_prefixes": [f"{self.media.base_url}/"],
            "time_scale": 20.0,
            **self.sandbox_config,
        }
        self.sandbox = SandboxServer(SandboxConfig.from_dict(config), port=self.sandbox_port).start()
        self.runtime.update_env(
            {
                "TIKTOK_API_BASE_URL": self.sandbox.base_url,
                "TIKTOK_AUTH_BASE_URL": self.sandbox.base_url,
            }
        )
        if self.virtual_time:
            self.clock.on_advance.append(self.sandbox.clock.advance)
            self._clock_context = self.clock.installed()
            self._clock_context.__enter__()
        self.runtime.start_pump_thread()

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop_pump_thread()
        for server in (self.sandbox, self.media, self.api):
            if server is not None:
                server.stop()
        if self._clock_context is not None:
            self._clock_context.__exit__(None, None, None)
            self._clock_context = None
        if self.runtime is not None:
            self.runtime.stop()
        self.runtime = self.api = self.media = self.sandbox = None

    # ------------------------------------------------------------------------------------------ driving

    @property
    def rt(self) -> LocalAws:
        if self.runtime is None:
            raise RuntimeError("the embedded system is not running")
        return self.runtime

    @property
    def api_url(self) -> str:
        if self.api is None:
            raise RuntimeError("the embedded system is not running")
        return self.api.base_url

    @property
    def sandbox_url(self) -> str:
        if self.sandbox is None:
            raise RuntimeError("the embedded system is not running")
        return self.sandbox.base_url

    def connect(
        self, creator: str, *, alias: str | None = None, decision: str = "allow"
    ) -> requests.Response:
        """The browser's part of the OAuth flow, over HTTP: /connect, TikTok's consent form, the callback.

        The state cookie is Secure, which a plain-http client does not send back: it is passed by hand,
        as a browser on a secure origin would."""
        session = requests.Session()
        start = session.get(
            f"{self.api_url}/connect",
            params={"alias": alias} if alias else None,
            allow_redirects=False,
            timeout=30,
        )
        if start.status_code != 302:
            return start
        cookie = start.headers["Set-Cookie"].split(";")[0]
        back = complete_consent(start.headers["Location"], creator=creator, decision=decision)
        callback = urlsplit(back)
        return session.get(
            f"{self.api_url}{callback.path}",
            params=dict(parse_qsl(callback.query)),
            headers={"Cookie": cookie},
            timeout=30,
        )

    def put_object(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> str | None:
        answer = self.rt.client("s3").put_object(
            Bucket=self.rt.bucket, Key=key, Body=body, ContentType=content_type
        )
        return answer.get("VersionId")  # type: ignore[no-any-return]

    def api_get(self, path: str, **params: str) -> Any:
        return requests.get(f"{self.api_url}{path}", params=params or None, timeout=30).json()

    def posts(self, account: str) -> list[dict[str, Any]]:
        return list(self.api_get("/posts", account=account)["posts"])

    def wait_for_post(
        self, account: str, origin_key: str, statuses: set[str], timeout: float = 60
    ) -> dict[str, Any]:
        """The post made from `origin_key`, once it reaches one of `statuses`."""
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            for post in self.posts(account):
                if post.get("media", {}).get("origin_key") == origin_key:
                    seen = post
                    if post["status"] in statuses:
                        return post
            time.sleep(0.1)
        raise TimeoutError(
            f"post of {origin_key} did not reach {sorted(statuses)}; last seen: {seen.get('status')}"
        )

    def sandbox_post(self, publish_id: str) -> dict[str, Any]:
        return requests.get(f"{self.sandbox_url}/_sandbox/posts/{publish_id}", timeout=10).json()  # type: ignore[no-any-return]

    def sandbox_control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        answer = requests.post(f"{self.sandbox_url}/_sandbox/{path}", json=payload or {}, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None

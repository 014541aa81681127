"""The whole system on one machine: the CDK stack in moto with in-process handlers, its HTTP API and media
server on loopback, and the TikTok sandbox wired to them (redirect URI, webhook URL, verified prefix).

`make demo`, `make local` and the end-to-end tests all start it the same way:

    with EmbeddedSystem() as system:
        account = system.connect("sandbox_public", alias="me")
        system.put_object("posts/me/clip.mp4", data)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from functions.settings import Env
from local.runtime import HttpApiServer, LocalAws, MediaServer
from local.sandbox import SandboxConfig, SandboxServer
from local.sandbox.consent import complete_consent
from local.virtual_time import MODES, EventClock, Mode, VirtualClock, installed

CLIENT_KEY = "sandbox-client-key"
# The sandbox's own secret, known to every local run.
CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105  # nosec B105


@dataclass
class EmbeddedSystem:
    """Starts (and stops) everything. `fast_time` (the default, for the demo and the tests) makes the state
    machine's waits and retry back-offs return at once and a failed queue message visible again at once;
    False keeps every wait real (`make local`). `virtual_time` puts the functions, the state machine's waits
    and the sandbox on one virtual clock: True or "jump" for one post at a time, "events" for many at once
    (local/virtual_time.py)."""

    cdk_out: Path | None = None
    sandbox_config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    virtual_time: bool | Mode = False
    fast_time: bool = True
    api_port: int = 0
    sandbox_port: int = 0
    media_port: int = 0
    server: bool = False
    aws_port: int = 0  # moto's server port when `server` (0: a free one)
    # Another TikTok-compatible endpoint (an emulator, a recording proxy) instead of the built-in sandbox.
    tiktok_url: str | None = None
    client_key: str = CLIENT_KEY
    client_secret: str = CLIENT_SECRET

    def __post_init__(self) -> None:
        if self.virtual_time not in (False, True, *MODES):
            raise ValueError(f"virtual_time must be True, False or one of {MODES}, not {self.virtual_time!r}")
        self.clock = VirtualClock()
        self.events: EventClock | None = None
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
        app_credentials = {"client_key": self.client_key, "client_secret": self.client_secret}
        self.runtime = LocalAws(
            cdk_out=self.cdk_out,
            env_overrides=dict(self.env),
            secrets={"TikTokApp": json.dumps(app_credentials)},
            server=self.server,
            server_port=self.aws_port,
            fast_time=self.fast_time,
            clock=self.clock.now,  # the wall clock until virtual time moves it
        ).start()
        self.api = HttpApiServer(self.runtime, port=self.api_port).start()
        self.media = MediaServer(self.runtime, port=self.media_port, clock=self.clock.now).start()
        tiktok = self.tiktok_url.rstrip("/") if self.tiktok_url else None
        if tiktok is None:
            config = {
                **app_credentials,
                "redirect_uris": [f"{self.api.base_url}/oauth/callback"],
                "webhook_urls": [f"{self.api.base_url}/webhooks/tiktok"],
                "verified_prefixes": [f"{self.media.base_url}/"],
                "time_scale": 20.0,
                **self.sandbox_config,
            }
            self.sandbox = SandboxServer(SandboxConfig.from_dict(config), port=self.sandbox_port).start()
            tiktok = self.sandbox.base_url
        self.runtime.update_env({Env.TIKTOK_API_BASE_URL: tiktok, Env.TIKTOK_AUTH_BASE_URL: tiktok})
        if self.virtual_time:
            if self.sandbox is not None:
                self.clock.on_advance.append(self.sandbox.clock.advance)
            if self.virtual_time == "events":
                self.events = EventClock(self.clock, idle=self._idle, next_due=self._next_due)
            self._clock_context = installed(self.clock, self.events)
            self._clock_context.__enter__()
        self.runtime.start_pump_thread()

    def _idle(self, quiet: float) -> bool:
        """For the event clock: no handler ran for `quiet` seconds and the functions' queues are empty."""
        return self.rt.activity.quiet_for(quiet) and self.rt.queues_drained()

    def _next_due(self) -> float | None:
        """For the event clock: seconds until something acts on its own, the sandbox or a schedule (a jump
        stops there, so that it happens on time)."""
        dues = [due for due in (self._sandbox_next_due(), self.rt.schedules_next_due()) if due is not None]
        return min(dues) if dues else None

    def _sandbox_next_due(self) -> float | None:
        if self.sandbox is None:
            return None
        due = self.sandbox.app.scheduler.next_due()
        return None if due is None else due - self.sandbox.clock.now()

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.stop_pump_thread()
        for server in (self.sandbox, self.media, self.api):
            if server is not None:
                server.stop()
        if self._clock_context is not None:
            self._clock_context.__exit__(None, None, None)
            self._clock_context = None
            self.events = None
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
        """The TikTok the stack talks to: the built-in sandbox, or `tiktok_url`."""
        if self.sandbox is not None:
            return self.sandbox.base_url
        if self.tiktok_url and self.runtime is not None:
            return self.tiktok_url.rstrip("/")
        raise RuntimeError("the embedded system is not running")

    def connect(
        self, creator: str, *, alias: str | None = None, decision: str = "allow"
    ) -> requests.Response:
        """The browser's part of the OAuth flow, over HTTP: /connect, TikTok's consent form, the callback.
        The session keeps the state cookie as a browser does (over plain http on loopback it is not
        Secure, functions/handlers/web/connect.py)."""
        session = requests.Session()
        start = session.get(
            f"{self.api_url}/connect",
            params={"alias": alias} if alias else None,
            allow_redirects=False,
            timeout=30,
        )
        if start.status_code != 302:
            return start
        back = complete_consent(start.headers["Location"], creator=creator, decision=decision)
        callback = urlsplit(back)
        return session.get(
            f"{self.api_url}{callback.path}", params=dict(parse_qsl(callback.query)), timeout=30
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

    def sandbox_posts(self) -> list[dict[str, Any]]:
        """Every post the sandbox holds (whatever its state)."""
        answer = requests.get(f"{self.sandbox_url}/_sandbox/posts", timeout=10)
        answer.raise_for_status()
        return list(answer.json()["posts"])

    def sandbox_control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        answer = requests.post(f"{self.sandbox_url}/_sandbox/{path}", json=payload or {}, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None

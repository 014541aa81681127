"""Builds the stores and the TikTok client from the settings, lazily and once per set of settings.

Handlers ask for what they need (`wiring.for_settings(settings()).accounts`); nothing is created at import
time, so a cold start pays only for what the invoked function uses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Protocol

from functions.tracing import trace_calls

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from functions.accounts.connect import ConnectFlow
    from functions.accounts.tokens import AccessTokens
    from functions.posting.intake import PostIntake
    from functions.posting.rate_budget import RateBudget
    from functions.settings import Settings
    from functions.store.accounts import AccountStore
    from functions.store.dedupe import DedupeStore
    from functions.store.events import EventBus
    from functions.store.media import MediaStore
    from functions.store.oauth_state import OAuthStateStore
    from functions.store.posts import PostStore
    from functions.store.quota import SlotLedger
    from functions.store.schedules import Schedules
    from functions.store.tokens import TokenStore
    from functions.store.workflow import Workflow
    from functions.tiktok.client import TikTokClient
    from functions.tiktok.upload import ChunkUploader


class Clock(Protocol):
    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Wiring:
    """Every port the logic uses, built on first use; any of them can be given instead (`ports`, or
    `overrides()` for the Wirings handlers build): a test's fake TikTok, the local run's virtual clock."""

    def __init__(self, settings: Settings, **ports: object) -> None:
        self.settings = settings
        _check_ports(ports)
        self.__dict__.update(ports)  # a cached_property finds its value in the instance first

    @cached_property
    def clock(self) -> Clock:
        """The one source of time for every step: the local run's virtual clock replaces it, so a day of
        quota waiting passes in a moment for stores, tokens and budgets alike."""
        return SystemClock()

    def now(self) -> int:
        return int(self.clock.now())

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    def _clock(self) -> float:
        return float(self.now())

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    @property
    def pull_videos(self) -> bool:
        """Videos already in S3 go by PULL_FROM_URL once TikTok verified the media domain (TikTok's Content
        Sharing Guidelines: media on your servers is pulled), by FILE_UPLOAD before."""
        return self.settings.media_domain_verified and bool(self.settings.media_base_url)

    @cached_property
    def rate_budget(self) -> RateBudget:
        from functions.posting.rate_budget import RateBudget

        return RateBudget(self.quota, clock=self._clock, sleep=self._sleep)

    @cached_property
    def workflow(self) -> Workflow:
        from functions.store.workflow import Workflow

        return Workflow(self.settings.state_machine_arn)

    @cached_property
    def sqs(self) -> SQSClient:
        from functions.store.clients import aws_client

        return aws_client("sqs")  # type: ignore[no-any-return]

    @cached_property
    def schedules(self) -> Schedules:
        from functions.store.schedules import Schedules

        s = self.settings
        return Schedules(s.schedule_prefix, s.scheduler_role_arn, s.after_publish_arn)

    @cached_property
    def event_bus(self) -> EventBus:
        from functions.store.events import EventBus

        return EventBus(self.settings.event_bus_name)

    @cached_property
    def uploader(self) -> ChunkUploader:
        from functions.tiktok.upload import ChunkUploader

        trace_calls("requests")
        return ChunkUploader(sleep=self._sleep)

    @cached_property
    def accounts(self) -> AccountStore:
        from functions.store.accounts import AccountStore

        return AccountStore(self.settings.require("accounts_table"))

    @cached_property
    def tokens(self) -> TokenStore:
        from functions.store.tokens import TokenStore

        return TokenStore(self.settings.require("tokens_table"), self.settings.require("token_key_id"))

    @cached_property
    def oauth_states(self) -> OAuthStateStore:
        from functions.store.oauth_state import OAuthStateStore

        return OAuthStateStore(self.settings.require("oauth_state_table"))

    @cached_property
    def posts(self) -> PostStore:
        from functions.store.posts import PostStore

        return PostStore(self.settings.require("posts_table"))

    @cached_property
    def quota(self) -> SlotLedger:
        from functions.store.quota import SlotLedger

        return SlotLedger(self.settings.require("quota_table"))

    @cached_property
    def dedupe(self) -> DedupeStore:
        from functions.store.dedupe import DedupeStore

        return DedupeStore(self.settings.require("idempotency_table"))

    @cached_property
    def media(self) -> MediaStore:
        from functions.store.media import MediaStore

        return MediaStore()

    def app_credentials(self) -> tuple[str, str]:
        """(client_key, client_secret); cached by Powertools for five minutes, so never kept here."""
        from functions.store.secrets import tiktok_app_credentials

        return tiktok_app_credentials(self.settings.require("tiktok_secret_arn"))

    def media_signing_key(self) -> bytes | None:
        """The CloudFront signing key (PEM), when the deployment signs pull URLs; cached by Powertools."""
        if not (self.settings.media_key_pair_id and self.settings.media_signing_secret_arn):
            return None
        from functions.store.secrets import media_signing_key

        return media_signing_key(self.settings.media_signing_secret_arn)

    @cached_property
    def tiktok(self) -> TikTokClient:
        from functions.tiktok.client import TikTokClient

        trace_calls("requests")
        client_key, client_secret = self.app_credentials()
        timeout = self.settings.http_timeout_seconds
        return TikTokClient(
            client_key=client_key,
            client_secret=client_secret,
            api_base_url=self.settings.tiktok_api_base_url,
            auth_base_url=self.settings.tiktok_auth_base_url,
            timeout=(min(3.05, timeout), timeout),
            clock=self._clock,
            sleep=self._sleep,
        )

    @cached_property
    def access_tokens(self) -> AccessTokens:
        from functions.accounts.tokens import AccessTokens

        return AccessTokens(
            tokens=self.tokens,
            accounts=self.accounts,
            client=self.tiktok,
            clock=self._clock,
            sleep=self._sleep,
        )

    @cached_property
    def connect_flow(self) -> ConnectFlow:
        from functions.accounts.connect import ConnectFlow
        from functions.accounts.scopes import wanted_scopes

        return ConnectFlow(
            client=self.tiktok,
            states=self.oauth_states,
            accounts=self.accounts,
            tokens=self.tokens,
            redirect_uri=self.settings.require("oauth_redirect_uri"),
            scopes=wanted_scopes(self.settings),
        )

    @cached_property
    def post_intake(self) -> PostIntake:
        """S3 objects and API requests made into posts; a post refused at intake is announced at once."""
        from functions.posting.finish import emit
        from functions.posting.intake import PostIntake

        return PostIntake(
            posts=self.posts,
            accounts=self.accounts,
            media=self.media,
            start_execution=self.workflow.start,
            post_failed=lambda post: emit(self, post),
        )


def for_settings(settings: Settings) -> Wiring:
    """One Wiring per distinct settings and credentials: warm invocations reuse clients and caches. The
    credentials are part of the key because what a Wiring caches (the TikTok client built from the app
    secret, say) was read with them; in Lambda they are the function's, and the local runtime runs every
    function, each with its own role, in one process."""
    return _wiring(settings, os.environ.get("AWS_ACCESS_KEY_ID", ""))


@lru_cache(maxsize=32)
def _wiring(settings: Settings, _credentials: str) -> Wiring:
    return Wiring(settings, **_OVERRIDES)


for_settings.cache_clear = _wiring.cache_clear  # type: ignore[attr-defined]

# The ports a Wiring builds (each a cached_property) and so can be given instead.
PORTS = tuple(name for name, value in vars(Wiring).items() if isinstance(value, cached_property))
_OVERRIDES: dict[str, object] = {}


def _check_ports(ports: dict[str, object]) -> None:
    unknown = sorted(set(ports) - set(PORTS))
    if unknown:
        raise TypeError(f"not a port of Wiring: {', '.join(unknown)}; ports: {', '.join(PORTS)}")


@contextmanager
def overrides(**ports: object) -> Iterator[None]:
    """Every Wiring that `for_settings` builds meanwhile uses these ports (the handlers' Wirings): for tests
    and the local runtime. Wirings built before keep theirs, so the cache is cleared on the way in and out."""
    _check_ports(ports)
    previous = dict(_OVERRIDES)
    _OVERRIDES.update(ports)
    _wiring.cache_clear()
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(previous)
        _wiring.cache_clear()

"""The ports logic may ask for, one small protocol each; a logic module names the ones it uses.

A module's functions take `ports: SomethingPorts` (a protocol made of these), not the whole Wiring: the
type says what a function reaches, mypy refuses any other port, and a test may pass any object that has
just those. `functions.wiring.Wiring` has them all and builds each on first use (docs/decisions.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from functions.accounts.tokens import AccessTokens
    from functions.posting.rate_budget import RateBudget
    from functions.settings import Settings
    from functions.store.accounts import AccountStore
    from functions.store.dedupe import DedupeStore
    from functions.store.events import EventBus
    from functions.store.media import MediaStore
    from functions.store.posts import PostStore
    from functions.store.quota import SlotLedger
    from functions.store.schedules import Schedules
    from functions.store.tokens import TokenStore
    from functions.store.workflow import Workflow
    from functions.tiktok.client import TikTokClient
    from functions.tiktok.upload import ChunkUploader


class HasClock(Protocol):
    def now(self) -> int: ...


class HasSleep(Protocol):
    def sleep(self, seconds: float) -> None: ...


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


class HasPosts(Protocol):
    @property
    def posts(self) -> PostStore: ...


class HasAccounts(Protocol):
    @property
    def accounts(self) -> AccountStore: ...


class HasTokens(Protocol):
    @property
    def tokens(self) -> TokenStore: ...


class HasQuota(Protocol):
    @property
    def quota(self) -> SlotLedger: ...


class HasDedupe(Protocol):
    @property
    def dedupe(self) -> DedupeStore: ...


class HasMedia(Protocol):
    @property
    def media(self) -> MediaStore: ...


class HasTikTok(Protocol):
    @property
    def tiktok(self) -> TikTokClient: ...


class HasAccessTokens(Protocol):
    @property
    def access_tokens(self) -> AccessTokens: ...


class HasRateBudget(Protocol):
    @property
    def rate_budget(self) -> RateBudget: ...


class HasWorkflow(Protocol):
    @property
    def workflow(self) -> Workflow: ...


class HasEventBus(Protocol):
    @property
    def event_bus(self) -> EventBus: ...


class HasSchedules(Protocol):
    @property
    def schedules(self) -> Schedules: ...


class HasUploader(Protocol):
    @property
    def uploader(self) -> ChunkUploader: ...


class HasPullVideos(Protocol):
    @property
    def pull_videos(self) -> bool: ...


class HasMediaSigningKey(Protocol):
    def media_signing_key(self) -> bytes | None: ...


class CallsTikTok(HasClock, HasAccounts, HasTikTok, HasAccessTokens, HasRateBudget, Protocol):
    """What a call to TikTok on a creator's behalf needs: a fresh token, the rate budget, the client, and
    the account to mark when TikTok says the creator must connect again."""

"""Every init TikTok may count holds a daily-cap slot for the 24 hours TikTok counts it.

ReserveQuota, InitPost and Finish run against moto with a clock the test moves; TikTok's answers to the
init call are scripted (the workflow tests and the resilience run put the sandbox behind the same steps).
The property checked each time: TikTok is never asked for more inits in any 24 hours than the cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.posting import init as init_module
from functions.posting.errors import PostRejectedError, QuotaWaitError, TransientStepError
from functions.posting.finish import finish
from functions.posting.init import init_post
from functions.posting.quota import posts_ledger
from functions.posting.record_parts import UploadProgress
from functions.posting.reserve import reserve_quota
from functions.store.accounts import Account
from functions.tiktok.errors import TikTokQuotaError, UnknownOutcomeError
from functions.tiktok.models import InitResult
from functions.wiring import Wiring
from tests.support.world import World

T0 = 1_780_000_000
DAY = 86_400
MARGIN = 120


@dataclass
class TikTok:
    """Scripted answers to InitPost's init call; records when each call reached TikTok."""

    answers: list[BaseException | None] = field(default_factory=list)
    asked_at: list[int] = field(default_factory=list)
    counted_at: list[int] = field(default_factory=list)  # the inits TikTok may have counted
    clock: list[int] = field(default_factory=lambda: [T0])

    def __call__(self, *_args: Any) -> tuple[InitResult, UploadProgress]:
        now = self.clock[0]
        self.asked_at.append(now)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, UnknownOutcomeError):
            self.counted_at.append(now)  # TikTok may have created it; we never learn
        if answer is not None:
            raise answer
        self.counted_at.append(now)
        result = InitResult(publish_id=f"v_pub_file~v2-1.{len(self.asked_at)}", upload_url="https://up/1")
        return result, UploadProgress(total=1000, chunk_size=1000, chunks=1, preferred_chunk_size=1000)

    def most_in_any_day(self) -> int:
        times = sorted(self.counted_at)
        return max((sum(1 for t in times if start <= t < start + DAY) for start in times), default=0)


class ScriptedClock:
    def __init__(self, now: list[int]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now[0]

    def sleep(self, seconds: float) -> None:
        self._now[0] += int(seconds)


@pytest.fixture
def tiktok(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[TikTok]:
    fake = TikTok()
    w = world.wiring
    w.clock = ScriptedClock(fake.clock)  # a port of the Wiring: the test moves the time
    monkeypatch.setattr(init_module, "_call", fake)
    w.tokens.save(
        "alice",
        access_token="act.alice",
        refresh_token="rft.alice",
        open_id="open-alice",
        scopes=["video.publish"],
        access_expires_at=T0 + 30 * DAY,
        refresh_expires_at=T0 + 365 * DAY,
        now=T0,
    )
    yield fake


def _account_with_posts(w: Wiring, cap: int, *post_ids: str) -> None:
    w.accounts.put(
        Account("alice", "open-alice", "alice", "Alice", ["video.publish"], "connected", daily_post_cap=cap)
    )
    for post_id in post_ids:
        w.posts.create(
            {
                "post_id": post_id,
                "account_id": "alice",
                "status": "RECEIVED",
                "mode": "direct",
                "kind": "video",
                "settings": {"video": "a.mp4", "mode": "direct", "privacy_level": "SELF_ONLY"},
                "prepared": {
                    "source": "FILE_UPLOAD",
                    "video": {"size": 1000, "key": "a.mp4", "version_id": None, "content_type": "video/mp4"},
                },
            },
            T0,
        )


def _at(tiktok: TikTok, when: int) -> None:
    tiktok.clock[0] = when


def _zulu(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _statuses(w: Wiring, post_id: str) -> list[str]:
    post = w.posts.get(post_id)
    assert post is not None
    return [h["status"] for h in post["history"]]


def test_a_slot_that_lapsed_while_tiktok_said_not_now_is_not_used(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 1, "a", "b")
    assert reserve_quota(w, "a") == {"reserved": True}
    tiktok.answers.append(TikTokQuotaError("rate_limit_exceeded", http_status=429))
    with pytest.raises(QuotaWaitError):
        init_post(w, "a")  # TikTok refused: nothing counted, the slot stays with the post
    assert reserve_quota(w, "b")["reserved"] is False

    # TikTok kept answering "not now" for a day: the slot lapsed and the next post took it.
    _at(tiktok, T0 + DAY + MARGIN)
    assert reserve_quota(w, "b") == {"reserved": True}
    assert init_post(w, "b") == {"upload": True, "poll": True}
    _at(tiktok, T0 + DAY + MARGIN + 60)
    assert init_post(w, "a") == {"upload": False, "requeue": True}  # not asked: the cap is full
    assert tiktok.asked_at == [T0, T0 + DAY + MARGIN]

    waiting = reserve_quota(w, "a")
    assert waiting["reserved"] is False
    post_a = w.posts.get("a")
    assert post_a is not None and post_a["status"] == "WAITING_QUOTA"  # back from INITIALIZING, said so
    assert _statuses(w, "a")[-2:] == ["INITIALIZING", "WAITING_QUOTA"]
    assert post_a["waiting_until"] >= T0 + DAY + MARGIN + DAY

    _at(tiktok, post_a["waiting_until"])
    assert reserve_quota(w, "a") == {"reserved": True}
    assert init_post(w, "a") == {"upload": True, "poll": True}
    assert tiktok.most_in_any_day() == 1


def test_a_slot_still_held_is_renewed_to_a_day_from_the_init(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 1, "a", "b")
    assert reserve_quota(w, "a") == {"reserved": True}
    _at(tiktok, T0 + DAY - 10)  # init asked just before the reservation's day ends
    assert init_post(w, "a") == {"upload": True, "poll": True}
    _at(tiktok, T0 + DAY + MARGIN)
    assert reserve_quota(w, "b")["reserved"] is False
    assert w.quota.usage(posts_ledger("alice"), T0 + DAY + MARGIN, 1)[1] == T0 + DAY - 10 + 1 + DAY + MARGIN


def test_an_unanswered_init_keeps_its_slot_and_the_repeat_takes_another(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 2, "a", "b")
    assert reserve_quota(w, "a") == {"reserved": True}
    tiktok.answers.append(UnknownOutcomeError("init", "connection reset"))
    with pytest.raises(TransientStepError):
        init_post(w, "a")
    _at(tiktok, T0 + 10)
    assert init_post(w, "a") == {
        "upload": True,
        "poll": True,
    }  # an upload init is safe to repeat, in a slot of its own
    post_a = w.posts.get("a")
    assert post_a is not None and post_a["unanswered_inits"] == 1
    assert w.quota.usage(posts_ledger("alice"), T0 + 10, 2)[0] == 2
    assert reserve_quota(w, "b")["reserved"] is False  # both slots: the lost init and the answered one
    assert tiktok.most_in_any_day() == 2


def test_an_unanswered_init_with_no_slot_left_waits_instead_of_repeating(
    world: World, tiktok: TikTok
) -> None:
    w = world.wiring
    _account_with_posts(w, 1, "a")
    assert reserve_quota(w, "a") == {"reserved": True}
    tiktok.answers.append(UnknownOutcomeError("init", "read timeout"))
    with pytest.raises(TransientStepError):
        init_post(w, "a")
    _at(tiktok, T0 + 5)
    assert init_post(w, "a") == {"upload": False, "requeue": True}
    until = T0 + DAY + MARGIN  # the lost init's slot: a day (and the margin) from when it was asked
    assert reserve_quota(w, "a") == {"reserved": False, "retry_at": _zulu(until)}
    _at(tiktok, until)
    assert reserve_quota(w, "a") == {"reserved": True}
    assert init_post(w, "a") == {"upload": True, "poll": True}
    assert tiktok.asked_at == [T0, until]


def test_a_lapsed_upload_url_keeps_the_first_inits_slot(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 2, "a", "b")
    assert reserve_quota(w, "a") == {"reserved": True}
    assert init_post(w, "a") == {"upload": True, "poll": True}
    post_a = w.posts.get("a")
    assert post_a is not None
    _at(tiktok, T0 + 3600)
    assert w.posts.reset_for_reinit("a", post_a["publish_id"], now=T0 + 3600, note="upload URL lapsed")
    assert init_post(w, "a") == {"upload": True, "poll": True}  # the new init holds the second slot
    assert reserve_quota(w, "b")["reserved"] is False
    assert tiktok.most_in_any_day() == 2


def test_finish_gives_back_only_a_slot_no_init_may_have_used(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 2, "refused", "unanswered", "next")
    assert reserve_quota(w, "refused") == {"reserved": True}
    assert reserve_quota(w, "unanswered") == {"reserved": True}
    tiktok.answers += [
        TikTokQuotaError("spam_risk_too_many_posts", http_status=403),
        UnknownOutcomeError("init", "x"),
    ]
    with pytest.raises(QuotaWaitError):
        init_post(w, "refused")
    with pytest.raises(TransientStepError):
        init_post(w, "unanswered")
    failure = {"Error": "PostRejectedError", "Cause": '{"errorMessage": "gave_up: the test stops here"}'}
    for name in ("refused", "unanswered"):
        assert finish(w, name, outcome=None, error=failure)["status"] == "FAILED"
    assert reserve_quota(w, "next") == {"reserved": True}  # the refused post's slot came back
    assert w.quota.usage(posts_ledger("alice"), T0, 2)[0] == 2  # the unanswered one's stays


def test_a_post_cancelled_before_its_init_never_reaches_tiktok(world: World, tiktok: TikTok) -> None:
    w = world.wiring
    _account_with_posts(w, 2, "a")
    assert reserve_quota(w, "a") == {"reserved": True}
    assert w.posts.cancel("a", now=T0, note="cancelled through the API", publish_id=None)
    with pytest.raises(PostRejectedError, match="post_cancelled"):
        init_post(w, "a")
    assert tiktok.asked_at == []
    assert w.posts.get("a")["status"] == "CANCELLED"  # type: ignore[index]

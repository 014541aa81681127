"""The resilience run in small (bench/resilience.py has the full one): posts across creators while
TikTok answers 5xx and 429 and drops connections mid-chunk and after a stored chunk, every webhook
arrives twice, a daily cap of two makes half the posts wait a day (virtual time), and the creators post
public videos from another app meanwhile, which fill the same cap. Whatever happens, no post is lost or
published twice, no account's cap is overshot in any 24 hours of TikTok's view, TikTok never has to
refuse a call our own limiter should have held back, and never refuses an init because of a video the
creator posted elsewhere. Counts only, never timings."""

from __future__ import annotations

from typing import Any

import pytest

from bench.resilience import DAY, ResilienceConfig, run

POSTS = 12


@pytest.fixture(scope="module")
def outcome() -> dict[str, Any]:
    config = ResilienceConfig(
        posts=POSTS,
        creators=3,
        daily_cap=2,
        seed=20261125,
        timeout_seconds=75,
        elsewhere_per_creator=1,
        elsewhere_within_seconds=2 * DAY,
    )
    return run(config)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("published", "waiting", "failed", "failed_by_reason", "lost_detail", "duplicated_detail")
    return {k: result[k] for k in keys} | {"injected": result["injected"]}


def test_faults_were_really_injected(outcome: dict[str, Any]) -> None:
    injected = outcome["injected"]
    assert sum(injected["5xx"].values()) + sum(injected["429"].values()) > 0, injected
    assert injected["drop_connection_mid_put"] + injected["drop_connection_after_put"] > 0, injected
    assert outcome["posts_that_waited_for_quota"] > 0, _summary(outcome)


def test_no_post_is_lost(outcome: dict[str, Any]) -> None:
    assert outcome["dropped"] == POSTS
    assert outcome["lost"] == 0, _summary(outcome)
    assert outcome["published"] + outcome["waiting"] + outcome["failed"] == POSTS, _summary(outcome)


def test_no_post_is_published_twice(outcome: dict[str, Any]) -> None:
    assert outcome["duplicated"] == 0, outcome["duplicated_detail"]


def test_no_account_goes_over_its_daily_cap_in_any_24_hours(outcome: dict[str, Any]) -> None:
    assert outcome["cap_overshoots"] == 0, (outcome["cap_by_account"], outcome["cap_worst_account_timeline"])


def test_tiktok_never_rate_limits_a_call_our_limiter_let_through(outcome: dict[str, Any]) -> None:
    assert outcome["limiter_preventable_429"] == 0, (
        outcome["limiter_preventable_429_by_path"],
        outcome["tiktok_answers_by_path"],
        outcome["injected"]["429"],
    )


def test_tiktok_never_refuses_an_init_because_of_a_video_posted_elsewhere(outcome: dict[str, Any]) -> None:
    assert outcome["posts_made_elsewhere"] > 0, outcome["posts_made_elsewhere_not_made"]
    assert outcome["spam_risk_caused_by_posts_elsewhere"] == 0, (
        outcome["spam_risk_init_refusal_examples"],
        outcome["init_refusals_403_by_path"],
        _summary(outcome),
    )

"""Which posts wait for review, and how a waiting post shows its link."""

from __future__ import annotations

from functions.posting.manifest import parse_manifest
from functions.posting.prepare import review_reason
from functions.posting.records import public_view
from functions.settings import Env, Settings


def test_only_direct_posts_without_an_authors_privacy_wait_unless_the_operator_asks() -> None:
    plain, approve_all = Settings(), Settings(review_all_direct_posts=True)
    no_privacy = parse_manifest({"video": "a.mp4"})
    chosen = parse_manifest({"video": "a.mp4", "privacy_level": "SELF_ONLY"})
    inbox = parse_manifest({"video": "a.mp4", "mode": "inbox"})
    assert "no privacy level" in str(review_reason(no_privacy, plain))
    assert review_reason(chosen, plain) is None
    assert "every direct post" in str(review_reason(chosen, approve_all))
    assert review_reason(inbox, plain) is None and review_reason(inbox, approve_all) is None


def test_a_waiting_post_shows_its_link_and_never_its_task_token() -> None:
    post = {
        "post_id": "p",
        "status": "AWAITING_REVIEW",
        "status_rank": 10,
        "task_token": "secret-token",
        "review": {"url": "https://api.example.com/review/p.1.sig", "expires_at": 1},
    }
    view = public_view(post)
    assert view["review_url"] == "https://api.example.com/review/p.1.sig"
    assert "task_token" not in view
    assert "review_url" not in public_view(
        {**post, "status": "SCHEDULED"}
    )  # decided: the link shows status only


def test_review_settings_come_from_the_environment() -> None:
    env = {
        Env.REVIEW_ALL_DIRECT_POSTS: "true",
        Env.REVIEW_EXPIRY_SECONDS: "600",
        Env.REVIEW_BASE_URL: "https://x/review/",
        Env.REVIEW_LINK_KEY_ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:k",
    }
    s = Settings.from_env_dict(env)
    assert s.review_all_direct_posts and s.review_expiry_seconds == 600
    assert s.review_base_url == "https://x/review" and s.review_link_key_arn.endswith(":k")
    assert not Settings.from_env_dict({}).review_all_direct_posts

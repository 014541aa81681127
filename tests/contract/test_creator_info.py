"""creator_info against docs/reference/tiktok-api.md §2.2, §7.1 and §7.2."""

from __future__ import annotations

from sandbox_client import Api, assert_envelope

PATH = "/v2/post/publish/creator_info/query/"


def test_s2_2_public_creator_gets_every_public_option(api: Api) -> None:
    body = assert_envelope(api.creator_info(api.token("sandbox_public")), 200, "ok")
    data = body["data"]
    assert data["creator_username"] == "sandbox_public"
    assert data["creator_nickname"] == "Sandbox Public"
    assert data["privacy_level_options"] == ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert data["comment_disabled"] is False
    assert data["duet_disabled"] is False and data["stitch_disabled"] is False
    assert data["max_video_post_duration_sec"] == 600
    assert data["creator_avatar_url"].startswith(api.base)
    assert api.http.get(data["creator_avatar_url"]).headers["Content-Type"] == "image/jpeg"


def test_s2_2_private_creator_gets_follower_options_and_no_duet_or_stitch(api: Api) -> None:
    data = assert_envelope(api.creator_info(api.token("sandbox_private")), 200, "ok")["data"]
    assert data["privacy_level_options"] == ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert data["duet_disabled"] is True and data["stitch_disabled"] is True
    assert data["comment_disabled"] is True
    assert data["max_video_post_duration_sec"] == 300


def test_s7_2_unaudited_client_is_offered_self_only(api: Api) -> None:
    data = assert_envelope(api.creator_info(api.token("sandbox_unaudited")), 200, "ok")["data"]
    assert data["privacy_level_options"] == ["SELF_ONLY"]


def test_s2_2_creator_at_the_daily_cap_gets_http_200_with_spam_risk_too_many_posts(api: Api) -> None:
    assert_envelope(api.creator_info(api.token("sandbox_capped")), 200, "spam_risk_too_many_posts")


def test_s2_2_banned_creator_gets_http_200_with_spam_risk_user_banned_from_posting(api: Api) -> None:
    assert_envelope(api.creator_info(api.token("sandbox_banned")), 200, "spam_risk_user_banned_from_posting")


def test_s2_2_needs_the_video_publish_scope(api: Api) -> None:
    token = api.token("sandbox_public", ["user.info.basic", "video.upload"])
    assert_envelope(api.creator_info(token), 401, "scope_not_authorized")


def test_s2_2_missing_or_bad_token_is_access_token_invalid(api: Api) -> None:
    assert_envelope(api.creator_info("act.nonsense"), 401, "access_token_invalid")
    assert_envelope(api.call(PATH, None), 401, "access_token_invalid")
    basic = api.http.post(api.base + PATH, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_envelope(basic, 401, "access_token_invalid")


def test_s7_1_creator_info_allows_20_per_minute_per_token_sliding(api: Api) -> None:
    token = api.token()
    for _ in range(20):
        assert api.creator_info(token).status_code == 200
    assert_envelope(api.creator_info(token), 429, "rate_limit_exceeded")
    api.advance(30)
    # Still inside the minute of the first 20 calls: a sliding window, not a fixed one.
    assert_envelope(api.creator_info(token), 429, "rate_limit_exceeded")
    api.advance(31)
    assert api.creator_info(token).status_code == 200


def test_s7_1_limits_are_per_token(api: Api) -> None:
    first, second = api.token(), api.token()
    for _ in range(20):
        api.creator_info(first)
    assert api.creator_info(first).status_code == 429
    assert api.creator_info(second).status_code == 200


def test_s7_2_reached_active_user_cap_for_the_sixth_unaudited_poster(api: Api) -> None:
    tokens = []
    for n in range(6):
        api.add_creator(
            username=f"solo_{n}",
            nickname=f"Solo {n}",
            open_id=f"open-solo-{n}",
            private=True,
            unaudited_client=True,
        )
        tokens.append(api.token(f"solo_{n}"))
    for token in tokens[:5]:
        assert api.init_video(token, 1000).status_code == 200
    assert_envelope(api.creator_info(tokens[5]), 200, "reached_active_user_cap")
    assert_envelope(api.init_video(tokens[5], 1000), 403, "reached_active_user_cap")
    # One of the five can keep posting; after 24 h the window frees up.
    assert api.init_video(tokens[0], 1000).status_code == 200
    api.advance(86400)
    assert api.init_video(api.token("solo_5"), 1000).status_code == 200

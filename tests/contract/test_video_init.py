"""Video init, direct (§2.3) and inbox (§2.4), and the chunk arithmetic of §3.1, checked at init."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_client import MB, Api, MakeSandbox, assert_envelope

DIRECT = "/v2/post/publish/video/init/"
INBOX = "/v2/post/publish/inbox/video/init/"
GB = 1024 * MB


def file_upload(size: int, chunk: int, count: int) -> dict[str, Any]:
    return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count}


def test_s2_3_direct_file_upload_returns_publish_id_and_upload_url(api: Api) -> None:
    body = assert_envelope(api.init_video(api.token(), 1_000_000, privacy="PUBLIC_TO_EVERYONE"), 200, "ok")
    data = body["data"]
    assert data["publish_id"].startswith("v_pub_file~v2-1.") and len(data["publish_id"]) <= 64
    assert data["upload_url"].startswith(api.base + "/upload/?upload_id=")
    assert "upload_token=" in data["upload_url"] and len(data["upload_url"]) <= 256


def test_s2_4_inbox_init_takes_source_info_only_and_needs_video_upload(api: Api) -> None:
    token = api.token("sandbox_public", ["video.upload"])
    data = assert_envelope(api.init_video(token, 1000, inbox=True), 200, "ok")["data"]
    assert data["publish_id"].startswith("v_inbox_file~v2.")
    post = api.inspect(data["publish_id"])
    assert post["mode"] == "inbox" and post["post_info"] == {}
    assert_envelope(api.init_video(token, 1000), 401, "scope_not_authorized")  # direct needs video.publish
    publish_only = api.token("sandbox_public", ["video.publish"])
    assert_envelope(api.init_video(publish_only, 1000, inbox=True), 401, "scope_not_authorized")


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (4_194_304, 4_194_304, 1),  # the docs' whole-upload example: under 5 MB, one piece
        (1, 1, 1),
        (50_000_123, 10_000_000, 5),  # the docs' chunk example: floor, last chunk 10,000,123
        (5 * MB, 5 * MB, 1),
        (20 * MB, 20 * MB, 1),  # between 5 and 64 MB one chunk is fine
        (64 * MB, 64 * MB, 1),
        (64 * MB + 1, 32 * MB, 2),
        (127 * MB, 32 * MB, 3),  # 32 + 32 + a 63 MB final chunk
        (191 * MB, 64 * MB, 2),  # the final chunk may grow to 127 MB (up to 128 MB)
        (4 * GB, 64 * MB, 64),  # 4 GB validated by arithmetic only
        (4 * GB, 5 * MB, 819),
    ],
)
def test_s3_1_chunk_plans_tiktok_accepts(api: Api, size: int, chunk: int, count: int) -> None:
    response = api.init_video(api.token(), size, chunk_size=chunk, count=count)
    assert_envelope(response, 200, "ok")


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (50_000_123, 10_000_000, 6),  # ceil() is wrong
        (4 * MB, 1 * MB, 4),  # under 5 MB must be one piece
        (4 * MB, 4 * MB, 2),
        (4 * MB, 5 * MB, 1),  # chunk_size must equal the whole video
        (10 * MB, 4 * MB, 2),  # chunks are at least 5 MB
        (200 * MB, 100 * MB, 2),  # and at most 64 MB
        (64 * MB + 1, 64 * MB, 1),  # over 64 MB needs several chunks
        (127 * MB, 64 * MB, 1),
        (100 * MB, 100 * MB, 1),
        (4 * GB + 1, 64 * MB, 64),  # over 4 GB
        (4 * GB, 4 * MB, 1024),  # more than 1000 chunks (and under 5 MB)
        (10 * MB, 5 * MB, 0),
        (0, 0, 1),
        (-5, 5, 1),
        (6 * MB, 0, 1),
    ],
)
def test_s3_1_chunk_plans_tiktok_refuses(api: Api, size: int, chunk: int, count: int) -> None:
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": file_upload(size, chunk, count)}
    assert_envelope(api.call(DIRECT, api.token(), body), 400, "invalid_params")
    assert_envelope(
        api.call(INBOX, api.token(), {"source_info": file_upload(size, chunk, count)}), 400, "invalid_params"
    )


@pytest.mark.parametrize(
    "source_info",
    [
        {},
        {"source": "FILE_UPLOAD"},
        {"source": "FILE_UPLOAD", "video_size": "1000", "chunk_size": 1000, "total_chunk_count": 1},
        {"source": "FILE_UPLOAD", "video_size": 1000.0, "chunk_size": 1000, "total_chunk_count": 1},
        {"source": "FILE_UPLOAD", "video_size": True, "chunk_size": True, "total_chunk_count": True},
        {"source": "FILE_UPLOAD", "video_size": 2**64, "chunk_size": 2**64, "total_chunk_count": 1},
        {"source": "UPLOAD_FROM_SPACE", "video_size": 1000, "chunk_size": 1000, "total_chunk_count": 1},
        {"source": "PULL_FROM_URL"},
        {"source": "PULL_FROM_URL", "video_url": 42},
        "FILE_UPLOAD",
    ],
)
def test_s2_3_bad_source_info_is_invalid_params(api: Api, source_info: Any) -> None:
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": source_info}
    assert_envelope(api.call(DIRECT, api.token(), body), 400, "invalid_params")


@pytest.mark.parametrize(
    "post_info",
    [
        None,
        "SELF_ONLY",
        {"privacy_level": 3},
        {"privacy_level": "SELF_ONLY", "title": 7},
        {"privacy_level": "SELF_ONLY", "disable_comment": "yes"},
        {"privacy_level": "SELF_ONLY", "disable_duet": 1},
        {"privacy_level": "SELF_ONLY", "is_aigc": "true"},
        {"privacy_level": "SELF_ONLY", "brand_content_toggle": 0},
        {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": "1000"},
        {"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 2**31},
    ],
)
def test_s2_3_bad_post_info_is_invalid_params(api: Api, post_info: Any) -> None:
    body = {"post_info": post_info, "source_info": file_upload(1000, 1000, 1)}
    assert_envelope(api.call(DIRECT, api.token(), body), 400, "invalid_params")


def test_s2_3_title_limit_counts_utf16_units(api: Api) -> None:
    token = api.token()
    # An emoji outside the BMP is one code point but two UTF-16 units.
    assert_envelope(api.init_video(token, 1000, title="😀" * 1100), 200, "ok")
    assert_envelope(api.init_video(token, 1000, title="😀" * 1100 + "a"), 400, "invalid_params")
    assert_envelope(api.init_video(token, 1000, title="a" * 2200), 200, "ok")
    assert_envelope(api.init_video(token, 1000, title="é" * 2201), 400, "invalid_params")


def test_s2_3_out_of_range_cover_timestamp_is_accepted(api: Api) -> None:
    assert_envelope(api.init_video(api.token(), 1000, video_cover_timestamp_ms=-5), 200, "ok")


@pytest.mark.parametrize(
    ("creator", "privacy"),
    [
        ("sandbox_public", None),  # §2.3: required, no default
        ("sandbox_public", "FOLLOWER_OF_CREATOR"),  # a private-account option
        ("sandbox_private", "PUBLIC_TO_EVERYONE"),
        ("sandbox_public", "EVERYONE"),
        ("sandbox_unaudited", "FOLLOWER_OF_CREATOR"),  # unaudited: SELF_ONLY only
    ],
)
def test_s7_3_privacy_level_must_be_one_creator_info_offers(
    api: Api, creator: str, privacy: str | None
) -> None:
    assert_envelope(
        api.init_video(api.token(creator), 1000, privacy=privacy), 403, "privacy_level_option_mismatch"
    )


def test_s8_branded_content_cannot_be_self_only(api: Api) -> None:
    token = api.token()
    assert_envelope(
        api.init_video(token, 1000, privacy="SELF_ONLY", brand_content_toggle=True),
        403,
        "privacy_level_option_mismatch",
    )
    assert_envelope(
        api.init_video(token, 1000, privacy="MUTUAL_FOLLOW_FRIENDS", brand_content_toggle=True), 200, "ok"
    )
    assert_envelope(api.init_video(token, 1000, privacy="SELF_ONLY", brand_organic_toggle=True), 200, "ok")


def test_s2_3_banned_creator_cannot_init(api: Api) -> None:
    token = api.token("sandbox_banned")
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_user_banned_from_posting")
    assert_envelope(api.init_video(token, 1000, inbox=True), 403, "spam_risk_user_banned_from_posting")


def test_s7_2_creator_at_the_cap_cannot_direct_post_but_can_upload_to_inbox(api: Api) -> None:
    token = api.token("sandbox_capped")
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")
    assert_envelope(api.init_video(token, 1000, inbox=True), 200, "ok")
    api.advance(86400)  # the preloaded posts leave the 24-hour window
    assert_envelope(api.init_video(api.token("sandbox_capped"), 1000), 200, "ok")


def test_s7_2_posts_per_creator_per_24h_are_counted_at_init(api: Api) -> None:
    api.add_creator(username="two_a_day", nickname="Two", open_id="open-two", post_cap=2)
    token = api.token("two_a_day")
    assert api.init_video(token, 1000).status_code == 200
    api.advance(3600)
    assert api.init_video(token, 1000).status_code == 200
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")
    assert_envelope(api.creator_info(token), 200, "spam_risk_too_many_posts")
    api.advance(86400 - 3600)  # the first post leaves the window, the second has not
    token = api.token("two_a_day")  # the first token expired meanwhile
    assert api.init_video(token, 1000).status_code == 200
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")


def test_faults_an_init_whose_answer_is_lost_still_counts(api: Api) -> None:
    api.add_creator(username="one_a_day", nickname="One", open_id="open-one", post_cap=1)
    token = api.token("one_a_day")
    api.faults(drop_connection_after_init=1)
    with pytest.raises(requests.ConnectionError):
        api.init_video(token, 1000)
    # The caller never learned of the post, but TikTok made and counted it.
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")
    assert api.faults().json()["drop_connection_after_init"] == 0


def test_s7_2_default_cap_is_15_and_configurable(make_sandbox: MakeSandbox) -> None:
    _, api = make_sandbox(posts_per_day=1)
    token = api.token()
    assert api.init_video(token, 1000).status_code == 200
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")


def test_s7_2_fifteen_direct_posts_then_spam_risk_too_many_posts(api: Api) -> None:
    token = api.token()
    for n in range(15):
        if n and n % 6 == 0:
            api.advance(61)  # stay inside the 6 inits per minute
        assert api.init_video(token, 1000).status_code == 200, n
    api.advance(61)
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")


def test_s7_2_five_pending_inbox_shares_per_24h(api: Api) -> None:
    token = api.token("sandbox_private")
    first = api.init_video(token, 1000, inbox=True).json()["data"]["publish_id"]
    for _ in range(4):
        assert api.init_video(token, 1000, inbox=True).status_code == 200
    assert_envelope(api.init_video(token, 1000, inbox=True), 403, "spam_risk_too_many_pending_share")
    # A share that ends (here: cancelled) is no longer pending.
    assert_envelope(api.cancel(token, first), 200, "ok")
    api.advance(61)
    assert api.init_video(token, 1000, inbox=True).status_code == 200
    assert_envelope(api.init_video(token, 1000, inbox=True), 403, "spam_risk_too_many_pending_share")
    api.advance(86400)
    assert api.init_video(api.token("sandbox_private"), 1000, inbox=True).status_code == 200


def test_s7_2_unaudited_client_posts_only_to_private_accounts(api: Api) -> None:
    api.add_creator(
        username="loud", nickname="Loud", open_id="open-loud", private=False, unaudited_client=True
    )
    token = api.token("loud")
    assert_envelope(api.init_video(token, 1000), 403, "unaudited_client_can_only_post_to_private_accounts")
    assert_envelope(api.init_video(api.token("sandbox_unaudited"), 1000), 200, "ok")


def test_s7_2_whole_client_unaudited(make_sandbox: MakeSandbox) -> None:
    _, api = make_sandbox(audited=False)
    public = api.token("sandbox_public")
    assert_envelope(api.init_video(public, 1000), 403, "unaudited_client_can_only_post_to_private_accounts")
    private = api.token("sandbox_private")
    assert api.creator_info(private).json()["data"]["privacy_level_options"] == ["SELF_ONLY"]
    assert_envelope(
        api.init_video(private, 1000, privacy="FOLLOWER_OF_CREATOR"), 403, "privacy_level_option_mismatch"
    )
    assert_envelope(api.init_video(private, 1000), 200, "ok")
    # Inbox uploads are not Direct Posts: the unaudited rules do not apply.
    assert_envelope(api.init_video(public, 1000, inbox=True), 200, "ok")


def test_s7_1_init_allows_6_per_minute_per_token_and_endpoint(api: Api) -> None:
    token = api.token()
    for _ in range(6):
        assert api.init_video(token, 1000).status_code == 200
    assert_envelope(api.init_video(token, 1000), 429, "rate_limit_exceeded")
    # Each init endpoint has its own budget (§7.1 lists them separately).
    assert api.init_video(token, 1000, inbox=True).status_code == 200
    api.advance(60)
    assert api.init_video(token, 1000).status_code == 200

"""Photo posts against docs/reference/tiktok-api.md §2.5 and §3.6."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_client import Api, assert_envelope
from sandbox_media import photo
from sandbox_peers import MediaOrigin, WebhookReceiver

CONTENT = "/v2/post/publish/content/init/"


def test_s2_5_direct_photo_post_pulls_every_image_and_publishes(
    api: Api, origin: MediaOrigin, receiver: WebhookReceiver
) -> None:
    urls = [origin.add("a.jpg", photo("JPEG", 1080, 1920)), origin.add("b.webp", photo("WEBP", 1920, 1080))]
    token = api.token()
    data = assert_envelope(
        api.init_photos(token, urls, cover=1, privacy_level="PUBLIC_TO_EVERYONE"), 200, "ok"
    )["data"]
    assert data["publish_id"].startswith("p_pub_url~v2.") and "upload_url" not in data
    post = api.wait_for(data["publish_id"], lambda p: p["publicly_available"])
    assert post["status"] == "PUBLISH_COMPLETE" and post["media_type"] == "PHOTO"
    assert [f["bytes"] for f in post["files"]] == [
        len(photo("JPEG", 1080, 1920)),
        len(photo("WEBP", 1920, 1080)),
    ]
    assert [p["format"] for p in post["probe"]] == ["JPEG", "WEBP"]
    receiver.wait_for(lambda items: any(b"post.publish.publicly_available" in r.body for r in items))


def test_s2_5_media_upload_goes_to_the_inbox(api: Api, origin: MediaOrigin) -> None:
    token = api.token("sandbox_public", ["video.upload"])
    urls = [origin.add("a.jpg", photo())]
    publish_id = assert_envelope(api.init_photos(token, urls, mode="MEDIA_UPLOAD"), 200, "ok")["data"][
        "publish_id"
    ]
    assert publish_id.startswith("p_inbox_url~v2.")
    assert api.wait_status(publish_id, "SEND_TO_USER_INBOX")["mode"] == "inbox"
    assert_envelope(api.init_photos(token, urls, mode="DIRECT_POST"), 401, "scope_not_authorized")


def test_s2_5_up_to_35_images(api: Api, origin: MediaOrigin) -> None:
    url = origin.add("a.jpg", photo())
    token = api.token()
    assert_envelope(api.init_photos(token, [url] * 35), 200, "ok")
    assert_envelope(api.init_photos(token, [url] * 36), 400, "invalid_params")
    assert_envelope(api.init_photos(token, []), 400, "invalid_params")


def test_s2_5_caption_limits_in_utf16_units(api: Api, origin: MediaOrigin) -> None:
    url = origin.add("a.jpg", photo())
    token = api.token()
    assert_envelope(api.init_photos(token, [url], title="😀" * 45), 200, "ok")
    assert_envelope(api.init_photos(token, [url], title="😀" * 45 + "x"), 400, "invalid_params")
    assert_envelope(api.init_photos(token, [url], description="d" * 4000), 200, "ok")
    api.advance(61)
    assert_envelope(api.init_photos(token, [url], description="d" * 4001), 400, "invalid_params")


@pytest.mark.parametrize(
    "change",
    [
        {"media_type": "VIDEO"},
        {"media_type": None},
        {"post_mode": "SCHEDULED"},
        {"post_mode": None},
        {"source_info": {"source": "FILE_UPLOAD", "photo_images": ["x"], "photo_cover_index": 0}},
        {"source_info": {"source": "PULL_FROM_URL", "photo_images": ["x"]}},  # cover index required
        {"source_info": {"source": "PULL_FROM_URL", "photo_images": ["x"], "photo_cover_index": 1}},
        {"source_info": {"source": "PULL_FROM_URL", "photo_images": ["x"], "photo_cover_index": -1}},
        {"source_info": {"source": "PULL_FROM_URL", "photo_images": "x", "photo_cover_index": 0}},
        {"source_info": {"source": "PULL_FROM_URL", "photo_images": [7], "photo_cover_index": 0}},
        {"is_aigc": "no"},
        {"post_info": None},  # DIRECT_POST needs post_info
        {"post_info": {"privacy_level": "SELF_ONLY", "auto_add_music": "yes"}},
    ],
)
def test_s2_5_bad_bodies_are_invalid_params(api: Api, origin: MediaOrigin, change: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"privacy_level": "SELF_ONLY"},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": [origin.add("a.jpg", photo())],
            "photo_cover_index": 0,
        },
        "is_aigc": True,
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_envelope(api.call(CONTENT, api.token(), body), 400, "invalid_params")


def test_s2_5_direct_photo_rules_match_video(api: Api, origin: MediaOrigin) -> None:
    url = origin.add("a.jpg", photo())
    assert_envelope(
        api.init_photos(api.token(), [url], privacy_level="FOLLOWER_OF_CREATOR"),
        403,
        "privacy_level_option_mismatch",
    )
    assert_envelope(
        api.init_photos(api.token("sandbox_banned"), [url]), 403, "spam_risk_user_banned_from_posting"
    )
    assert_envelope(api.init_photos(api.token("sandbox_capped"), [url]), 403, "spam_risk_too_many_posts")
    assert_envelope(
        api.init_photos(api.token(), [url, "https://elsewhere.example.com/b.jpg"]),
        403,
        "url_ownership_unverified",
    )


def test_s2_5_media_upload_needs_app_31_8(api: Api, origin: MediaOrigin) -> None:
    api.add_creator(username="old_phone", nickname="Old", open_id="open-old", app_version="31.7.2")
    token = api.token("old_phone")
    url = origin.add("a.jpg", photo())
    assert_envelope(api.init_photos(token, [url], mode="MEDIA_UPLOAD"), 400, "app_version_check_failed")
    assert_envelope(api.init_photos(token, [url]), 200, "ok")  # Direct Post has no such check


def test_s2_5_pending_inbox_cap_counts_photo_media_uploads(api: Api, origin: MediaOrigin) -> None:
    token = api.token()
    url = origin.add("a.jpg", photo())
    for _ in range(3):
        assert api.init_video(token, 1000, inbox=True).status_code == 200
    for _ in range(2):
        assert api.init_photos(token, [url], mode="MEDIA_UPLOAD").status_code == 200
    assert_envelope(
        api.init_photos(token, [url], mode="MEDIA_UPLOAD"), 403, "spam_risk_too_many_pending_share"
    )


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (lambda: photo("PNG", 500, 500), "file_format_check_failed"),
        (lambda: photo("JPEG", 1200, 1200), "picture_size_check_failed"),  # beyond 1080p
        (lambda: photo("JPEG", 1080, 2000), "picture_size_check_failed"),
        (lambda: photo("JPEG", 100, 100) + bytes(21 * 1024 * 1024), "file_format_check_failed"),  # > 20 MB
        (lambda: b"GIF89a not really", "file_format_check_failed"),
    ],
)
def test_s3_6_images_outside_the_limits_fail(api: Api, origin: MediaOrigin, image: Any, reason: str) -> None:
    urls = [origin.add("good.jpg", photo()), origin.add("bad.img", image())]
    publish_id = api.init_photos(api.token(), urls).json()["data"]["publish_id"]
    assert api.wait_status(publish_id, "FAILED")["fail_reason"] == reason


def test_s4_2_missing_image_fails_with_photo_pull_failed(api: Api, origin: MediaOrigin) -> None:
    urls = [origin.add("good.jpg", photo()), f"{origin.url}/media/missing.jpg"]
    publish_id = api.init_photos(api.token(), urls).json()["data"]["publish_id"]
    assert api.wait_status(publish_id, "FAILED")["fail_reason"] == "photo_pull_failed"

"""Request/response models: TikTok's field rules, misspellings, and tokens that never show."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from functions.tiktok.chunks import plan_chunks
from functions.tiktok.models import (
    CreatorInfo,
    InitResult,
    MediaSource,
    PhotoPostInfo,
    PhotoPostMode,
    PhotoSourceInfo,
    PrivacyLevel,
    PublishStatus,
    TokenResponseError,
    TokenSet,
    VideoPostInfo,
    VideoSourceInfo,
    parse_scopes,
    utf16_length,
)

ACCESS = "act.1234567890abcdefSECRETACCESS"
REFRESH = "rft.1234567890abcdefSECRETREFRESH"
NOW = 1_764_000_000.7


def token_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "access_token": ACCESS,
        "expires_in": 7200,
        "open_id": "open-1",
        "refresh_token": REFRESH,
        "refresh_expires_in": 15_552_000,
        "scope": "user.info.basic,video.upload,video.publish",
        "token_type": "Bearer",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# ------------------------------------------------------------------------------------------ tokens


def test_token_set_expiry_comes_from_expires_in() -> None:
    tokens = TokenSet.from_token_response(token_body(), now=NOW)
    assert tokens.access_expires_at == 1_764_000_000 + 7200
    assert tokens.refresh_expires_at == 1_764_000_000 + 15_552_000
    assert tokens.scopes == ["user.info.basic", "video.upload", "video.publish"]
    assert tokens.access_token.get_secret_value() == ACCESS
    assert tokens.refresh_token.get_secret_value() == REFRESH
    assert (tokens.open_id, tokens.token_type) == ("open-1", "Bearer")


def test_older_24h_lifetimes_are_taken_as_given() -> None:
    tokens = TokenSet.from_token_response(token_body(expires_in=86400, refresh_expires_in="31536000"), now=0)
    assert (tokens.access_expires_at, tokens.refresh_expires_at) == (86400, 31_536_000)


def test_token_values_never_show_in_repr_str_or_dumps(caplog: pytest.LogCaptureFixture) -> None:
    tokens = TokenSet.from_token_response(token_body(), now=NOW)
    logging.getLogger("test").warning("tokens %s %r", tokens, tokens)
    rendered = [repr(tokens), str(tokens), tokens.model_dump_json(), str(tokens.model_dump()), caplog.text]
    for text in rendered:
        assert ACCESS not in text and REFRESH not in text
        assert "SECRET" not in text


def test_a_bad_token_response_names_fields_not_values() -> None:
    with pytest.raises(TokenResponseError) as info:
        TokenSet.from_token_response(token_body(expires_in=None, open_id=""), now=NOW)
    assert "expires_in" in str(info.value) and "open_id" in str(info.value)
    assert ACCESS not in str(info.value) and REFRESH not in str(info.value)


def test_validation_errors_hide_token_inputs() -> None:
    with pytest.raises(ValidationError) as info:
        TokenSet.model_validate(
            {
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "open_id": "o",
                "scopes": [],
                "access_expires_at": "x",
                "refresh_expires_at": 1,
            }
        )
    assert ACCESS not in str(info.value)


@pytest.mark.parametrize("expires_in", [-5, "soon", True, 1.5])
def test_unusable_expiry_is_refused(expires_in: object) -> None:
    with pytest.raises(TokenResponseError, match="expires_in"):
        TokenSet.from_token_response(token_body(expires_in=expires_in), now=NOW)


def test_the_newest_refresh_token_always_wins() -> None:
    tokens = TokenSet.from_token_response(
        token_body(refresh_token="rft.NEW"), now=NOW, fallback_refresh_token="rft.OLD"
    )
    assert tokens.refresh_token.get_secret_value() == "rft.NEW"


def test_a_response_without_a_refresh_token_keeps_the_current_one() -> None:
    body = token_body(refresh_token=None, refresh_expires_in=None)
    tokens = TokenSet.from_token_response(
        body, now=NOW, fallback_refresh_token="rft.OLD", fallback_refresh_expires_at=99
    )
    assert (tokens.refresh_token.get_secret_value(), tokens.refresh_expires_at) == ("rft.OLD", 99)
    with pytest.raises(TokenResponseError, match="refresh_token"):
        TokenSet.from_token_response(body, now=NOW)


def test_token_helpers() -> None:
    tokens = TokenSet.from_token_response(token_body(), now=1000)
    assert tokens.access_valid(1000) and not tokens.access_valid(1000 + 7200 - 300)
    assert tokens.access_valid(1000 + 7199, margin_seconds=0) and not tokens.access_valid(
        1000 + 7200, margin_seconds=0
    )
    assert tokens.refresh_valid(1000) and not tokens.refresh_valid(1000 + 15_552_000)
    assert tokens.has_scopes("video.upload") and not tokens.has_scopes("video.upload", "video.list")
    assert TokenSet.from_token_response(token_body(token_type=None), now=0).token_type == "Bearer"


@pytest.mark.parametrize(
    ("raw", "scopes"),
    [
        ("a,b", ["a", "b"]),
        ("a, b,,a", ["a", "b"]),
        ("a b", ["a", "b"]),
        ("", []),
        (None, []),
        (["x", "y"], ["x", "y"]),
    ],
)
def test_scope_parsing(raw: object, scopes: list[str]) -> None:
    assert parse_scopes(raw) == scopes


# --------------------------------------------------------------------------------------- responses


def test_creator_info_parses_and_drops_unknown_privacy_levels() -> None:
    info = CreatorInfo.model_validate(
        {
            "creator_avatar_url": "https://p16.example/a.jpg",
            "creator_username": "tiktok",
            "creator_nickname": None,
            "privacy_level_options": ["PUBLIC_TO_EVERYONE", "NEW_LEVEL", "SELF_ONLY", 3],
            "comment_disabled": False,
            "duet_disabled": True,
            "stitch_disabled": True,
            "max_video_post_duration_sec": 300,
            "something_new": 1,
        }
    )
    assert info.privacy_level_options == [PrivacyLevel.PUBLIC_TO_EVERYONE, PrivacyLevel.SELF_ONLY]
    assert (info.creator_nickname, info.duet_disabled, info.max_video_post_duration_sec) == ("", True, 300)


def test_publish_status_reads_tiktoks_misspelled_field_as_text_ids() -> None:
    status = PublishStatus.model_validate(
        {
            "status": "PUBLISH_COMPLETE",
            "fail_reason": "",
            "publicaly_available_post_id": [7_300_000_000_000_000_001, "7300000000000000002"],
            "uploaded_bytes": 10_000,
        }
    )
    assert status.publicly_available_post_ids == ["7300000000000000001", "7300000000000000002"]
    assert status.fail_reason is None and status.uploaded_bytes == 10_000 and status.downloaded_bytes is None
    assert status.is_final


@pytest.mark.parametrize("key", ["publicly_available_post_id", "publicly_available_post_ids"])
def test_publish_status_accepts_a_corrected_spelling(key: str) -> None:
    assert PublishStatus.model_validate({"status": "FAILED", key: [1]}).publicly_available_post_ids == ["1"]


def test_publish_status_in_progress_and_unknown_values() -> None:
    status = PublishStatus.model_validate(
        {"status": "PROCESSING_UPLOAD", "publicaly_available_post_id": None}
    )
    assert status.publicly_available_post_ids == [] and not status.is_final
    assert PublishStatus.model_validate({"status": "SOMETHING_NEW"}).status == "SOMETHING_NEW"
    with pytest.raises(ValidationError):
        PublishStatus.model_validate({"fail_reason": "x"})


def test_init_result() -> None:
    assert InitResult.model_validate({"publish_id": "v_pub_url~v2.1"}).upload_url is None
    with pytest.raises(ValidationError):
        InitResult.model_validate({"publish_id": ""})


# ---------------------------------------------------------------------------------------- requests


def test_video_post_info_sends_only_what_is_set() -> None:
    info = VideoPostInfo(
        privacy_level=PrivacyLevel.SELF_ONLY, title="hi #tag", disable_comment=True, is_aigc=True
    )
    assert info.to_api() == {
        "privacy_level": "SELF_ONLY",
        "title": "hi #tag",
        "disable_comment": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "is_aigc": True,
    }


def test_privacy_level_has_no_default() -> None:
    with pytest.raises(ValidationError, match="privacy_level"):
        VideoPostInfo()  # type: ignore[call-arg]


def test_caption_limit_counts_utf16_units() -> None:
    emoji = "\U0001f600"  # two UTF-16 code units
    assert utf16_length(emoji) == 2
    VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title=emoji * 1100)
    with pytest.raises(ValidationError, match="2202 UTF-16 characters"):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title=emoji * 1101)
    VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="a" * 2200)


def test_branded_content_cannot_be_self_only() -> None:
    with pytest.raises(ValidationError, match="branded content"):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, brand_content_toggle=True)
    VideoPostInfo(privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE, brand_content_toggle=True)


def test_request_models_refuse_unknown_fields_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, tittle="typo")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        VideoPostInfo(privacy_level="EVERYONE")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, video_cover_timestamp_ms=-1)


def test_photo_post_info_per_mode() -> None:
    direct = PhotoPostInfo(
        title="t", description="d", privacy_level=PrivacyLevel.SELF_ONLY, auto_add_music=True
    )
    assert direct.to_api_for(PhotoPostMode.DIRECT_POST) == {
        "title": "t",
        "description": "d",
        "privacy_level": "SELF_ONLY",
        "auto_add_music": True,
    }
    with pytest.raises(ValueError, match="MEDIA_UPLOAD"):
        direct.to_api_for(PhotoPostMode.MEDIA_UPLOAD)
    assert PhotoPostInfo(title="t").to_api_for(PhotoPostMode.MEDIA_UPLOAD) == {"title": "t"}
    with pytest.raises(ValueError, match="privacy_level"):
        PhotoPostInfo(title="t").to_api_for(PhotoPostMode.DIRECT_POST)
    branded = PhotoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, brand_content_toggle=True)
    with pytest.raises(ValueError, match="branded"):
        branded.to_api_for(PhotoPostMode.DIRECT_POST)


def test_photo_text_limits() -> None:
    PhotoPostInfo(title="a" * 90, description="b" * 4000)
    with pytest.raises(ValidationError, match="at most 90"):
        PhotoPostInfo(title="a" * 91)
    with pytest.raises(ValidationError, match="at most 4000"):
        PhotoPostInfo(description="b" * 4001)


def test_video_source_from_a_chunk_plan() -> None:
    source = VideoSourceInfo.file_upload(plan_chunks(50_000_123, 10_000_000))
    assert source.to_api() == {
        "source": "FILE_UPLOAD",
        "video_size": 50_000_123,
        "chunk_size": 10_000_000,
        "total_chunk_count": 5,
    }


def test_video_source_checks_the_floor_rule_and_fields() -> None:
    with pytest.raises(ValidationError, match="floor"):
        VideoSourceInfo(
            source=MediaSource.FILE_UPLOAD, video_size=50_000_123, chunk_size=10_000_000, total_chunk_count=6
        )
    with pytest.raises(ValidationError, match="needs video_size"):
        VideoSourceInfo(source=MediaSource.FILE_UPLOAD, video_size=10)
    with pytest.raises(ValidationError, match="no video_url"):
        VideoSourceInfo(
            source=MediaSource.FILE_UPLOAD,
            video_url="https://x/y",
            video_size=1,
            chunk_size=1,
            total_chunk_count=1,
        )
    with pytest.raises(ValidationError, match="4 GB"):
        VideoSourceInfo(
            source=MediaSource.FILE_UPLOAD, video_size=2**33, chunk_size=2**26, total_chunk_count=128
        )


def test_pull_from_url_needs_https() -> None:
    assert VideoSourceInfo.pull_from_url("https://media.example.com/v.mp4").to_api() == {
        "source": "PULL_FROM_URL",
        "video_url": "https://media.example.com/v.mp4",
    }
    for bad in ("http://media.example.com/v.mp4", "https://", "ftp://x", "http://127.0.0.1.example.com/v"):
        with pytest.raises(ValidationError, match="https"):
            VideoSourceInfo.pull_from_url(bad)
    # The local sandbox pulls over plain http on loopback only.
    assert (
        VideoSourceInfo.pull_from_url("http://127.0.0.1:8080/v.mp4").video_url
        == "http://127.0.0.1:8080/v.mp4"
    )
    with pytest.raises(ValidationError, match="takes no video_size"):
        VideoSourceInfo(source=MediaSource.PULL_FROM_URL, video_url="https://a/b", video_size=3)


def test_photo_source_rules() -> None:
    urls = [f"https://media.example.com/{i}.jpg" for i in range(35)]
    source = PhotoSourceInfo(photo_images=urls, photo_cover_index=34)
    assert source.to_api() == {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 34}
    with pytest.raises(ValidationError):
        PhotoSourceInfo(photo_images=[*urls, "https://media.example.com/36.jpg"], photo_cover_index=0)
    with pytest.raises(ValidationError):
        PhotoSourceInfo(photo_images=[], photo_cover_index=0)
    with pytest.raises(ValidationError, match="out of range"):
        PhotoSourceInfo(photo_images=urls[:2], photo_cover_index=2)
    with pytest.raises(ValidationError, match="https"):
        PhotoSourceInfo(photo_images=["http://a/b.jpg"], photo_cover_index=0)
    with pytest.raises(ValidationError):
        PhotoSourceInfo(source="FILE_UPLOAD", photo_images=urls[:1], photo_cover_index=0)  # type: ignore[arg-type]

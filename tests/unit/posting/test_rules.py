"""Preflight rules: media limits, creator_info and the app's audit status, each failure naming its rule."""

from __future__ import annotations

import pytest

from functions.posting.errors import PostRejectedError
from functions.posting.manifest import parse_manifest
from functions.posting.media_probe import ImageProbe, VideoProbe
from functions.posting.rules import check_photo, check_privacy, check_video, interactions
from functions.settings import AppStatus
from functions.tiktok.models import CreatorInfo

PUBLIC = CreatorInfo.model_validate(
    {
        "creator_username": "pub",
        "creator_nickname": "Pub",
        "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": True,
        "max_video_post_duration_sec": 180,
    }
)
PRIVATE = CreatorInfo.model_validate(
    {
        "creator_username": "priv",
        "privacy_level_options": ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
        "comment_disabled": True,
        "duet_disabled": True,
        "stitch_disabled": True,
        "max_video_post_duration_sec": 600,
    }
)
GOOD = VideoProbe(container="mp4", codec="h264", duration_seconds=30.0, fps=30.0, width=1080, height=1920)


def _reason(call: object) -> str:
    with pytest.raises(PostRejectedError) as info:
        call()  # type: ignore[operator]
    return info.value.reason


def test_a_good_video_passes() -> None:
    check_video(GOOD, 10_000_000, PUBLIC)


@pytest.mark.parametrize(
    ("change", "size", "reason"),
    [
        ({"container": "avi"}, 1, "file_format_check_failed"),
        ({"codec": "mpeg4"}, 1, "file_format_check_failed"),
        ({"codec": None}, 1, "file_format_check_failed"),
        ({"fps": 15.0}, 1, "frame_rate_check_failed"),
        ({"fps": 120.0}, 1, "frame_rate_check_failed"),
        ({"width": 240}, 1, "picture_size_check_failed"),
        ({"height": 5000}, 1, "picture_size_check_failed"),
        ({"duration_seconds": 181.0}, 1, "duration_check_failed"),  # this creator's own limit
        ({}, 4 * 1024**3 + 1, "file_format_check_failed"),
        ({"fps": None}, 1, "media_unreadable"),  # unknown never skips a rule
        ({"duration_seconds": None}, 1, "media_unreadable"),
        ({"width": None}, 1, "media_unreadable"),
    ],
)
def test_video_limits(change: dict[str, object], size: int, reason: str) -> None:
    probe = VideoProbe(**{**GOOD.__dict__, **change})  # type: ignore[arg-type]
    assert _reason(lambda: check_video(probe, size, PUBLIC)) == reason


def test_photo_limits() -> None:
    check_photo("a.jpg", ImageProbe("jpeg", 1080, 1920), 1_000_000)
    check_photo("a.webp", ImageProbe("webp", 1920, 1080), 1_000_000)
    assert (
        _reason(lambda: check_photo("a.png", ImageProbe("png", 100, 100), 10)) == "file_format_check_failed"
    )
    assert (
        _reason(lambda: check_photo("a.jpg", ImageProbe("jpeg", 1200, 1920), 10))
        == "picture_size_check_failed"
    )
    assert _reason(lambda: check_photo("a.jpg", ImageProbe("jpeg", 100, 100), 21 * 1024**2)) == (
        "picture_size_check_failed"
    )


def _direct(level: str, **more: object) -> object:
    return parse_manifest({"video": "a.mp4", "privacy_level": level, **more})


def test_privacy_must_be_offered_by_the_creator() -> None:
    check_privacy(_direct("PUBLIC_TO_EVERYONE"), PUBLIC, AppStatus.AUDITED)  # type: ignore[arg-type]
    reason = _reason(lambda: check_privacy(_direct("FOLLOWER_OF_CREATOR"), PUBLIC, AppStatus.AUDITED))  # type: ignore[arg-type]
    assert reason == "privacy_level_option_mismatch"


def test_an_unaudited_app_posts_only_self_only_to_private_accounts() -> None:
    check_privacy(_direct("SELF_ONLY"), PRIVATE, AppStatus.UNAUDITED)  # type: ignore[arg-type]
    for manifest, creator in ((_direct("MUTUAL_FOLLOW_FRIENDS"), PRIVATE), (_direct("SELF_ONLY"), PUBLIC)):
        reason = _reason(lambda m=manifest, c=creator: check_privacy(m, c, AppStatus.UNAUDITED))
        assert reason == "unaudited_client_can_only_post_to_private_accounts"


def test_inbox_posts_carry_no_privacy_to_check() -> None:
    check_privacy(parse_manifest({"video": "a.mp4", "mode": "inbox"}), PUBLIC, AppStatus.UNAUDITED)


def test_interactions_never_exceed_what_the_creator_allows() -> None:
    asked = parse_manifest(
        {
            "video": "a.mp4",
            "privacy_level": "SELF_ONLY",
            "allow_comment": True,
            "allow_duet": True,
            "allow_stitch": True,
        }
    )
    open_ = interactions(asked, PUBLIC)
    assert (open_.disable_comment, open_.disable_duet, open_.disable_stitch) == (False, False, True)
    assert open_.notes == ("stitches stay off: the creator turned them off in TikTok",)
    closed = interactions(asked, PRIVATE)
    assert (closed.disable_comment, closed.disable_duet, closed.disable_stitch) == (True, True, True)
    default = interactions(parse_manifest({"video": "a.mp4", "privacy_level": "SELF_ONLY"}), PUBLIC)
    assert (default.disable_comment, default.disable_duet, default.disable_stitch) == (True, True, True)
    assert default.notes == ()

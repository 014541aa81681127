"""The post manifest: TikTok's rules before anything is sent, each error naming its field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.posting.manifest import (
    ManifestError,
    bare_video_manifest,
    check_publish_at,
    parse_manifest,
    publish_at_text,
    resolve_media_key,
)


def _problems(raw: object) -> str:
    with pytest.raises(ManifestError) as info:
        parse_manifest(raw)  # type: ignore[arg-type]
    return str(info.value)


def test_a_minimal_direct_video() -> None:
    m = parse_manifest(b'{"video": "clip.mp4", "privacy_level": "SELF_ONLY"}')
    assert m.kind == "video" and m.mode == "direct"
    assert (m.allow_comment, m.allow_duet, m.allow_stitch) == (False, False, False)  # TikTok's UX: off


def test_a_direct_post_without_privacy_is_valid_and_left_to_the_creator() -> None:
    m = parse_manifest({"video": "a.mp4", "caption": "hi"})
    assert m.mode == "direct" and m.privacy_level is None  # never a default: the review page asks
    assert parse_manifest({"photos": ["a.jpg"]}).privacy_level is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"not json", "not valid JSON"),
        (b"[1]", "JSON object"),
        ({"video": "a.mp4", "photos": ["b.jpg"], "privacy_level": "SELF_ONLY"}, "exactly one of"),
        ({}, "exactly one of"),
        ({"video": "a.mp4", "mode": "inbox", "privacy_level": "SELF_ONLY"}, "direct posts only"),
        ({"video": "a.mp4", "mode": "inbox", "is_aigc": True}, "is_aigc: an inbox draft cannot carry"),
        (
            {"photos": ["a.jpg"], "mode": "inbox", "brand_organic": True},
            "the creator sets it in the TikTok app",
        ),
        ({"video": "a.mp4", "mode": "inbox", "branded_content": True}, "branded_content/brand_organic"),
        (
            {"video": "a.mp4", "privacy_level": "SELF_ONLY", "branded_content": True},
            "branded content cannot be",
        ),
        ({"video": "a.mp4", "privacy_level": "EVERYONE"}, "privacy_level"),
        ({"video": "a.mp4", "privacy_level": "SELF_ONLY", "title": "t"}, "a video uses 'caption'"),
        ({"photos": ["a.jpg"], "privacy_level": "SELF_ONLY", "caption": "c"}, "'caption' is for videos"),
        ({"photos": ["a.jpg"], "privacy_level": "SELF_ONLY", "allow_duet": True}, "duet and stitch"),
        ({"photos": ["a.jpg"], "privacy_level": "SELF_ONLY", "cover_index": 1}, "cover_index 1"),
        ({"photos": [], "privacy_level": "SELF_ONLY"}, "photos: must name 1 to 35"),
        ({"photos": ["p.jpg"] * 36, "privacy_level": "SELF_ONLY"}, "not 36"),
        (
            {"video": "a.mp4", "privacy_level": "SELF_ONLY", "colour": "red"},
            "colour: is not a manifest field",
        ),
        ({"video": "a.mp4", "privacy_level": "SELF_ONLY", "account": "Bad Name"}, "account: must be"),
        ({"video": "a.mp4", "privacy_level": "SELF_ONLY", "publish_at": "2026-12-01T10:00:00"}, "time zone"),
        ({"video": "a.mp4", "privacy_level": "SELF_ONLY", "cover_timestamp_ms": -1}, "cover_timestamp_ms"),
    ],
)
def test_each_problem_is_named(raw: object, expected: str) -> None:
    assert expected in _problems(raw)


def test_caption_limits_count_utf16_units() -> None:
    emoji = "\U0001f600"  # two UTF-16 units
    ok = parse_manifest({"video": "a.mp4", "privacy_level": "SELF_ONLY", "caption": emoji * 1100})
    assert ok.caption is not None
    assert "2202 characters" in _problems(
        {"video": "a.mp4", "privacy_level": "SELF_ONLY", "caption": emoji * 1101}
    )
    assert "91 characters" in _problems(
        {"photos": ["a.jpg"], "privacy_level": "SELF_ONLY", "title": "x" * 91}
    )
    assert "4001 characters" in _problems(
        {"photos": ["a.jpg"], "privacy_level": "SELF_ONLY", "description": "x" * 4001}
    )


def test_too_large_a_manifest_is_refused_before_parsing() -> None:
    assert "larger than" in _problems(b" " * (64 * 1024 + 1))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=10,
    )
)
def test_any_json_is_a_manifest_or_a_named_error(value: object) -> None:
    try:
        parse_manifest(value if isinstance(value, dict) else __import__("json").dumps(value))
    except ManifestError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


def test_media_keys_resolve_under_the_account_only() -> None:
    assert resolve_media_key("posts/me/trip/m.json", "media/a.jpg", "me") == "posts/me/trip/media/a.jpg"
    assert resolve_media_key("posts/me/m.json", "posts/me/x.mp4", "me") == "posts/me/x.mp4"
    assert resolve_media_key("", "clip.mp4", "me") == "posts/me/clip.mp4"
    for escape in ("../other/x.mp4", "posts/other/x.mp4", "../../etc/passwd"):
        with pytest.raises(ManifestError, match="outside posts/me/"):
            resolve_media_key("posts/me/m.json", escape, "me")


def test_publish_at_is_whole_seconds_z_and_bounded() -> None:
    m = parse_manifest(
        {"video": "a.mp4", "privacy_level": "SELF_ONLY", "publish_at": "2026-12-01T10:00:00.750+02:00"}
    )
    assert publish_at_text(m, now=0) == "2026-12-01T08:00:00Z"
    assert publish_at_text(m, now=2_000_000_000) is None  # already past: no wait
    with pytest.raises(ManifestError, match="days ahead"):
        check_publish_at(m, now=0)


def test_a_bare_video_uses_saved_preferences_or_says_how_to_fix_it() -> None:
    with pytest.raises(ManifestError, match="no saved posting preferences"):
        bare_video_manifest("posts/me/a.mp4", {})
    m = bare_video_manifest(
        "posts/me/a.mp4", {"privacy_level": "SELF_ONLY", "mode": "direct", "caption": "hi"}
    )
    assert m.video == "posts/me/a.mp4" and m.caption == "hi"


def test_a_posts_settings_read_back_as_its_manifest_or_are_named() -> None:
    from functions.posting.errors import PostRejectedError
    from functions.posting.manifest import manifest_of

    settings = {"video": "a.mp4", "mode": "direct", "privacy_level": "SELF_ONLY", "caption": "hi"}
    assert manifest_of({"settings": settings}).caption == "hi"
    with pytest.raises(PostRejectedError) as refused:
        manifest_of({"settings": {**settings, "privacy_level": "EVERYONE"}})
    assert refused.value.reason == "post_record_invalid"
    assert refused.value.detail.startswith("the post record's settings: privacy_level")
    with pytest.raises(PostRejectedError, match="post record's settings"):
        manifest_of({})

"""plan_video_repair and plan_photo_repair: what they change, what they refuse, and that whatever they plan
follows TikTok's rules as functions.posting.rules checks them."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.posting.errors import PostRejectedError
from functions.posting.media_probe import ImageProbe, VideoProbe
from functions.posting.rules import MAX_VIDEO_BYTES, check_photo, check_video
from functions.repair.plan import (
    conforming_fps,
    conforming_size,
    plan_photo_repair,
    plan_video_repair,
)
from functions.repair.results import RepairRefusedError, VideoRepairPlan

GOOD = VideoProbe(container="mp4", codec="h264", duration_seconds=30.0, fps=30.0, width=1080, height=1920)
MB = 1024**2


def _sentences(plan: object) -> list[str]:
    return [str(change) for change in getattr(plan, "changes", ())]


def _as_output(plan: VideoRepairPlan) -> VideoProbe:
    """What the probe would read from the repaired file, if the repair does what the plan says."""
    return VideoProbe(
        container=plan.container,
        codec=plan.codec,
        duration_seconds=plan.source_duration_seconds,
        fps=float(plan.fps),
        width=plan.width,
        height=plan.height,
        rotation=plan.rotation,
    )


def test_a_conforming_video_needs_nothing() -> None:
    plan = plan_video_repair(GOOD, max_duration_seconds=600, audio_codec="pcm_s16le")
    assert not plan.needed
    assert plan.changes == ()
    check_video(_as_output(plan), 1, None)


@pytest.mark.parametrize(
    ("measured", "expected"),
    [
        (120.0, Fraction(60)),
        (240.0, Fraction(60)),
        (100.0, Fraction(50)),
        (90.0, Fraction(45)),
        (144.0, Fraction(48)),
        (119.88011988, Fraction(60000, 1001)),
        (60.02, Fraction(60)),  # measurement noise around 60, not a 60.02 fps video
        (61.0, Fraction(61, 2)),
        (15.0, Fraction(30)),
        (12.0, Fraction(24)),
        (10.0, Fraction(30)),
        (20.0, Fraction(40)),
        (22.0, Fraction(44)),
        (1.0, Fraction(23)),
        (14.985, Fraction(30000, 1001)),
        (25.0, Fraction(25)),
        (30.1, Fraction(30)),
        (29.9, Fraction(30000, 1001)),
        (23.976, Fraction(24000, 1001)),
    ],
)
def test_frame_rates_become_a_whole_multiple_or_fraction_within_23_to_60(
    measured: float, expected: Fraction
) -> None:
    assert conforming_fps(measured) == expected


@settings(deadline=None)
@given(st.floats(min_value=0.2, max_value=1000, allow_nan=False))
def test_every_frame_rate_lands_within_the_rules(measured: float) -> None:
    assert 23 <= conforming_fps(measured) <= 60


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((7680, 4320), (4096, 2304)),
        ((4320, 7680), (2304, 4096)),
        ((4800, 480), (4096, 410)),
        ((200, 200), (360, 360)),
        ((320, 240), (480, 360)),
        ((240, 427), (360, 640)),
        ((1080, 1920), (1080, 1920)),
        ((361, 4095), (361, 4095)),  # within the rules: untouched here (a re-encode evens it)
    ],
)
def test_sizes_are_scaled_by_one_factor_into_360_to_4096(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert conforming_size(*size) == expected


@pytest.mark.parametrize("size", [(4200, 360), (360, 4200), (5000, 300), (100, 4000)])
def test_proportions_no_scaling_can_fit_are_refused(size: tuple[int, int]) -> None:
    with pytest.raises(RepairRefusedError) as refused:
        conforming_size(*size)
    assert refused.value.reason == "aspect_ratio_unsupported"
    assert f"{size[0]}x{size[1]}" in refused.value.detail


@settings(deadline=None)
@given(st.integers(min_value=16, max_value=16384), st.integers(min_value=16, max_value=16384))
def test_every_size_is_fitted_keeping_its_shape_or_refused(width: int, height: int) -> None:
    try:
        fitted = conforming_size(width, height)
    except RepairRefusedError:
        # Refused only when no single factor fits: the long side is over 4096/361 times the short one.
        assert max(width, height) / min(width, height) > 4096 / 361
        return
    assert all(360 <= side <= 4096 for side in fitted)
    if fitted != (width, height):
        assert fitted[0] % 2 == 0 and fitted[1] % 2 == 0
        # One factor for both sides: the shape moves by no more than the rounding to even numbers.
        assert fitted[0] / fitted[1] == pytest.approx(width / height, rel=2 / min(fitted) + 1e-9)


def test_a_high_frame_rate_is_re_encoded_to_h264_in_mp4() -> None:
    plan = plan_video_repair(replace(GOOD, container="mov", fps=120.0), max_duration_seconds=600)
    assert _sentences(plan) == ["frame rate 120 -> 60 fps", "container MOV -> MP4"]
    assert (plan.reencode, plan.codec, plan.container, plan.fps) == (True, "h264", "mp4", 60)
    assert plan.audio == "auto"


def test_an_unaccepted_codec_is_re_encoded_and_odd_sizes_made_even() -> None:
    probe = replace(GOOD, container="mov", codec="apch", width=1081, height=1921)
    plan = plan_video_repair(probe, max_duration_seconds=600, audio_codec="pcm_s24le")
    assert _sentences(plan) == [
        "size 1081x1921 -> 1080x1920",
        "codec ProRes -> H.264",
        "container MOV -> MP4",
        "audio PCM -> AAC",
    ]
    assert plan.audio == "reencode"
    check_video(_as_output(plan), 1, None)


def test_odd_sizes_within_the_rules_are_left_alone_when_nothing_is_re_encoded() -> None:
    assert not plan_video_repair(replace(GOOD, width=1081, height=1921), max_duration_seconds=None).needed


@pytest.mark.parametrize(
    ("codec", "audio", "container", "action", "sentences"),
    [
        ("h264", "aac", "mp4", "copy", ["container Matroska (MKV) -> MP4"]),
        ("hevc", "mp3", "mp4", "copy", ["container Matroska (MKV) -> MP4"]),
        ("h264", "opus", "mp4", "reencode", ["container Matroska (MKV) -> MP4", "audio Opus -> AAC"]),
        ("vp9", "opus", "webm", "copy", ["container Matroska (MKV) -> WebM"]),
        ("vp8", "vorbis", "webm", "copy", ["container Matroska (MKV) -> WebM"]),
        ("vp9", "aac", "webm", "reencode", ["container Matroska (MKV) -> WebM", "audio AAC -> Opus"]),
    ],
)
def test_an_accepted_codec_in_another_container_is_remuxed(
    codec: str, audio: str, container: str, action: str, sentences: list[str]
) -> None:
    probe = replace(GOOD, container="matroska", codec=codec)
    plan = plan_video_repair(probe, max_duration_seconds=600, audio_codec=audio)
    assert (plan.reencode, plan.codec, plan.container, plan.audio) == (False, codec, container, action)
    assert _sentences(plan) == sentences
    check_video(_as_output(plan), 1, None)


def test_audio_alone_never_calls_for_a_repair() -> None:
    probe = replace(GOOD, container="mov")
    assert not plan_video_repair(probe, max_duration_seconds=600, audio_codec="pcm_s16le").needed


def test_rotation_is_carried_to_the_output() -> None:
    plan = plan_video_repair(replace(GOOD, fps=120.0, rotation=90), max_duration_seconds=600)
    assert plan.rotation == 90


def test_a_video_longer_than_the_limit_is_refused_never_cut() -> None:
    with pytest.raises(RepairRefusedError) as refused:
        plan_video_repair(replace(GOOD, duration_seconds=61.0, fps=120.0), max_duration_seconds=60)
    assert refused.value.reason == "duration_too_long"
    assert isinstance(refused.value, PostRejectedError)
    assert plan_video_repair(
        replace(GOOD, duration_seconds=6000.0, fps=120), max_duration_seconds=None
    ).needed


@pytest.mark.parametrize("missing", ["fps", "duration_seconds", "width", "height"])
def test_what_could_not_be_read_is_refused(missing: str) -> None:
    with pytest.raises(RepairRefusedError) as refused:
        plan_video_repair(replace(GOOD, **{missing: None}), max_duration_seconds=600)
    assert refused.value.reason == "media_unreadable"


@pytest.mark.parametrize(("duration", "limit"), [(30.0, 40_000_000), (3600.0, 8_589_934)])
def test_the_bitrate_cap_keeps_the_output_under_4_gb(duration: float, limit: int) -> None:
    plan = plan_video_repair(replace(GOOD, fps=120.0, duration_seconds=duration), max_duration_seconds=None)
    assert plan.max_bitrate == limit
    assert plan.max_bitrate * duration / 8 < MAX_VIDEO_BYTES


@settings(deadline=None)
@given(
    fps=st.floats(min_value=0.5, max_value=500),
    width=st.integers(min_value=32, max_value=8192),
    height=st.integers(min_value=32, max_value=8192),
    codec=st.sampled_from(["h264", "hevc", "vp9", "mpeg4", "apcn", "mjpeg"]),
    container=st.sampled_from(["mp4", "mov", "webm", "matroska", "avi"]),
)
def test_every_plan_follows_the_rules(
    fps: float, width: int, height: int, codec: str, container: str
) -> None:
    probe = VideoProbe(container, codec, 10.0, fps, width, height)
    try:
        plan = plan_video_repair(probe, max_duration_seconds=600)
    except RepairRefusedError as refused:
        assert refused.reason == "aspect_ratio_unsupported"
        return
    check_video(_as_output(plan) if plan.needed else probe, 1, None)
    assert plan.needed == bool(plan.changes)


@pytest.mark.parametrize(
    ("probe", "size", "sentences", "target"),
    [
        (ImageProbe("png", 1080, 1350), MB, ["PNG -> JPEG 1080x1350"], (1080, 1350)),
        (ImageProbe("png", 2160, 2700), MB, ["PNG -> JPEG 1080x1350"], (1080, 1350)),
        (ImageProbe("jpeg", 4000, 3000), MB, ["size 4000x3000 -> 1440x1080"], (1440, 1080)),
        (ImageProbe("jpeg", 4000, 1500), MB, ["size 4000x1500 -> 1920x720"], (1920, 720)),
        (ImageProbe("jpeg", 3000, 6000), MB, ["size 3000x6000 -> 960x1920"], (960, 1920)),
        (ImageProbe("webp", 3000, 3000), MB, ["WebP -> JPEG 1080x1080"], (1080, 1080)),
        (ImageProbe("heic", 3024, 4032), MB, ["HEIC -> JPEG 1080x1440"], (1080, 1440)),
        (ImageProbe("gif", 100, 80), MB, ["GIF -> JPEG 100x80"], (100, 80)),
        (ImageProbe("jpeg", 1080, 1920), 25 * MB, ["file 25.0 MB -> under 20.0 MB"], (1080, 1920)),
    ],
)
def test_photo_plans(probe: ImageProbe, size: int, sentences: list[str], target: tuple[int, int]) -> None:
    plan = plan_photo_repair(probe, size)
    assert plan.needed
    assert _sentences(plan) == sentences
    assert (plan.width, plan.height) == target
    check_photo("p", ImageProbe("jpeg", *target), min(size, plan.max_bytes))


@pytest.mark.parametrize("probe", [ImageProbe("jpeg", 1080, 1920), ImageProbe("webp", 1920, 1080)])
def test_a_conforming_photo_needs_nothing(probe: ImageProbe) -> None:
    plan = plan_photo_repair(probe, 3 * MB)
    assert not plan.needed and plan.changes == ()
    check_photo("p", probe, 3 * MB)

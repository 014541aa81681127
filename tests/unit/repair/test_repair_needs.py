"""What Prepare decides about repair (functions/posting/repair_needs.py) and whether a post wants it
(PostManifest.repair_wanted): a rule a repair can fix goes to the Repair step with its planned changes; a
rule no repair changes fails as it is; what no repair can make conform is refused at once."""

from __future__ import annotations

import pytest

from functions.posting.errors import PostRejectedError
from functions.posting.manifest import PostManifest, parse_manifest
from functions.posting.media_probe import ImageProbe, VideoProbe, probe_image
from functions.posting.repair_needs import photo_needs, read_only_by_pyav, video_needs
from functions.posting.rules import check_photo, check_video
from functions.repair.results import RepairRefusedError
from local.media import clip, heic

PHONE = VideoProbe("mp4", "h264", 20.0, 120.0, 1080, 1920)


def broken(probe: VideoProbe, size: int = 10_000_000) -> PostRejectedError:
    with pytest.raises(PostRejectedError) as raised:
        check_video(probe, size, None)
    return raised.value


def test_a_rule_a_repair_fixes_goes_to_repair_with_what_it_will_change() -> None:
    needs = video_needs(broken(PHONE), PHONE, max_duration_seconds=600)
    assert needs["why"].startswith("frame_rate_check_failed: the video runs at 120.00 fps")
    assert needs["planned"] == ["frame rate 120 -> 60 fps"]


def test_too_long_and_a_broken_rule_is_refused_not_cut() -> None:
    long_phone = VideoProbe("mp4", "h264", 900.0, 120.0, 1080, 1920)
    with pytest.raises(RepairRefusedError) as refused:
        video_needs(broken(long_phone), long_phone, max_duration_seconds=600)
    assert refused.value.reason == "duration_too_long"


@pytest.mark.parametrize(
    ("probe", "size", "reason"),
    [
        (VideoProbe("mp4", "h264", 900.0, 30.0, 1080, 1920), 10_000_000, "duration_check_failed"),
        (VideoProbe("mp4", "h264", None, 30.0, 1080, 1920), 10_000_000, "media_unreadable"),
        (VideoProbe("mp4", "h264", 60.0, 30.0, 1080, 1920), 5 * 1024**3, "file_format_check_failed"),
    ],
    ids=["too-long-only", "unreadable", "over-4-GB-only"],
)
def test_a_rule_no_repair_changes_fails_as_it_is(probe: VideoProbe, size: int, reason: str) -> None:
    rejected = broken(probe, size)
    assert rejected.reason == reason
    with pytest.raises(PostRejectedError) as raised:
        video_needs(rejected, probe, max_duration_seconds=600)
    assert raised.value is rejected


def test_a_container_only_ffmpeg_reads_goes_to_repair_unplanned() -> None:
    avi = clip(container="avi", encoder="mjpeg", frames=3)
    assert read_only_by_pyav(lambda start, end: avi[start : end + 1])
    mp4 = clip(frames=3)
    assert not read_only_by_pyav(lambda start, end: mp4[start : end + 1])
    unreadable = PostRejectedError("file_format_check_failed", "unsupported video container")
    assert video_needs(unreadable, None, max_duration_seconds=600)["planned"] == []


def test_a_photo_goes_to_repair_with_its_new_format_and_size() -> None:
    png = ImageProbe("png", 1200, 1600)
    with pytest.raises(PostRejectedError) as raised:
        check_photo("a.png", png, 2_000_000)
    assert photo_needs(raised.value, png, 2_000_000)["planned"] == ["PNG -> JPEG 1080x1440"]


def test_a_heic_photo_goes_to_repair_as_its_bytes_say_whatever_its_name() -> None:
    data = heic(width=1600, height=1200, orientation=6)
    probe = probe_image(lambda start, end: data[start : end + 1], len(data))
    assert probe == ImageProbe("heic", 1600, 1200)
    with pytest.raises(PostRejectedError) as raised:
        check_photo("IMG_0001.jpg", probe, len(data))
    assert raised.value.reason == "file_format_check_failed"
    needs = photo_needs(raised.value, probe, len(data))
    assert needs["planned"] == ["HEIC -> JPEG 1440x1080"]


def test_repair_is_wanted_unless_the_manifest_or_else_the_account_says_no() -> None:
    silent = parse_manifest({"video": "posts/a/v.mp4", "mode": "inbox"})
    assert silent.repair is None
    assert silent.repair_wanted({}) is True
    assert silent.repair_wanted({"repair": False}) is False
    assert PostManifest.model_validate({**silent.model_dump(), "repair": True}).repair_wanted(
        {"repair": False}
    )
    assert not PostManifest.model_validate({**silent.model_dump(), "repair": False}).repair_wanted({})
    assert "repair" not in silent.model_dump(mode="json", exclude_none=True)  # the post records only a choice

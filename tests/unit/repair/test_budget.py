"""The repair's time budget (functions/repair/budget.py): what a repair is estimated to take in the repair
function, and the refusal, with the longest repairable length, of what would not fit its time."""

from __future__ import annotations

import pytest

from functions.posting.media_probe import VideoProbe
from functions.repair import budget
from functions.repair.plan import plan_video_repair
from functions.repair.results import RepairRefusedError

LAMBDA = budget.function_vcpus(3008)  # the repair function's memory
FUNCTION = 900.0  # its timeout


def phone_clip(seconds: float, *, fps: float = 120, width: int = 1920, height: int = 1080) -> VideoProbe:
    return VideoProbe("mp4", "h264", seconds, fps, width, height)


def estimated(probe: VideoProbe, size: int = 100_000_000) -> budget.RepairEstimate:
    plan = plan_video_repair(probe, max_duration_seconds=3600)
    return budget.estimate(probe, plan, size, remaining_seconds=FUNCTION, vcpus=LAMBDA)


def test_vcpus_follow_the_functions_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    assert budget.function_vcpus(1769) == 1.0
    assert budget.function_vcpus(10240) == pytest.approx(5.79, abs=0.01)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
    assert budget.function_vcpus() == pytest.approx(1.7, abs=0.01)


def test_the_estimate_grows_with_the_length_and_the_pixels() -> None:
    one_minute, two_minutes = estimated(phone_clip(60)), estimated(phone_clip(120))
    assert two_minutes.seconds - budget.STARTUP_SECONDS == pytest.approx(
        2 * (one_minute.seconds - budget.STARTUP_SECONDS), rel=0.01
    )
    uhd = estimated(phone_clip(60, width=3840, height=2160))
    assert uhd.seconds > 3 * one_minute.seconds
    assert one_minute.available_seconds == FUNCTION - budget.SAFETY_SECONDS


def test_a_remux_costs_little_but_the_transfer() -> None:
    matroska = VideoProbe("matroska", "h264", 600, 30, 1920, 1080)
    found = estimated(matroska, size=1_000_000_000)
    assert found.fits
    assert found.seconds < budget.STARTUP_SECONDS + 2e9 / budget.TRANSFER_BYTES_PER_SECOND + 10


def test_what_fits_passes_and_what_does_not_is_refused_with_the_longest_it_could_repair() -> None:
    short = phone_clip(60)
    plan = plan_video_repair(short, max_duration_seconds=3600)
    budget.refuse_if_too_long(short, plan, estimated(short))  # fits: nothing raised

    long = phone_clip(900)
    found = estimated(long)
    assert not found.fits
    with pytest.raises(RepairRefusedError) as refused:
        budget.refuse_if_too_long(long, plan_video_repair(long, max_duration_seconds=3600), found)
    assert refused.value.reason == "too_long_to_repair"
    detail = refused.value.detail
    assert "900 s video (1920x1080 H.264 at 120 fps)" in detail and "Nothing was cut" in detail
    longest = int(detail.split("it can repair about ")[1].split(" s")[0])
    assert 0 < longest < 900
    assert estimated(phone_clip(longest)).fits and not estimated(phone_clip(longest + 20)).fits


def test_a_codec_not_measured_decodes_at_the_slowest_rate() -> None:
    known = estimated(VideoProbe("mov", "mpeg4", 60, 30, 1920, 1080))
    unknown = estimated(VideoProbe("mov", "cinepak", 60, 30, 1920, 1080))
    assert unknown.seconds > known.seconds

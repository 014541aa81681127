"""How long a video repair takes in the repair function, estimated before it starts, so that a video the
function cannot finish within its time is refused with the reason instead of stopping half-way.

The model. A re-encode costs CPU time in proportion to the pixels it decodes (the source's frames at the
source's size, at a rate that depends on the codec) plus the pixels it scales and encodes (the output's
frames at the output's size); a remux costs next to nothing. Lambda gives a function one vCPU per 1769 MB
of memory. The source is read from S3 and the copy written back while or after it is made, at
`TRANSFER_BYTES_PER_SECOND` each.

The rates are measured by bench/repair.py (`make bench`) on a 2-core x86_64 machine, on 1-4 s clips whose
texture moves every frame, and rounded down (below); `ARM_SLOWER` is what we allow for Lambda's arm64 (Graviton)
cores running x264 and FFmpeg's decoders against those x86_64 cores (an allowance, not a measurement:
`repair.estimated_seconds` next to `repair.seconds` on each repaired post tells how close it is).
Pure: no file is opened here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.repair.results import RepairRefusedError
from functions.repair.words import fps_words, video_codec_name

if TYPE_CHECKING:
    from functions.posting.media_probe import VideoProbe
    from functions.repair.results import VideoRepairPlan

# Megapixels decoded per CPU-second, by source codec: the rates bench/repair.py measured on its clips,
# about halved (camera files carry more bits per picture, which costs decoding time); intra-only codecs
# (ProRes, Motion JPEG) as measured. Codecs not measured get the slowest rate.
DECODE_MEGAPIXELS_PER_CPU_SECOND = {
    "h264": 300.0,
    "hevc": 200.0,
    "prores": 100.0,
    "mjpeg": 100.0,
    "mpeg4": 500.0,
    "vp8": 300.0,
    "vp9": 250.0,
    "av1": 150.0,
}
SLOWEST_DECODE = min(DECODE_MEGAPIXELS_PER_CPU_SECOND.values())
# Megapixels through the frame-rate and scale filters and libx264 (veryfast, CRF 20) per CPU-second: the
# lowest measured (a 10-bit 4:2:2 ProRes source, whose conversion to 8-bit 4:2:0 is part of it).
ENCODE_MEGAPIXELS_PER_CPU_SECOND = 45.0
REMUX_BYTES_PER_CPU_SECOND = 200e6
MAX_OUTPUT_BITS_PER_SECOND = 40e6  # the encoder's cap (plan.py); most copies are far smaller
TRANSFER_BYTES_PER_SECOND = 50e6  # one S3 stream each way from Lambda; conservative
ARM_SLOWER = 1.5
THREAD_EFFICIENCY = 0.8  # share of its vCPUs a repair kept busy (1.7 of 2 cores, measured)
LAMBDA_MB_PER_VCPU = 1769
STARTUP_SECONDS = 15.0  # importing PyAV, opening the source, the index of an MP4 at its end
SAFETY_SECONDS = 60.0  # left unplanned at the end of the function's time


@dataclass(frozen=True)
class RepairEstimate:
    seconds: float
    """Wall-clock seconds the repair should take in the function."""
    per_source_second: float
    """What each second of the source adds to it (the rest is STARTUP_SECONDS)."""
    available_seconds: float
    vcpus: float

    @property
    def fits(self) -> bool:
        return self.seconds <= self.available_seconds

    @property
    def longest_seconds(self) -> int:
        """The longest source of the same kind that would fit."""
        return max(0, math.floor((self.available_seconds - STARTUP_SECONDS) / self.per_source_second))


def function_vcpus(memory_mb: int | None = None) -> float:
    """The vCPUs Lambda gives the running function (from its memory size; 1 outside Lambda)."""
    if memory_mb is None:
        memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or LAMBDA_MB_PER_VCPU)
    return max(memory_mb / LAMBDA_MB_PER_VCPU, 0.1)


def estimate(
    source: VideoProbe, plan: VideoRepairPlan, size: int, *, remaining_seconds: float, vcpus: float
) -> RepairEstimate:
    """What repairing `source` (of `size` bytes) as `plan` says takes, against the time left. Linear in
    the length: every term is counted per second of the source."""
    duration = max(plan.source_duration_seconds, 1e-3)
    source_bytes = size / duration
    if plan.reencode:
        source_pixels = (source.width or 0) * (source.height or 0) * (source.fps or 0) / 1e6
        output_pixels = plan.width * plan.height * float(plan.fps) / 1e6
        decode = DECODE_MEGAPIXELS_PER_CPU_SECOND.get(str(source.codec), SLOWEST_DECODE)
        cpu = source_pixels / decode + output_pixels / ENCODE_MEGAPIXELS_PER_CPU_SECOND
        output_bytes = MAX_OUTPUT_BITS_PER_SECOND / 8
    else:
        cpu, output_bytes = source_bytes / REMUX_BYTES_PER_CPU_SECOND, source_bytes
    compute = cpu * ARM_SLOWER / (max(vcpus, 0.1) * THREAD_EFFICIENCY)
    per_second = compute + (source_bytes + output_bytes) / TRANSFER_BYTES_PER_SECOND
    return RepairEstimate(
        seconds=STARTUP_SECONDS + per_second * duration,
        per_source_second=per_second,
        available_seconds=max(0.0, remaining_seconds - SAFETY_SECONDS),
        vcpus=vcpus,
    )


def refuse_if_too_long(source: VideoProbe, plan: VideoRepairPlan, found: RepairEstimate) -> None:
    """RepairRefusedError `too_long_to_repair` when the estimate does not fit the time left."""
    if found.fits:
        return
    what = (
        f"{source.width}x{source.height} {video_codec_name(source.codec)} at {fps_words(source.fps or 0)} fps"
    )
    raise RepairRefusedError(
        "too_long_to_repair",
        f"repairing this {plan.source_duration_seconds:.0f} s video ({what}) would take about "
        f"{found.seconds / 60:.0f} min, and the repair function has {found.available_seconds / 60:.0f} min: "
        f"it can repair about {found.longest_seconds} s of such a video. Nothing was cut; export it as H.264 MP4 at "
        "23-60 fps and at most 4096 px a side, or post a shorter part",
    )

"""Repairing a video as planned, with PyAV: re-encoded frame by frame, or remuxed packet by packet when only
the container is wrong.

The output is written to a temporary file on local disk (/tmp in Lambda), then copied to `target` in
chunks: MP4's faststart moves the index (moov) before the media (mdat) by rewriting the finished file,
which needs a seekable, rewritable file, not a stream such as a multipart upload. Lambda's /tmp must
therefore hold the repaired file (ephemeral storage up to 10 GB; TikTok's limit is 4 GB). Memory stays
flat in the file's length: packets are read, decoded, encoded and written one at a time.

The source is checked while it is read: a file that FFmpeg cannot open or decode is refused as
corrupt, and one whose packets stop before its header says they end as truncated; `target` is written
only when the repair succeeded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import av

from functions.repair.plan import audio_action, audio_change
from functions.repair.results import RepairOutcome, RepairRefusedError
from functions.repair.sources import audio_stream, open_source, read_video_facts, video_stream
from functions.repair.streams import AudioReencoder, PacketCopier, VideoReencoder

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer, OutputContainer
    from av.packet import Packet

    from functions.repair.results import Change, VideoRepairPlan

_COPY_CHUNK = 8 * 1024**2
_MUXER_OPTIONS = {"mp4": {"movflags": "+faststart"}, "webm": {}}
# A source whose packets end this much before its header's duration was cut short (audio and video
# may legitimately end a little apart).
_TRUNCATION_SLACK_SECONDS, _TRUNCATION_SLACK_SHARE = 0.5, 0.02


class _Output(Protocol):
    def feed(self, packet: Packet[Any]) -> None: ...
    def finish(self) -> None: ...


def repair_video(source: BinaryIO, target: BinaryIO, plan: VideoRepairPlan) -> RepairOutcome:
    """Write to `target` the source video repaired as `plan` says; returns what was done and the facts of
    the output. `source` must be readable and seekable. Raises RepairRefusedError for a source that
    turns out to be corrupt or truncated, ValueError for a plan that needs no repair or was made for a
    video with other audio."""
    if not plan.needed:
        raise ValueError("the plan says this video needs no repair")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="repair-") as folder:
        path = Path(folder) / f"repaired.{plan.container}"
        changes = _write_repaired(source, path, plan)
        with path.open("rb") as written:
            facts = read_video_facts(written)
            written.seek(0)
            shutil.copyfileobj(written, target, _COPY_CHUNK)
        size = path.stat().st_size
    written_probe = facts.probe
    return RepairOutcome(
        changes=changes,
        format=plan.container,
        codec=written_probe.codec,
        width=written_probe.width or 0,
        height=written_probe.height or 0,
        fps=written_probe.fps,
        duration_seconds=written_probe.duration_seconds,
        audio_codec=facts.audio_codec,
        size=size,
        seconds=time.monotonic() - started,
    )


def _write_repaired(source: BinaryIO, path: Path, plan: VideoRepairPlan) -> tuple[Change, ...]:
    changes = list(plan.changes)
    with open_source(source) as container:
        video_in = video_stream(container)
        audio_in = audio_stream(container)
        audio = _audio_for(plan, audio_in)
        with av.open(str(path), "w", format=plan.container, options=_MUXER_OPTIONS[plan.container]) as output:
            outputs: dict[int, _Output] = {
                video_in.index: VideoReencoder(output, video_in, plan)
                if plan.reencode
                else PacketCopier(output, video_in)
            }
            if audio_in is not None and audio is not None:
                outputs[audio_in.index] = _audio_output(output, audio_in, audio, plan.container)
                if audio == "reencode" and plan.audio == "auto":
                    changes.append(audio_change(audio_in.codec.canonical_name, plan.container))
            _pump(container, outputs, video_in.index)
    return tuple(changes)


def _audio_for(plan: VideoRepairPlan, audio_in: AudioStream | None) -> str | None:
    """The audio action for the source as it is: "copy", "reencode" or None (no audio)."""
    codec = audio_in.codec.canonical_name if audio_in is not None else None
    if plan.audio == "auto":
        return None if codec is None else audio_action(codec, plan.container)
    if codec != plan.source_audio_codec:
        raise ValueError(f"the plan was made for audio {plan.source_audio_codec}, the source has {codec}")
    return plan.audio


def _audio_output(output: OutputContainer, audio_in: AudioStream, action: str, container: str) -> _Output:
    if action == "copy":
        return PacketCopier(output, audio_in)
    return AudioReencoder(output, audio_in, container)


def _pump(container: InputContainer, outputs: dict[int, _Output], video_index: int) -> None:
    """Feed every packet of the kept streams to its output, then check nothing was cut short."""
    streams = [container.streams[index] for index in outputs]
    video_packets, end = 0, 0.0
    try:
        for packet in container.demux(streams):
            index = packet.stream.index
            if packet.size and packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                if index == video_index:
                    video_packets += 1
            outputs[index].feed(packet)
    except av.FFmpegError as exc:
        raise RepairRefusedError(
            "media_corrupt", f"the video cannot be read to its end (FFmpeg: {exc.strerror or exc})"
        ) from exc
    for output in outputs.values():
        output.finish()
    _refuse_if_truncated(container, video_index, video_packets, end)


def _refuse_if_truncated(container: InputContainer, video_index: int, packets: int, end: float) -> None:
    # Only MP4/MOV count their samples exactly (stts); AVI's header counts frame times, not packets.
    counted = "mp4" in container.format.name.split(",")
    declared = container.streams[video_index].frames
    if counted and declared and packets < declared:
        raise RepairRefusedError(
            "media_truncated",
            f"the file is truncated: its index lists {declared} video frames but only {packets} are in it",
        )
    if container.duration is None or packets == 0:
        return
    start = (container.start_time or 0) / av.time_base
    expected = start + container.duration / av.time_base
    if end < expected - max(_TRUNCATION_SLACK_SECONDS, _TRUNCATION_SLACK_SHARE * expected):
        raise RepairRefusedError(
            "media_truncated",
            f"the file is truncated: its header says it lasts {expected - start:.2f} s but its media "
            f"stops at {end - start:.2f} s",
        )

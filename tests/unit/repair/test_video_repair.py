"""repair_video and read_video_facts on small real videos made here with PyAV.

Every repaired file must pass the project's own probe and functions.posting.rules.check_video, and PyAV
must read it back as planned: frame rate, size, codec, duration within two frames of the source, the
audio kept. Frames carry their index in their colour (luma 16 + 4 * (i % 50), chroma by i // 50), so
the tests can tell which source frame each output frame shows.
"""

from __future__ import annotations

import io
from array import array
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

from functions.posting.media_probe import VideoProbe, probe_video
from functions.posting.rules import check_video
from functions.repair import streams
from functions.repair.plan import plan_video_repair
from functions.repair.results import RepairOutcome, RepairRefusedError, VideoRepairPlan
from functions.repair.sources import read_video_facts
from functions.repair.video import repair_video

RATE = 48000
IMPULSE_AT = 1.0  # seconds: where the audio click and the bright frame are, to check A/V sync
_FAST = {"libx264": {"preset": "ultrafast"}, "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"}}


@dataclass(frozen=True)
class Spec:
    container: str
    encoder: str
    width: int
    height: int
    fps: int
    frames: int
    pix_fmt: str = "yuv420p"
    audio: str | None = None
    rotation_ccw: int = 0
    options: tuple[tuple[str, str], ...] = ()
    flash: bool = False
    """Frames at IMPULSE_AT and later are bright, and the audio clicks at IMPULSE_AT."""


def make(tmp_path: Path, spec: Spec, name: str = "source") -> Path:
    path = tmp_path / f"{name}.{spec.container}"
    with av.open(str(path), "w", format=spec.container, options=dict(spec.options)) as output:
        video: Any = output.add_stream(spec.encoder, rate=spec.fps, options=_FAST.get(spec.encoder, {}))
        video.width, video.height, video.pix_fmt = spec.width, spec.height, spec.pix_fmt
        if spec.rotation_ccw:
            video.set_display_rotation(spec.rotation_ccw)
        sound: Any = output.add_stream(spec.audio, rate=RATE) if spec.audio else None
        if sound is not None:
            sound.layout = "stereo"
        samples = 0
        for index in range(spec.frames):
            output.mux(video.encode(_frame(spec, index)))
            while sound is not None and samples < (index + 1) * RATE / spec.fps:
                output.mux(sound.encode(_audio(sound.format.name, samples, spec.flash)))
                samples += 1024
        output.mux(video.encode(None))
        if sound is not None:
            output.mux(sound.encode(None))
    return path


def _frame(spec: Spec, index: int) -> av.VideoFrame:
    frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
    bright = spec.flash and index >= IMPULSE_AT * spec.fps
    luma, chroma = (235, 128) if bright else (16 + 4 * (index % 50), 16 + 4 * (index // 50))
    for plane, value in zip(frame.planes, (luma, chroma, 128), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    frame = frame.reformat(format=spec.pix_fmt) if spec.pix_fmt != "yuv420p" else frame
    frame.pts, frame.time_base = index, Fraction(1, spec.fps)
    return frame


def _audio(sample_format: str, start: int, flash: bool) -> av.AudioFrame:
    planar = sample_format.endswith("p")
    frame = av.AudioFrame(format=sample_format, layout="stereo", samples=1024)
    click = flash and start <= IMPULSE_AT * RATE < start + 1024
    for plane in frame.planes:
        data = bytearray(plane.buffer_size)
        if click:
            offset = int(IMPULSE_AT * RATE) - start
            width = 4 if sample_format.startswith("flt") else 2
            loud = array("f", [0.8]) if width == 4 else array("h", [26000])
            for sample in range(offset, 1024):
                for channel in range(1 if planar else 2):
                    at = (sample * (1 if planar else 2) + channel) * width
                    data[at : at + width] = loud.tobytes()
        plane.update(bytes(data))
    frame.sample_rate, frame.pts = RATE, start
    return frame


def repair(path: Path, *, max_duration: int | None = 600, with_audio: bool = True) -> Repaired:
    with path.open("rb") as source:
        facts = read_video_facts(source)
        plan = plan_video_repair(
            facts.probe,
            max_duration_seconds=max_duration,
            audio_codec=facts.audio_codec if with_audio else None,
        )
        target = io.BytesIO()
        outcome = repair_video(source, target, plan)
    return Repaired(facts.probe, facts.audio_codec, plan, outcome, target.getvalue())


@dataclass(frozen=True)
class Repaired:
    source: VideoProbe
    source_audio: str | None
    plan: VideoRepairPlan
    outcome: RepairOutcome
    data: bytes

    def check(self) -> VideoProbe:
        """The output conforms, as the project's probe and rules see it and as PyAV reads it."""
        probe = probe_video(lambda start, end: self.data[start : end + 1], len(self.data))
        check_video(probe, len(self.data), None)
        assert (probe.container, probe.codec) == (self.plan.container, self.plan.codec)
        assert (probe.width, probe.height) == (self.plan.width, self.plan.height)
        assert probe.rotation == self.source.rotation
        with av.open(io.BytesIO(self.data)) as container:
            video = container.streams.video[0]
            # A remux keeps the source's timestamps as they are, start offset included.
            slack = 0.05 if self.plan.reencode else 0.05 * float(self.plan.fps)
            assert float(video.average_rate or 0) == pytest.approx(float(self.plan.fps), abs=slack)
            assert video.codec.canonical_name == self.plan.codec
            assert (video.codec_context.width, video.codec_context.height) == (
                self.plan.width,
                self.plan.height,
            )
            frame_time = 1 / float(self.plan.fps)
            assert probe.duration_seconds == pytest.approx(self.source.duration_seconds, abs=2 * frame_time)
            audio = [stream.codec.canonical_name for stream in container.streams.audio]
            assert audio == ([self.outcome.audio_codec] if self.source_audio else [])
        assert self.outcome.size == len(self.data)
        assert (self.outcome.width, self.outcome.height) == (probe.width, probe.height)
        if self.plan.container == "mp4":
            boxes = top_level_boxes(self.data)
            assert boxes.index(b"moov") < boxes.index(b"mdat")  # faststart: playable while it downloads
        return probe


def top_level_boxes(data: bytes) -> list[bytes]:
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        size = int.from_bytes(data[at + 8 : at + 16], "big") if size == 1 else size
        boxes.append(kind)
        at += size or len(data)
    return boxes


def frame_indexes(data: bytes) -> list[int]:
    """The source frame index each output frame shows, read from its colour."""
    indexes = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            luma, chroma = (_centre(frame, plane) for plane in (0, 1))
            indexes.append(round((chroma - 16) / 4) * 50 + round((luma - 16) / 4))
    return indexes


def _centre(frame: Any, index: int) -> int:
    plane = frame.planes[index]
    return bytes(plane)[(plane.height // 2) * plane.line_size + plane.width // 2]


def sync_times(data: bytes) -> tuple[float, float]:
    """(time of the first bright frame, time of the audio click), in seconds."""
    with av.open(io.BytesIO(data)) as container:
        bright = next(float(f.time) for f in container.decode(video=0) if _centre(f, 0) > 200)
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            samples = array("f", bytes(frame.planes[0])[: frame.samples * 4])
            loud = next((i for i, value in enumerate(samples) if abs(value) > 0.3), None)
            if loud is not None:
                return bright, float(frame.time) + loud / frame.sample_rate
    raise AssertionError("no click in the audio")


H264_120 = Spec("mp4", "libx264", 360, 640, 120, 240, audio="aac", flash=True)


def test_120_fps_keeps_every_other_frame_and_the_audio_in_sync(tmp_path: Path) -> None:
    source = make(tmp_path, replace(H264_120, flash=False))
    done = repair(source)
    assert [str(change) for change in done.outcome.changes] == ["frame rate 120 -> 60 fps"]
    done.check()
    assert done.outcome.audio_codec == "aac" and done.plan.audio == "copy"
    assert frame_indexes(source.read_bytes()) == list(range(240))
    assert frame_indexes(done.data) == list(range(0, 240, 2))


def test_a_repair_keeps_picture_and_sound_together(tmp_path: Path) -> None:
    source = make(tmp_path, H264_120)
    done = repair(source)
    bright, click = sync_times(done.data)
    source_bright, source_click = sync_times(source.read_bytes())
    assert bright == pytest.approx(source_bright, abs=1 / 60)
    assert click == pytest.approx(source_click, abs=0.005)
    assert bright - click == pytest.approx(source_bright - source_click, abs=1 / 60)


def test_15_fps_shows_each_frame_twice(tmp_path: Path) -> None:
    done = repair(make(tmp_path, Spec("mp4", "libx264", 640, 360, 15, 30)))
    assert [str(change) for change in done.outcome.changes] == ["frame rate 15 -> 30 fps"]
    done.check()
    assert frame_indexes(done.data) == [index // 2 for index in range(60)]


def test_a_picture_wider_than_4096_is_scaled_down_keeping_its_shape(tmp_path: Path) -> None:
    done = repair(make(tmp_path, Spec("mp4", "libx264", 4800, 480, 24, 12)))
    assert [str(change) for change in done.outcome.changes] == ["size 4800x480 -> 4096x410"]
    done.check()


def test_a_picture_smaller_than_360_is_scaled_up(tmp_path: Path) -> None:
    done = repair(make(tmp_path, Spec("mp4", "libx264", 200, 200, 30, 30, audio="aac")))
    assert [str(change) for change in done.outcome.changes] == ["size 200x200 -> 360x360"]
    done.check()
    assert frame_indexes(done.data) == list(range(30))


def test_prores_with_pcm_audio_in_mov_becomes_h264_and_aac_in_mp4(tmp_path: Path) -> None:
    spec = Spec("mov", "prores_ks", 640, 360, 30, 45, pix_fmt="yuv422p10le", audio="pcm_s16le", flash=True)
    source = make(tmp_path, spec)
    done = repair(source)
    assert [str(change) for change in done.outcome.changes] == [
        "codec ProRes -> H.264",
        "container MOV -> MP4",
        "audio PCM -> AAC",
    ]
    done.check()
    assert done.outcome.audio_codec == "aac"
    # The re-encoded audio starts where the source's did: AAC's priming samples are accounted for.
    assert sync_times(done.data)[1] == pytest.approx(IMPULSE_AT, abs=0.005)


def test_mpeg4_part_2_in_mov_is_re_encoded_and_its_aac_copied(tmp_path: Path) -> None:
    source = make(tmp_path, Spec("mov", "mpeg4", 640, 360, 25, 25, audio="aac"))
    done = repair(source)
    assert [str(change) for change in done.outcome.changes] == [
        "codec MPEG-4 Part 2 -> H.264",
        "container MOV -> MP4",
    ]
    done.check()
    assert done.outcome.audio_codec == "aac" and done.plan.audio == "copy"
    assert frame_indexes(done.data) == frame_indexes(source.read_bytes())


def test_motion_jpeg_in_avi_is_read_by_pyav_and_repaired(tmp_path: Path) -> None:
    done = repair(
        make(tmp_path, Spec("avi", "mjpeg", 640, 360, 30, 30, pix_fmt="yuvj420p", audio="pcm_s16le"))
    )
    assert (done.source.container, done.source.codec, done.source_audio) == ("avi", "mjpeg", "pcm_s16le")
    assert [str(change) for change in done.outcome.changes] == [
        "codec Motion JPEG -> H.264",
        "container AVI -> MP4",
        "audio PCM -> AAC",
    ]
    done.check()
    with av.open(io.BytesIO(done.data)) as container:
        frame = next(container.decode(video=0))
    # Motion JPEG is full range; the H.264 made from it is limited range, which every player reads.
    assert frame.format.name == "yuv420p" and frame.color_range != 2


@pytest.mark.parametrize(
    ("container", "audio", "words"),
    [("matroska", "aac", "Matroska (MKV)"), ("avi", "libmp3lame", "AVI")],
    ids=["matroska", "avi"],
)
def test_h264_in_another_container_is_remuxed_without_re_encoding(
    tmp_path: Path, container: str, audio: str, words: str
) -> None:
    source = make(tmp_path, Spec(container, "libx264", 640, 360, 30, 30, audio=audio))
    done = repair(source)
    assert [str(change) for change in done.outcome.changes] == [f"container {words} -> MP4"]
    assert not done.plan.reencode and done.plan.audio == "copy"
    done.check()
    assert _video_payloads(done.data) == _video_payloads(source.read_bytes())


def test_vp9_in_matroska_goes_to_webm_with_its_audio_in_opus(tmp_path: Path) -> None:
    source = make(tmp_path, Spec("matroska", "libvpx-vp9", 640, 360, 30, 30, audio="aac"))
    done = repair(source)
    assert [str(change) for change in done.outcome.changes] == [
        "container Matroska (MKV) -> WebM",
        "audio AAC -> Opus",
    ]
    done.check()
    assert done.outcome.audio_codec == "opus"
    assert _video_payloads(done.data) == _video_payloads(source.read_bytes())


def _video_payloads(data: bytes) -> list[bytes]:
    """The coded pictures: packets as they are, or for H.264 the slices, whatever the NAL framing
    (AVI carries start codes, MP4 length prefixes)."""
    with av.open(io.BytesIO(data)) as container:
        packets = [bytes(packet) for packet in container.demux(video=0) if packet.size]
        if container.streams.video[0].codec.canonical_name != "h264":
            return packets
    return [nal for packet in packets for nal in _nal_units(packet) if nal[0] & 0x1F in (1, 5)]


def _nal_units(packet: bytes) -> list[bytes]:
    if packet.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return [unit.rstrip(b"\x00") for unit in packet.split(b"\x00\x00\x01") if unit.strip(b"\x00")]
    units, at = [], 0
    while at + 4 <= len(packet):
        length = int.from_bytes(packet[at : at + 4], "big")
        units.append(packet[at + 4 : at + 4 + length])
        at += 4 + length
    return units


@pytest.mark.parametrize("fps", [30, 120], ids=["remuxed", "re-encoded"])
def test_rotation_is_kept(tmp_path: Path, fps: int) -> None:
    container = "matroska" if fps == 30 else "mp4"
    done = repair(make(tmp_path, Spec(container, "libx264", 640, 360, fps, fps, rotation_ccw=90)))
    assert done.source.rotation == 270
    assert done.check().rotation == 270


def test_audio_the_plan_did_not_know_is_decided_when_the_file_is_opened(tmp_path: Path) -> None:
    done = repair(make(tmp_path, Spec("mov", "mpeg4", 640, 360, 30, 30, audio="pcm_s16le")), with_audio=False)
    assert done.plan.audio == "auto"
    assert [str(change) for change in done.outcome.changes][-1] == "audio PCM -> AAC"
    done.check()


@pytest.mark.parametrize(
    ("spec", "cut", "reason"),
    [
        (replace(H264_120, options=(("movflags", "+faststart"),)), 0.6, "media_truncated"),
        (H264_120, 0.6, "media_corrupt"),  # the index (moov) is at the end, so it is gone
        (Spec("matroska", "libx264", 640, 360, 30, 60), 0.6, "media_truncated"),
    ],
    ids=["mp4-index-first", "mp4-index-last", "matroska"],
)
def test_a_truncated_file_is_refused_and_nothing_is_written(
    tmp_path: Path, spec: Spec, cut: float, reason: str
) -> None:
    whole = make(tmp_path, spec).read_bytes()
    facts = read_video_facts(io.BytesIO(whole))
    plan = plan_video_repair(facts.probe, max_duration_seconds=600, audio_codec=facts.audio_codec)
    target = io.BytesIO()
    with pytest.raises(RepairRefusedError) as refused:
        repair_video(io.BytesIO(whole[: int(len(whole) * cut)]), target, plan)
    assert refused.value.reason == reason
    assert target.getvalue() == b""


def test_an_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w", format="mp4") as output:
        sound: Any = output.add_stream("aac", rate=RATE)
        for start in range(0, RATE, 1024):
            output.mux(sound.encode(_audio("fltp", start, False)))
        output.mux(sound.encode(None))
    with pytest.raises(RepairRefusedError) as refused, path.open("rb") as source:
        read_video_facts(source)
    assert refused.value.reason == "no_video_stream"


def test_garbage_is_refused_as_corrupt() -> None:
    with pytest.raises(RepairRefusedError) as refused:
        read_video_facts(io.BytesIO(b"not a video at all " * 100))
    assert refused.value.reason == "media_corrupt"


def test_a_video_longer_than_the_limit_is_refused_not_cut(tmp_path: Path) -> None:
    with pytest.raises(RepairRefusedError) as refused:
        repair(make(tmp_path, Spec("mp4", "libx264", 640, 360, 15, 30)), max_duration=1)
    assert refused.value.reason == "duration_too_long"
    assert "2.0 s" in refused.value.detail


def test_a_live_webm_without_duration_is_measured_from_its_packets(tmp_path: Path) -> None:
    spec = Spec("webm", "libvpx-vp9", 640, 360, 30, 45, options=(("live", "1"),))
    path = make(tmp_path, spec)
    with av.open(str(path)) as container:
        assert container.duration is None  # the header says nothing: only the packets tell
    with path.open("rb") as source:
        facts = read_video_facts(source)
    assert facts.probe.duration_seconds == pytest.approx(1.5, abs=0.04)
    assert facts.probe.fps == pytest.approx(30, abs=0.5)


def test_a_plan_needing_nothing_or_made_for_other_audio_is_a_mistake(tmp_path: Path) -> None:
    source = make(tmp_path, Spec("mp4", "libx264", 640, 360, 30, 30, audio="aac"))
    facts = read_video_facts(io.BytesIO(source.read_bytes()))
    fine = plan_video_repair(facts.probe, max_duration_seconds=600, audio_codec="aac")
    assert not fine.needed
    with pytest.raises(ValueError, match="needs no repair"):
        repair_video(io.BytesIO(source.read_bytes()), io.BytesIO(), fine)
    other = replace(facts.probe, fps=120.0)
    mismatched = plan_video_repair(other, max_duration_seconds=600, audio_codec="opus")
    with pytest.raises(ValueError, match="made for audio opus"):
        repair_video(io.BytesIO(source.read_bytes()), io.BytesIO(), mismatched)


def test_without_a_software_h264_encoder_the_repair_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "H264_ENCODERS", ("no-such-encoder",))
    with pytest.raises(RuntimeError, match=r"no software H\.264 encoder"):
        repair(make(tmp_path, Spec("mp4", "libx264", 640, 360, 15, 15)))

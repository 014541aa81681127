"""media_probe against PyAV's own reading of a generated corpus: codecs x containers x frame rates x
layouts (plain, faststart, fragmented MP4 in the ways ffmpeg writes it, with and without audio, live
WebM and a MediaRecorder-like WebM), then cut, mutated and grown copies of it.

Each file is a few frames of a tiny picture, so the whole corpus encodes in a second or two; it is
made once per session into a temporary directory.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import pytest

from functions.posting.media_probe import MAX_BYTES, MAX_READS, MediaProbeError, VideoProbe, probe_video
from tests.unit.posting import media_factory as mf
from tests.unit.posting import media_layouts as ml
from tests.unit.posting.media_factory import Clip, Recorder

RATES = (15, 24, Fraction(30000, 1001), 30, 60, 120)
FRAMES, GOP = 18, 6
SIZES = ((64, 64), (128, 72))
MIN_CODECS = 3  # of CODECS: fewer means the PyAV build cannot test what TikTok receives
CODECS = ("h264", "mpeg4", "vp8", "vp9", "hevc")
AVAILABLE = frozenset(codec for codec in CODECS if mf.encoder_for(codec))

MP4_LAYOUTS = {
    "moov-last": None,
    "faststart": "faststart",
    "frag": "frag_keyframe+empty_moov",
    "frag-moof-base": "frag_keyframe+empty_moov+default_base_moof",
    "frag-moov-samples": "frag_keyframe",
    "frag-no-mfra": "frag_keyframe+empty_moov+skip_trailer",
    "frag-sidx": "frag_keyframe+empty_moov+default_base_moof+global_sidx",
    "dash": "frag_keyframe+empty_moov+dash",
    "frag-every-frame": "empty_moov+frag_every_frame",
    "separate-moof": "frag_keyframe+empty_moov+separate_moof",
}
EBML_LAYOUTS = ("cues", "live", "media-recorder")
FRAGMENTED = frozenset(name for name, flags in MP4_LAYOUTS.items() if flags and "frag" in flags)


@dataclass(frozen=True)
class Spec:
    clip: Clip
    layout: str

    def __str__(self) -> str:
        audio = "-audio" if self.clip.audio else ""
        size = f"{self.clip.width}x{self.clip.height}"
        return (
            f"{self.clip.container}-{self.layout}-{self.clip.codec}-{size}-{float(self.clip.fps):g}fps{audio}"
        )


def _corpus() -> list[Spec]:
    combos: list[tuple[str, str, str, bool]] = []
    for layout in MP4_LAYOUTS:
        combos += [("mp4", layout, codec, False) for codec in ("h264", "mpeg4", "vp9", "hevc")]
        if layout not in ("dash", "frag-every-frame"):
            combos += [("mp4", layout, codec, True) for codec in ("h264", "mpeg4")]
    for layout in ("moov-last", "faststart", "frag"):
        combos += [("mov", layout, codec, False) for codec in ("h264", "mpeg4")] + [
            ("mov", layout, "h264", True)
        ]
    combos += [("webm", layout, codec, False) for layout in EBML_LAYOUTS for codec in ("vp8", "vp9")]
    combos += [
        ("matroska", layout, codec, False)
        for layout in ("cues", "live")
        for codec in ("h264", "mpeg4", "vp8", "vp9")
    ]
    specs = []
    for index, (container, layout, codec, audio) in enumerate(combos):
        for turn in range(2):  # two frame rates and sizes each, rotating so that every pair occurs
            rate = RATES[(2 * index + turn) % len(RATES)]
            width, height = SIZES[(index + turn) % len(SIZES)]
            flags = MP4_LAYOUTS.get(layout) if container in ("mp4", "mov") else None
            live = layout in ("live", "media-recorder")
            clip = Clip(
                container, codec, width, height, rate, FRAMES, movflags=flags, gop=GOP, live=live, audio=audio
            )
            specs.append(Spec(clip, layout))
    # Audio in every-frame fragments: the first and last fragments hold audio only. Above 30 fps
    # ffmpeg writes such files with frames it cannot decode itself, so they stay at 24 and 30.
    flags = MP4_LAYOUTS["frag-every-frame"]
    return specs + [
        Spec(
            Clip("mp4", "h264", 64, 64, rate, FRAMES, movflags=flags, gop=GOP, audio=True), "frag-every-frame"
        )
        for rate in (24, 30)
    ]


CORPUS = _corpus()
_T = TypeVar("_T")


def _param(spec: Spec) -> object:
    missing = spec.clip.codec not in AVAILABLE
    return pytest.param(
        spec, id=str(spec), marks=pytest.mark.skipif(missing, reason=f"no {spec.clip.codec} encoder")
    )


class Corpus:
    """The corpus files, written on first use into a directory kept for the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, spec: Spec) -> bytes:
        path = self.folder / f"{spec}-{zlib.crc32(repr(spec).encode()):08x}.{spec.clip.container}"
        if path.exists():
            return path.read_bytes()
        data = mf.write_video(spec.clip, path)
        if spec.layout == "media-recorder":
            data = ml.media_recorder_webm(data)
            path.write_bytes(data)
        return data


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("media-corpus"))


# --------------------------------------------------------------------------------------------------
# The corpus agrees with PyAV


def test_enough_codecs_can_be_encoded() -> None:
    assert len(AVAILABLE) >= MIN_CODECS, f"PyAV can only encode {sorted(AVAILABLE)}"
    tested = {spec.clip.codec for spec in CORPUS} & AVAILABLE
    assert len(tested) >= MIN_CODECS


def test_the_corpus_covers_every_layout_rate_and_container() -> None:
    assert {spec.clip.fps for spec in CORPUS} == set(RATES)
    assert {spec.layout for spec in CORPUS} == set(MP4_LAYOUTS) | set(EBML_LAYOUTS)
    assert {spec.clip.container for spec in CORPUS} == {"mp4", "mov", "webm", "matroska"}
    assert {spec.layout for spec in CORPUS if spec.clip.audio} == set(MP4_LAYOUTS) - {"dash"}
    for layout in FRAGMENTED:
        assert len({spec.clip.fps for spec in CORPUS if spec.layout == layout}) >= 4, layout


def probe_recorded(data: bytes) -> tuple[VideoProbe, Recorder]:
    reader = Recorder(data)
    return probe_video(reader, len(data)), reader


@pytest.mark.parametrize("spec", [_param(spec) for spec in CORPUS])
def test_probe_agrees_with_pyav(spec: Spec, corpus: Corpus) -> None:
    data = corpus(spec)
    reading = mf.pyav_reading(data)
    assert reading.frames == reading.decoded == FRAMES, "the corpus file itself is broken"
    probe, reader = probe_recorded(data)

    assert probe.container == spec.clip.container
    assert probe.container in reading.formats
    assert probe.codec == reading.codec == spec.clip.codec
    assert (
        (probe.width, probe.height) == (reading.width, reading.height) == (spec.clip.width, spec.clip.height)
    )
    assert probe.fps is not None
    assert probe.fps == pytest.approx(reading.fps, rel=0.01)
    assert probe.duration_seconds is not None
    frame = 1 / float(spec.clip.fps)
    tolerance = max(frame, 0.02 * max(reading.durations))
    closest = min(reading.durations, key=lambda seconds: abs(seconds - (probe.duration_seconds or 0)))
    assert probe.duration_seconds == pytest.approx(closest, abs=tolerance), reading.durations
    assert reader.calls <= 3


# --------------------------------------------------------------------------------------------------
# Truncated, mutated and grown copies


def _samples() -> list[Spec]:
    """One file per container and layout, at 30 fps, with audio where the layout has some."""
    chosen: dict[tuple[str, str], Spec] = {}
    for spec in CORPUS:
        has_audio = spec.layout in {
            s.layout for s in CORPUS if s.clip.audio and s.clip.container == spec.clip.container
        }
        if spec.clip.codec in ("h264", "vp9") and spec.clip.audio == has_audio:
            clip = replace(spec.clip, fps=30, width=64, height=64)
            chosen.setdefault((clip.container, spec.layout), replace(spec, clip=clip))
    return list(chosen.values())


SAMPLE_SPECS = _samples()
SAMPLES = [_param(spec) for spec in SAMPLE_SPECS]


def check_bounded(data: bytes, size: int | None = None) -> VideoProbe | MediaProbeError:
    """Probe bytes that may be anything: only an answer or MediaProbeError, within every bound."""
    reader = Recorder(data)
    began = time.perf_counter()
    try:
        result: VideoProbe | MediaProbeError = probe_video(reader, len(data) if size is None else size)
    except MediaProbeError as error:
        result = error
    assert time.perf_counter() - began < 2
    assert reader.calls <= MAX_READS
    assert reader.bytes_read <= MAX_BYTES
    assert "unexpected structure" not in str(result), result
    return result


def media_payloads(spec: Spec, data: bytes) -> list[tuple[int, int]]:
    """(start, end) of the first and last pieces of media data: mdat payloads or block payloads."""
    if spec.clip.container in ("mp4", "mov"):
        pieces = [(at + 8, at + size) for box_type, at, size in ml.box_headers(data) if box_type == b"mdat"]
    else:
        pieces = [
            (at + header + 4, at + header + (size or 0))
            for element_id, at, header, size in ml.element_headers(data)
            if element_id == ml.SIMPLE_BLOCK and (size or 0) > 8
        ]
    return [pieces[0], pieces[-1]]


@pytest.mark.parametrize("spec", SAMPLES)
def test_a_file_cut_inside_its_media_data_is_refused_as_truncated(spec: Spec, corpus: Corpus) -> None:
    data = corpus(spec)
    for start, end in media_payloads(spec, data):
        cut = data[: (start + end) // 2]
        result = check_bounded(cut)
        assert isinstance(result, MediaProbeError), f"cut at {len(cut)} of {len(data)}: {result}"
        assert str(result).startswith("the file is truncated"), str(result)


@pytest.mark.parametrize("spec", SAMPLES)
def test_a_file_cut_anywhere_gives_an_answer_or_a_media_probe_error(spec: Spec, corpus: Corpus) -> None:
    data = corpus(spec)
    points = {len(data) * k // 23 for k in range(1, 23)} | {len(data) - k for k in (1, 7, 8, 9, 16, 17)}
    points |= {at + delta for _, at, _ in ml.box_headers(data) for delta in (0, 4, 8, 12)}
    for point in sorted(p for p in points if 0 < p < len(data)):
        check_bounded(data[:point])


def first_and_last(headers: list[_T], count: int = 60) -> list[_T]:
    """The headers at both ends of a file, where its structure is (every-frame fragments have hundreds)."""
    return headers if len(headers) <= 2 * count else headers[:count] + headers[-count:]


def header_mutations(spec: Spec, data: bytes) -> Iterator[bytes]:
    """The file with one box or element header broken: sizes zeroed, huge, off by one; types flipped."""
    if spec.clip.container in ("mp4", "mov"):
        for _, at, size in first_and_last(ml.box_headers(data)):
            for value in (0, 1, 7, size - 1, size + 1, 0xFFFF_FFFF, size ^ 0x0100_0000):
                yield data[:at] + (value & 0xFFFF_FFFF).to_bytes(4, "big") + data[at + 4 :]
            yield data[: at + 4] + bytes([data[at + 4] ^ 0x20]) + data[at + 5 :]
            yield data[: at + 4] + bytes(4) + data[at + 8 :]
        return
    for _, at, header, _ in first_and_last(ml.element_headers(data)):
        id_length = 9 - data[at].bit_length()
        size_at, size_length = at + id_length, header - id_length
        marker = 1 << (8 * size_length - size_length)
        for value in (marker | ((1 << (7 * size_length)) - 1), marker | ((1 << (7 * size_length)) - 2), 0):
            yield data[:size_at] + value.to_bytes(size_length, "big") + data[size_at + size_length :]
        size, _ = ml.vint(data, size_at)
        for delta in (-1, 1):
            if 0 <= size + delta < (1 << (7 * size_length)) - 1:
                yield (
                    data[:size_at]
                    + (marker | (size + delta)).to_bytes(size_length, "big")
                    + data[at + header :]
                )
        yield data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize("spec", SAMPLES)
def test_broken_headers_give_an_answer_or_a_media_probe_error(spec: Spec, corpus: Corpus) -> None:
    data = corpus(spec)
    count = 0
    for mutated in header_mutations(spec, data):
        check_bounded(mutated)
        count += 1
    assert count > 50


@pytest.mark.parametrize("spec", SAMPLES)
def test_seeded_random_mutations_give_an_answer_or_a_media_probe_error(spec: Spec, corpus: Corpus) -> None:
    data = corpus(spec)
    rng = random.Random(f"{spec}")
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            if len(mutated) < 2:
                break
            # Most structure sits in the first and last kilobytes of these small files.
            at = rng.choice(
                [
                    rng.randrange(min(2048, len(mutated))),
                    len(mutated) - 1 - rng.randrange(min(2048, len(mutated))),
                ]
            )
            action = rng.choice(["flip", "flip", "ff", "zero", "cut", "delete", "duplicate"])
            if action == "flip":
                mutated[at] ^= 1 << rng.randrange(8)
            elif action in ("ff", "zero"):
                mutated[at : at + 4] = (b"\xff" if action == "ff" else b"\x00") * 4
            elif action == "cut":
                del mutated[max(1, at) :]
            elif action == "delete":
                del mutated[at : at + rng.randint(1, 64)]
            else:
                mutated[at:at] = mutated[at : at + rng.randint(1, 64)]
        check_bounded(bytes(mutated))


# --------------------------------------------------------------------------------------------------
# A last fragment or cluster larger than the tail window

MiB = 1024 * 1024
GROWN = 20 * MiB  # more than the 8 MiB tail window the fragments are first looked for in


def grown_spec(layout: str, *, audio: bool = False) -> Spec:
    return Spec(
        Clip("mp4", "h264", 64, 64, 30, FRAMES, movflags=MP4_LAYOUTS[layout], gop=GOP, audio=audio), layout
    )


GROWN_MP4 = ["frag", "frag-no-mfra", "frag-sidx", "frag-moov-samples", "separate-moof", "frag-every-frame"]


@pytest.mark.parametrize("layout", GROWN_MP4)
def test_a_final_fragment_larger_than_the_tail_window_still_gives_the_duration(
    layout: str, corpus: Corpus
) -> None:
    spec = grown_spec(layout, audio=layout != "frag-every-frame")
    data = corpus(spec)
    expected, _ = probe_recorded(data)
    assert expected.duration_seconds is not None
    assert any(
        abs(expected.duration_seconds - seconds) < 1 / 30 for seconds in mf.pyav_reading(data).durations
    )
    big = ml.grow_mdats(data, last=GROWN)

    probe = probe_video(big.read_range, big.size)

    assert probe.duration_seconds == pytest.approx(expected.duration_seconds, abs=1e-6)
    assert probe.fps == pytest.approx(expected.fps, rel=0.01)
    assert big.calls <= 8
    assert big.bytes_read < 9 * MiB

    cut = replace(big, size=big.size - GROWN // 2, parts=big.parts[:-1])  # inside the grown mdat
    with pytest.raises(MediaProbeError, match="the file is truncated"):
        probe_video(cut.read_range, cut.size)


@pytest.mark.parametrize("layout", ["live", "media-recorder"])
def test_a_final_cluster_larger_than_the_tail_window_still_gives_the_duration(
    layout: str, corpus: Corpus
) -> None:
    spec = Spec(Clip("webm", "vp9", 64, 64, 30, FRAMES, gop=GOP, live=True), layout)
    data = corpus(spec)
    expected, _ = probe_recorded(data)
    big = ml.grow_last_cluster(data, GROWN)

    probe = probe_video(big.read_range, big.size)

    # Without a DefaultDuration the frame rate is measured on the first megabyte of clusters, which
    # now holds fewer frames: the estimates may differ in their last digits.
    assert probe.duration_seconds == pytest.approx(expected.duration_seconds, abs=0.002)
    assert probe.fps == pytest.approx(expected.fps, rel=0.01)
    assert replace(probe, duration_seconds=None, fps=None) == replace(
        expected, duration_seconds=None, fps=None
    )
    assert big.calls <= 8
    assert big.bytes_read < GROWN + 2 * MiB

    cut = replace(big, size=big.size - GROWN // 2 - len(big.parts[-1][1]), parts=big.parts[:-1])
    with pytest.raises(MediaProbeError, match="the file is truncated"):
        probe_video(cut.read_range, cut.size)


def test_too_many_large_fragments_leave_the_duration_unknown_rather_than_wrong(corpus: Corpus) -> None:
    # 48 one-frame fragments of 100 KB each and no index: walking them costs more reads than allowed.
    clip = replace(
        grown_spec("frag-every-frame").clip, frames=48, movflags="empty_moov+frag_every_frame+skip_trailer"
    )
    big = ml.grow_mdats(corpus(Spec(clip, "frag-every-frame")), each=100 * 1024, last=GROWN)

    probe = probe_video(big.read_range, big.size)

    assert probe.duration_seconds is None
    assert probe.fps == pytest.approx(30, rel=0.01)
    assert big.calls <= MAX_READS


@pytest.mark.parametrize("layout", ["frag", "frag-no-mfra", "frag-sidx"])
def test_huge_sizes_in_a_large_sparse_file_stay_within_the_read_bounds(layout: str, corpus: Corpus) -> None:
    big = ml.grow_mdats(corpus(grown_spec(layout, audio=True)), last=GROWN)
    count = 0
    for index, (offset, piece) in enumerate(big.parts):
        for _, at, _ in ml.box_headers(piece):
            for size in (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x00\x00\x01"):
                parts = list(big.parts)
                parts[index] = (offset, piece[:at] + size + piece[at + 4 :])
                mutated = replace(big, parts=parts, calls=0, bytes_read=0, ranges=[])
                try:
                    probe_video(mutated.read_range, mutated.size)
                except MediaProbeError as error:
                    assert "unexpected structure" not in str(error)
                assert mutated.calls <= MAX_READS
                assert mutated.bytes_read <= MAX_BYTES
                count += 1
    assert count > 30

"""media_probe against real media made by PyAV and Pillow, sparse multi-gigabyte layouts, hand-made
edge cases, and random or mutated bytes.

PyAV (ffmpeg) is the reference: the probe must agree with it on dimensions, codec, rotation, and on
duration and frame rate within a tenth of a second and half a frame per second.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.posting import media_probe
from functions.posting.media_probe import (
    MAX_READS,
    ImageProbe,
    MediaProbeError,
    VideoProbe,
    probe_image,
    probe_video,
    sniff,
)
from local.media import heic
from tests.unit.posting import media_factory as mf
from tests.unit.posting.media_factory import Box, Clip, Recorder, layout

MiB = 1024 * 1024
H264, _ = mf.h264_or_fallback()


def _available(*clips: Clip) -> list[Clip]:
    return [clip for clip in clips if mf.encoder_for(clip.codec)]


VIDEOS = _available(
    Clip("mp4", H264, 360, 640, 30, 15),
    Clip("mp4", H264, 1080, 1920, 60, 12, movflags="faststart"),
    Clip("mov", H264, 360, 640, 24, 12),
    Clip("mp4", "hevc", 360, 640, 30, 15),
    Clip("mp4", "av1", 360, 640, 30, 15),
    Clip("mp4", "mpeg4", 640, 360, 25, 15),
    Clip("mp4", "vp9", 360, 640, 30, 15),
    Clip("webm", "vp9", 360, 640, 30, 15),
    Clip("webm", "vp8", 1080, 1920, 24, 6),
    Clip("matroska", H264, 360, 640, 30, 15),
    Clip("mp4", H264, 360, 640, 30, 30, movflags="frag_keyframe+empty_moov", gop=10),
    Clip("webm", "vp8", 360, 640, 60, 30, live=True),
)
PLAIN_MP4 = Clip("mp4", H264, 360, 640, 30, 15)
FRAGMENTED = Clip("mp4", H264, 360, 640, 30, 30, movflags="frag_keyframe+empty_moov", gop=10)
WEBM = next(clip for clip in VIDEOS if clip.container == "webm" and not clip.live)
LIVE_WEBM = next(clip for clip in VIDEOS if clip.live)


def probe_bytes(data: bytes) -> tuple[VideoProbe, Recorder]:
    reader = Recorder(data)
    return probe_video(reader, len(data)), reader


def assert_matches_pyav(probe: VideoProbe, data: bytes, clip: Clip) -> None:
    truth = mf.pyav_truth(data)
    assert probe.container == clip.container
    assert probe.codec == truth.codec == clip.codec
    assert (probe.width, probe.height) == (truth.width, truth.height) == (clip.width, clip.height)
    assert probe.rotation == truth.rotation_cw
    expected_duration = truth.duration if truth.duration is not None else clip.frames / clip.fps
    assert probe.duration_seconds is not None
    assert probe.duration_seconds == pytest.approx(expected_duration, abs=0.1)
    assert probe.fps is not None
    assert probe.fps == pytest.approx(truth.fps, abs=0.5)
    assert probe.fps == pytest.approx(clip.fps, abs=0.5)


# --------------------------------------------------------------------------------------------------
# Real videos


def test_the_matrix_covers_every_codec_tiktok_accepts() -> None:
    assert {clip.codec for clip in VIDEOS} >= {H264, "vp8", "vp9"}
    assert {clip.container for clip in VIDEOS} >= {"mp4", "mov", "webm"}


@pytest.mark.parametrize("clip", VIDEOS, ids=str)
def test_video_agrees_with_pyav(clip: Clip) -> None:
    data = mf.video(clip)
    probe, reader = probe_bytes(data)
    assert_matches_pyav(probe, data, clip)
    assert sniff(data[: media_probe.SNIFF_BYTES]) == clip.container
    assert reader.calls <= 3


@pytest.mark.parametrize(
    "clip",
    _available(
        Clip("mp4", H264, 360, 640, 30, 10, rotation_ccw=90),
        Clip("mov", H264, 360, 640, 30, 10, rotation_ccw=180),
        Clip("mp4", "hevc", 640, 360, 30, 10, rotation_ccw=270),
        Clip("webm", "vp9", 360, 640, 30, 10, rotation_ccw=90),
        Clip("webm", "vp9", 360, 640, 30, 10, rotation_ccw=270),
    ),
    ids=str,
)
def test_rotation_is_clockwise_like_ffprobe(clip: Clip) -> None:
    data = mf.video(clip)
    probe, _ = probe_bytes(data)
    assert_matches_pyav(probe, data, clip)
    assert probe.rotation == (-(clip.rotation_ccw or 0)) % 360 != 0
    # Coded dimensions: rotation does not swap them.
    assert (probe.width, probe.height) == (clip.width, clip.height)


def top_level_types(data: bytes) -> list[bytes]:
    return [box.type for box in mf.parse_boxes(data)]


def test_moov_at_the_end_and_faststart_give_the_same_answer() -> None:
    at_end = mf.video(replace(PLAIN_MP4, frames=20))
    faststart = mf.video(replace(PLAIN_MP4, frames=20, movflags="faststart"))
    assert top_level_types(at_end).index(b"moov") > top_level_types(at_end).index(b"mdat")
    assert top_level_types(faststart).index(b"moov") < top_level_types(faststart).index(b"mdat")
    assert probe_bytes(at_end)[0] == probe_bytes(faststart)[0]
    assert probe_bytes(faststart)[0].duration_seconds == pytest.approx(20 / 30, abs=0.01)


def split_iso(data: bytes) -> dict[bytes, bytes]:
    return {box.type: box.encode() for box in mf.parse_boxes(data)}


@pytest.mark.parametrize("mdat_payload", [200 * MiB, 5 * 1024 * MiB], ids=["200MB", "5GB-64bit-size"])
def test_a_huge_mdat_before_moov_costs_a_few_small_reads(mdat_payload: int) -> None:
    data = mf.video(PLAIN_MP4)
    boxes = split_iso(data)
    if mdat_payload < 2**32 - 8:
        mdat_header = struct.pack(">I4s", 8 + mdat_payload, b"mdat")
    else:
        mdat_header = struct.pack(">I4sQ", 1, b"mdat", 16 + mdat_payload)
    big = layout(boxes[b"ftyp"], mdat_header, mdat_payload, boxes[b"moov"])
    assert big.size > mdat_payload

    probe = probe_video(big.read_range, big.size)

    assert probe == probe_bytes(data)[0]
    assert big.calls < 50
    assert big.bytes_read < MiB
    moov_at = big.size - len(boxes[b"moov"])
    middle = [(start, end) for start, end in big.ranges if 128 * 1024 < start < moov_at - 128 * 1024]
    assert middle == []


def test_fragmented_mp4_without_mehd_takes_its_duration_from_the_last_fragment() -> None:
    data = mf.video(FRAGMENTED)
    assert b"mehd" not in data
    assert top_level_types(data).count(b"moof") == 3
    probe, _ = probe_bytes(data)
    assert probe.duration_seconds == pytest.approx(1.0, abs=0.01)
    assert probe.fps == pytest.approx(30.0, abs=0.01)


def test_huge_fragmented_mp4_reads_its_head_and_tail_only() -> None:
    data = mf.video(FRAGMENTED)
    boxes = mf.parse_boxes(data)
    pieces: list[bytes | int] = []
    for box in boxes:
        if box.type == b"mdat" and box is not boxes[-2]:
            pieces += [struct.pack(">I4s", 8 + 300 * MiB, b"mdat"), 300 * MiB]
        else:
            pieces.append(box.encode())
    big = layout(*pieces)
    probe = probe_video(big.read_range, big.size)
    assert probe == probe_bytes(data)[0]
    assert big.calls <= 3
    assert big.bytes_read < 1.2 * MiB


def movie_timescale(moov: Box) -> int:
    timescale: int = struct.unpack_from(">I", moov.find(b"mvhd").payload, 12)[0]
    return timescale


@pytest.mark.parametrize("version", [0, 1])
def test_fragmented_mp4_duration_comes_from_mehd_when_present(version: int) -> None:
    def add_mehd(moov: Box) -> None:
        ticks = 7 * movie_timescale(moov)
        body = struct.pack(">II", 0, ticks) if version == 0 else struct.pack(">IQ", 1 << 24, ticks)
        moov.find(b"mvex").children.insert(0, Box(b"mehd", body))  # type: ignore[union-attr]

    probe, _ = probe_bytes(mf.edit_moov(mf.video(FRAGMENTED), add_mehd))
    assert probe.duration_seconds == pytest.approx(7.0)
    assert probe.fps == pytest.approx(30.0, abs=0.01)


def test_compressed_quicktime_movie_header() -> None:
    data = mf.video(Clip("mov", H264, 360, 640, 24, 12))
    compressed = mf.compress_moov(data)
    assert b"cmov" in compressed
    assert b"stts" not in compressed
    assert probe_bytes(compressed)[0] == probe_bytes(data)[0]


def test_old_quicktime_without_ftyp() -> None:
    data = mf.video(Clip("mov", H264, 360, 640, 24, 12))
    boxes = [box for box in mf.parse_boxes(data) if box.type != b"ftyp"]
    bare = mf.encode_boxes(boxes)
    assert sniff(bare) == "mov"
    assert probe_bytes(bare)[0] == probe_bytes(data)[0]


def test_64_bit_box_sizes_everywhere() -> None:
    data = mf.video(PLAIN_MP4)
    boxes = mf.parse_boxes(data)

    def widen(box: Box) -> None:
        box.large = True
        for child in box.children or []:
            widen(child)

    for box in boxes:
        widen(box)
    wide = mf.encode_boxes(boxes)
    assert wide[:4] == b"\x00\x00\x00\x01"
    assert probe_bytes(wide)[0] == probe_bytes(data)[0]


def test_mdat_of_size_zero_runs_to_the_end_of_the_file() -> None:
    data = mf.video(replace(PLAIN_MP4, movflags="faststart"))
    at = data.index(b"mdat") - 4
    open_ended = data[:at] + b"\x00\x00\x00\x00" + data[at + 4 :]
    assert probe_bytes(open_ended)[0] == probe_bytes(data)[0]


def test_encrypted_sample_entry_reports_the_original_codec() -> None:
    def encrypt(moov: Box) -> None:
        stsd = mf.video_trak(moov).find(b"mdia", b"minf", b"stbl", b"stsd")
        entry = mf.parse_boxes(stsd.payload[8:], descend=frozenset())[0]
        sinf = Box(b"sinf", children=[Box(b"frma", entry.type), Box(b"schm", bytes(12))])
        entry = Box(b"encv", entry.payload + sinf.encode())
        stsd.payload = stsd.payload[:8] + entry.encode()

    data = mf.edit_moov(mf.video(PLAIN_MP4), encrypt)
    assert b"encv" in data
    assert probe_bytes(data)[0].codec == H264


def test_the_first_enabled_video_track_wins() -> None:
    def add_disabled_copy(moov: Box) -> None:
        trak = mf.video_trak(moov)
        copy = mf.parse_boxes(trak.encode())[0]
        tkhd = copy.find(b"tkhd")
        tkhd.payload = tkhd.payload[:3] + bytes([0]) + tkhd.payload[4:]  # flags: not enabled
        stsd = copy.find(b"mdia", b"minf", b"stbl", b"stsd")
        stsd.payload = stsd.payload[:12] + b"jpeg" + stsd.payload[16:]
        assert moov.children is not None
        moov.children.insert(moov.children.index(trak), copy)

    data = mf.edit_moov(mf.video(PLAIN_MP4), add_disabled_copy)
    assert data.count(b"trak") == 2
    assert probe_bytes(data)[0].codec == H264


def test_unknown_codec_is_its_fourcc_lower_cased() -> None:
    def rename(moov: Box) -> None:
        stsd = mf.video_trak(moov).find(b"mdia", b"minf", b"stbl", b"stsd")
        stsd.payload = stsd.payload[:12] + b"apcH" + stsd.payload[16:]

    assert probe_bytes(mf.edit_moov(mf.video(PLAIN_MP4), rename))[0].codec == "apch"


# --------------------------------------------------------------------------------------------------
# WebM details


def test_live_webm_without_duration_is_estimated_from_its_last_cluster() -> None:
    data = mf.video(LIVE_WEBM)
    assert b"\x44\x89" not in data[:400]  # no Duration in Info
    segment = data.index(mf.MKV_SEGMENT)
    assert data[segment + 4 : segment + 12] == b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size
    probe, reader = probe_bytes(data)
    assert mf.pyav_truth(data).duration is None
    assert probe.duration_seconds == pytest.approx(LIVE_WEBM.frames / LIVE_WEBM.fps, abs=0.05)
    assert reader.calls <= 2


@pytest.mark.parametrize("clip", [WEBM, LIVE_WEBM], ids=str)
def test_webm_frame_rate_without_default_duration_is_measured_on_the_first_cluster(clip: Clip) -> None:
    data = mf.blank_element(mf.video(clip), b"\x23\xe3\x83")
    assert b"\x23\xe3\x83" not in data
    probe, _ = probe_bytes(data)
    assert probe.fps == pytest.approx(clip.fps, abs=0.5)
    assert probe.duration_seconds == pytest.approx(clip.frames / clip.fps, abs=0.1)


@pytest.mark.parametrize("seekhead", [True, False], ids=["via-seekhead", "skipping-clusters"])
def test_webm_with_info_and_tracks_after_the_clusters(seekhead: bool) -> None:
    original = mf.video(WEBM)
    data = mf.webm_with_headers_after_clusters(original, seekhead=seekhead)
    order = [element_id for element_id, _ in mf.split_webm(data)[1]]
    assert order.index(mf.CLUSTER_ID) < order.index(mf.INFO_ID) < order.index(mf.TRACKS_ID)
    assert (mf.SEEKHEAD_ID in order) is seekhead
    assert probe_bytes(data)[0] == probe_bytes(original)[0]


def test_matroska_doctype_is_reported_as_matroska() -> None:
    data = mf.video(Clip("matroska", H264, 360, 640, 30, 15))
    assert b"matroska" in data[:64]
    assert probe_bytes(data)[0].container == "matroska"
    assert sniff(data) == "matroska"


# --------------------------------------------------------------------------------------------------
# Images

IMAGES: list[tuple[str, str, Callable[[], bytes]]] = [
    ("jpeg-baseline", "jpeg", lambda: mf.image("JPEG", 1080, 1350, quality=80)),
    ("jpeg-progressive", "jpeg", lambda: mf.image("JPEG", 1920, 1080, progressive=True)),
    ("jpeg-40KB-exif", "jpeg", lambda: mf.image("JPEG", 720, 1280, exif=b"Exif\x00\x00" + bytes(40_000))),
    ("jpeg-grey", "jpeg", lambda: mf.image("JPEG", 333, 77, mode="L")),
    ("webp-lossy", "webp", lambda: mf.image("WEBP", 1080, 1920, quality=70)),
    ("webp-lossless", "webp", lambda: mf.image("WEBP", 1081, 607, lossless=True)),
    ("webp-alpha", "webp", lambda: mf.image("WEBP", 640, 480, mode="RGBA")),
    ("webp-exif", "webp", lambda: mf.image("WEBP", 300, 200, exif=b"Exif\x00\x00" + bytes(100))),
    ("png", "png", lambda: mf.image("PNG", 1080, 1080)),
    ("gif", "gif", lambda: mf.image("GIF", 500, 281, mode="P")),
    ("avif", "avif", lambda: mf.image("AVIF", 1080, 720, quality=50)),
    ("bmp", "bmp", lambda: mf.image("BMP", 123, 45)),
]


@pytest.mark.parametrize(
    ("fmt", "make"), [(fmt, make) for _, fmt, make in IMAGES], ids=[i[0] for i in IMAGES]
)
def test_image_agrees_with_pillow(fmt: str, make: Callable[[], bytes]) -> None:
    data = make()
    reader = Recorder(data)
    probe = probe_image(reader, len(data))
    width, height = mf.pillow_size(data)
    assert probe == ImageProbe(format=fmt, width=width, height=height)
    assert reader.calls == 1
    assert sniff(data) == fmt


def test_jpeg_frame_header_far_from_the_start() -> None:
    data = mf.image("JPEG", 1080, 1350)
    icc = b"".join(b"\xff\xe2" + struct.pack(">H", 65_000) + bytes(64_998) for _ in range(5))
    padded = data[:2] + icc + b"\xff\xff\xff" + data[2:]  # and some fill bytes before the next marker
    reader = Recorder(padded)
    assert probe_image(reader, len(padded)) == ImageProbe("jpeg", 1080, 1350)
    assert 1 < reader.calls <= 7


def heif(
    brand: bytes, primary: int, sizes: list[tuple[int, int]], associations: dict[int, list[int]]
) -> bytes:
    ispe = [Box(b"ispe", struct.pack(">III", 0, w, h)) for w, h in sizes]
    ipma = struct.pack(">II", 0, len(associations)) + b"".join(
        struct.pack(">HB", item, len(indexes)) + bytes(0x80 | index for index in indexes)
        for item, indexes in associations.items()
    )
    iprp = Box(
        b"iprp", children=[Box(b"ipco", children=[Box(b"hvcC", bytes(23)), *ispe]), Box(b"ipma", ipma)]
    )
    meta_body = (
        bytes(4)
        + Box(b"hdlr", bytes(8) + b"pict" + bytes(13)).encode()
        + Box(b"pitm", struct.pack(">IH", 0, primary)).encode()
        + iprp.encode()
    )
    ftyp = Box(b"ftyp", brand + bytes(4) + b"mif1" + brand)
    return mf.encode_boxes([ftyp, Box(b"meta", meta_body), Box(b"mdat", bytes(64))])


def test_heic_reports_the_primary_item_size() -> None:
    # Properties: 1 hvcC, 2 ispe thumbnail, 3 ispe full picture; item 1 is a thumbnail, item 2 primary.
    data = heif(b"heic", 2, [(320, 240), (4032, 3024)], {1: [1, 2], 2: [1, 3]})
    assert sniff(data) == "heic"
    assert probe_image(Recorder(data), len(data)) == ImageProbe("heic", 4032, 3024)
    with pytest.raises(MediaProbeError, match="not a video: the file starts with a HEIC signature"):
        probe_video(Recorder(data), len(data))


def test_heic_without_associations_reports_the_largest_size() -> None:
    data = heif(b"heix", 9, [(320, 240), (4032, 3024), (64, 64)], {})
    assert probe_image(Recorder(data), len(data)) == ImageProbe("heic", 4032, 3024)


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_heic_libheif_wrote_is_probed_at_its_coded_size(orientation: int) -> None:
    """A phone's HEIC (pillow-heif: libheif with x265): turned by its irot box, measured as coded."""
    data = heic(width=640, height=480, orientation=orientation)
    assert sniff(data) == "heic"
    reader = Recorder(data)
    assert probe_image(reader, len(data)) == ImageProbe("heic", 640, 480)
    assert reader.calls <= 3


def test_heic_without_ispe_is_an_error() -> None:
    data = heif(b"heic", 1, [], {})
    with pytest.raises(MediaProbeError, match="HEIC image without a readable size"):
        probe_image(Recorder(data), len(data))


# --------------------------------------------------------------------------------------------------
# sniff


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "mov"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "avif"),
        (b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "matroska"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84abcd", "unknown"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "unknown"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"BM" + bytes(12) + b"\x28\x00\x00\x00" + bytes(8), "bmp"),
        (b"<!DOCTYPE html><html>", "unknown"),
        (b"", "unknown"),
        (b"\x00\x00\x00", "unknown"),
    ],
)
def test_sniff(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


# --------------------------------------------------------------------------------------------------
# Errors a person can act on


def fails(data: bytes, probe: Callable[..., object] = probe_video, size: int | None = None) -> str:
    with pytest.raises(MediaProbeError) as caught:
        probe(Recorder(data), len(data) if size is None else size)
    return str(caught.value)


def test_wrong_kinds_of_file_are_named() -> None:
    png = mf.image("PNG", 10, 10)
    assert fails(png) == "not a video: the file starts with a PNG signature (a PNG image)"
    assert fails(mf.video(PLAIN_MP4), probe_image).startswith(
        "not an image: the file starts with an MP4 signature"
    )
    assert "not a video: the file is text, starting with '<!DOCTYPE html>" in fails(
        b"<!DOCTYPE html><html>oops"
    )
    assert "unrecognised file type (first bytes: de ad be ef" in fails(b"\xde\xad\xbe\xef" * 10)
    avi = b"RIFF\x10\x00\x00\x00AVI LIST" + bytes(32)
    assert fails(avi).startswith("unsupported video container: the file starts with an AVI signature")
    assert fails(b"%PDF-1.7" + bytes(40), probe_image).startswith("not an image: the file starts with a PDF")


def test_mp4_without_moov() -> None:
    data = mf.video(PLAIN_MP4)
    boxes = [box for box in mf.parse_boxes(data) if box.type != b"moov"]
    assert "MP4/MOV without a moov box" in fails(mf.encode_boxes(boxes))
    # A recording cut off while writing: mdat of size 0 running to the end.
    cut = split_iso(data)[b"ftyp"] + b"\x00\x00\x00\x00mdat" + bytes(5000)
    assert "without a moov box" in fails(cut)


def test_truncated_moov() -> None:
    data = mf.video(PLAIN_MP4)
    message = fails(data[:-200])
    assert "truncated" in message
    assert "moov" in message


def test_file_shorter_than_its_declared_size() -> None:
    data = mf.video(PLAIN_MP4)
    assert "shorter than its declared size" in fails(data, size=len(data) + 10_000)


def test_audio_only_mp4() -> None:
    assert fails(mf.audio_only_mp4()) == "the file has no video track (track types: soun)"


def test_oversized_moov_is_refused_without_reading_it() -> None:
    big = layout(split_iso(mf.video(PLAIN_MP4))[b"ftyp"], struct.pack(">I4s", 100 * MiB, b"moov"), 100 * MiB)
    with pytest.raises(MediaProbeError, match=r"movie header \(moov\) is 104857600 bytes"):
        probe_video(big.read_range, big.size)
    assert big.bytes_read < MiB


def test_too_many_boxes_before_moov_exhausts_the_read_budget() -> None:
    pieces: list[bytes | int] = [split_iso(mf.video(PLAIN_MP4))[b"ftyp"]]
    for _ in range(200):
        pieces += [struct.pack(">I4s", MiB, b"free"), MiB - 8]
    big = layout(*pieces)
    with pytest.raises(MediaProbeError, match=f"gave up after {MAX_READS} reads"):
        probe_video(big.read_range, big.size)
    assert big.calls == MAX_READS


@pytest.mark.parametrize("size", [0, -1])
def test_empty_or_negative_size(size: int) -> None:
    with pytest.raises(MediaProbeError):
        probe_video(Recorder(b""), size)


def test_jpeg_without_frame_header() -> None:
    data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xda\x00\x08" + bytes(20)
    assert "image data starts before any frame header" in fails(data, probe_image)
    assert "expected a marker" in fails(b"\xff\xd8\xff\xe0\x00\x04\x00\x00\x12\x34" + bytes(20), probe_image)


def test_read_range_errors_propagate_unchanged() -> None:
    for error in (OSError("S3 said no"), ValueError("a bug in the caller")):

        def broken(start: int, end: int, error: Exception = error) -> bytes:
            raise error

        with pytest.raises(type(error)) as caught:
            probe_video(broken, 1000)
        assert caught.value is error
        assert not isinstance(caught.value, MediaProbeError)


def test_read_range_returning_a_non_bytes_value() -> None:
    with pytest.raises(MediaProbeError, match="read_range returned str"):
        probe_video(lambda start, end: "text", 100)  # type: ignore[arg-type, return-value]


# --------------------------------------------------------------------------------------------------
# Any bytes: only MediaProbeError, a bounded number of reads, no safety-net catches

SAFETY_NET = "unexpected structure"


def check_any(data: bytes, size: int | None = None) -> None:
    size = len(data) if size is None else size
    for probe in (probe_video, probe_image):
        reader = Recorder(data)
        try:
            result = probe(reader, size)
        except MediaProbeError as error:
            assert SAFETY_NET not in str(error), str(error)
        else:
            assert isinstance(result, VideoProbe | ImageProbe)
        assert reader.calls <= MAX_READS
    assert sniff(data[:64]) in {
        "mp4",
        "mov",
        "webm",
        "matroska",
        "jpeg",
        "webp",
        "png",
        "gif",
        "heic",
        "avif",
        "bmp",
        "unknown",
    }


PREFIXES = [
    b"",
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"\x00\x00\x00\x08wide",
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm",
    b"\x1a\x45\xdf\xa3\x84\x42\x82\x81\x00\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff",
    b"\xff\xd8\xff",
    b"\xff\xd8",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"BM",
]

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
def test_random_bytes(prefix: bytes, body: bytes) -> None:
    check_any(prefix + body)


BOX_TYPES = [
    b"ftyp",
    b"moov",
    b"mdat",
    b"trak",
    b"mvhd",
    b"tkhd",
    b"mdia",
    b"mdhd",
    b"hdlr",
    b"minf",
    b"stbl",
]
BOX_TYPES += [
    b"stsd",
    b"stts",
    b"mvex",
    b"mehd",
    b"trex",
    b"moof",
    b"traf",
    b"tfhd",
    b"tfdt",
    b"trun",
    b"cmov",
]
BOX_TYPES += [b"dcom", b"cmvd", b"meta", b"iprp", b"ipco", b"ipma", b"ispe", b"pitm", b"free"]


@st.composite
def box_trees(draw: st.DrawFn, depth: int = 0) -> bytes:
    """Random but well-formed-looking box structures, to reach deep into the ISO parser."""
    boxes = []
    for _ in range(draw(st.integers(0, 4))):
        box_type = draw(st.sampled_from(BOX_TYPES))
        if depth < 4 and draw(st.booleans()):
            body = draw(box_trees(depth + 1))
        else:
            body = draw(st.binary(max_size=120))
        size = draw(st.sampled_from(["exact", "exact", "exact", "zero", "large", "random"]))
        if size == "exact":
            boxes.append(struct.pack(">I4s", len(body) + 8, box_type) + body)
        elif size == "zero":
            boxes.append(struct.pack(">I4s", 0, box_type) + body)
        elif size == "large":
            boxes.append(
                struct.pack(">I4sQ", 1, box_type, draw(st.sampled_from([len(body) + 16, 2**63]))) + body
            )
        else:
            boxes.append(struct.pack(">I4s", draw(st.integers(0, 2**32 - 1)), box_type) + body)
    return b"".join(boxes)


@FUZZ
@given(head=st.sampled_from(PREFIXES[1:5]), tree=box_trees())
def test_random_box_structures(head: bytes, tree: bytes) -> None:
    check_any(head + tree)


def real_samples() -> list[bytes]:
    clips = [
        PLAIN_MP4,
        replace(PLAIN_MP4, movflags="faststart"),
        FRAGMENTED,
        Clip("mov", H264, 360, 640, 24, 12),
        WEBM,
        LIVE_WEBM,
    ]
    images = [
        mf.image("JPEG", 64, 48),
        mf.image("WEBP", 64, 48),
        mf.image("WEBP", 64, 48, lossless=True),
        mf.image("PNG", 64, 48),
        mf.image("GIF", 64, 48, mode="P"),
        mf.image("AVIF", 64, 48),
        heif(b"heic", 1, [(64, 48)], {1: [1, 2]}),
    ]
    return [mf.video(clip) for clip in clips] + [mf.compress_moov(mf.video(clips[3]))] + images


SAMPLES = real_samples()


@st.composite
def mutations(draw: st.DrawFn) -> tuple[bytes, int]:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "flip", "byte", "truncate", "insert", "delete"]))
        # Most structure sits in the first and last 1000 bytes of these small files.
        where = draw(
            st.one_of(
                st.integers(0, min(1000, len(data) - 1)),
                st.integers(max(0, len(data) - 1000), len(data) - 1),
                st.integers(0, len(data) - 1),
            )
        )
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "byte":
            data[where] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif action == "truncate":
            del data[max(1, where) :]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif len(data) > 17:
            del data[where : where + draw(st.integers(1, 16))]
    size = len(data) + draw(st.sampled_from([0, 0, 0, 0, 1, 1000]))
    return bytes(data), size


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated=mutations())
def test_mutated_real_files(mutated: tuple[bytes, int]) -> None:
    data, size = mutated
    check_any(data, size)


# --------------------------------------------------------------------------------------------------
# Less common layouts


@pytest.mark.parametrize("moov_at", [65_536 - 40, 65_536 - 8, 65_536 - 3, 65_536 + 100])
def test_moov_straddling_the_read_ahead_window(moov_at: int) -> None:
    data = mf.video(PLAIN_MP4)
    boxes = split_iso(data)
    gap = moov_at - len(boxes[b"ftyp"]) - 8
    big = layout(boxes[b"ftyp"], struct.pack(">I4s", gap + 8, b"mdat"), gap, boxes[b"moov"])
    assert probe_video(big.read_range, big.size) == probe_bytes(data)[0]
    assert big.calls <= 3
    assert big.bytes_read <= big.size


def test_version_1_headers_with_64_bit_times() -> None:
    data = mf.video(PLAIN_MP4)
    converted = mf.edit_moov(data, mf.to_version_1)
    probe, _ = probe_bytes(converted)
    assert_matches_pyav(probe, converted, PLAIN_MP4)
    assert probe == probe_bytes(data)[0]


def test_movie_duration_zero_falls_back_to_the_video_track() -> None:
    data = mf.edit_moov(mf.video(PLAIN_MP4), lambda moov: mf.to_version_1(moov, movie_duration=0))
    assert probe_bytes(data)[0].duration_seconds == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("durations_in", ["trex", "tfhd", "trun"])
@pytest.mark.parametrize("tfdt_version", [0, 1])
def test_synthetic_fragmented_mp4(durations_in: str, tfdt_version: int) -> None:
    data = mf.synthetic_fragmented_mp4(durations_in=durations_in, tfdt_version=tfdt_version, start=90_000)
    probe, _ = probe_bytes(data)
    assert probe == VideoProbe("mp4", "h264", 3.0, 30.0, 1280, 720, 0)


def test_fragmented_mp4_whose_last_fragment_is_far_from_the_end() -> None:
    data = mf.video(FRAGMENTED)
    pieces: list[bytes | int] = []
    boxes = mf.parse_boxes(data)
    last_mdat = max(i for i, box in enumerate(boxes) if box.type == b"mdat")
    for index, box in enumerate(boxes):
        if index == last_mdat:
            pieces += [struct.pack(">I4s", 8 + 3 * MiB, b"mdat"), 3 * MiB]
        else:
            pieces.append(box.encode())
    big = layout(*pieces)
    assert probe_video(big.read_range, big.size) == probe_bytes(data)[0]
    assert big.calls <= 4


def test_synthetic_matroska_with_a_float32_duration_block_groups_and_a_projection() -> None:
    data = mf.synthetic_matroska(duration=struct.pack(">f", 2000.0), default_duration=33_333_333, roll=90.0)
    assert sniff(data) == "matroska"
    assert probe_bytes(data)[0] == VideoProbe("matroska", "h264", 2.0, 30.0, 1920, 1080, 270)


@pytest.mark.parametrize("unknown_sizes", [False, True], ids=["known-sizes", "unknown-sizes"])
def test_synthetic_matroska_without_any_timing_metadata(unknown_sizes: bool) -> None:
    data = mf.synthetic_matroska(duration=None, default_duration=None, roll=None, unknown_sizes=unknown_sizes)
    probe, _ = probe_bytes(data)
    assert probe.fps == pytest.approx(30.0, abs=0.5)
    assert probe.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert probe.rotation == 0


def test_webm_duration_estimate_when_the_last_cluster_is_far_from_the_end() -> None:
    data = mf.blank_element(mf.video(WEBM), b"\x44\x89")
    ebml_header, children = mf.split_webm(data)
    padding = mf.ebml_element(b"\xec", bytes(2 * MiB))
    padded = ebml_header + mf.ebml_element(
        b"\x18\x53\x80\x67", b"".join(whole for _, whole in children) + padding
    )
    probe, reader = probe_bytes(padded)
    original = probe_bytes(mf.video(WEBM))[0]
    assert probe.duration_seconds == pytest.approx(original.duration_seconds, abs=0.01)
    assert replace(probe, duration_seconds=original.duration_seconds) == original
    assert reader.calls <= 5


def test_tracks_element_missing_from_webm() -> None:
    ebml_header, children = mf.split_webm(mf.video(WEBM))
    body = b"".join(whole for element_id, whole in children if element_id != mf.TRACKS_ID)
    data = ebml_header + mf.ebml_element(b"\x18\x53\x80\x67", body)
    assert fails(data) == "WebM file without a Tracks element: the file is incomplete or corrupt"


def test_webm_without_a_video_track() -> None:
    ebml_header, _ = mf.split_webm(mf.video(WEBM))
    audio = mf.ebml_element(b"\xae", mf.ebml_uint(b"\xd7", 1) + mf.ebml_uint(b"\x83", 2))
    data = ebml_header + mf.ebml_element(b"\x18\x53\x80\x67", mf.ebml_element(mf.TRACKS_ID, audio))
    assert fails(data) == "the file has no video track"


# --------------------------------------------------------------------------------------------------
# Image edge cases


def test_image_edge_cases() -> None:
    bmp = mf.image("BMP", 123, 45)
    top_down = bmp[:22] + struct.pack("<i", -45) + bmp[26:]
    assert probe_image(Recorder(top_down), len(top_down)) == ImageProbe("bmp", 123, 45)
    os2 = b"BM" + struct.pack("<IHHI", 26, 0, 0, 26) + struct.pack("<IHHHH", 12, 77, 66, 1, 24)
    assert probe_image(Recorder(os2), len(os2)) == ImageProbe("bmp", 77, 66)

    jpeg = mf.image("JPEG", 64, 48)
    sof = jpeg.index(b"\xff\xc0")
    dnl = jpeg[: sof + 5] + b"\x00\x00" + jpeg[sof + 7 :]
    assert "DNL" in fails(dnl, probe_image)
    assert "declares a length of 1" in fails(b"\xff\xd8\xff\xe0\x00\x01" + bytes(20), probe_image)
    assert "ends before its frame header" in fails(jpeg[:sof], probe_image)

    png = mf.image("PNG", 10, 10)
    assert (
        fails(png[:16] + bytes(4) + png[20:], probe_image) == "corrupt PNG header: it declares a 0x10 picture"
    )

    webp = mf.image("WEBP", 64, 48)
    assert "no start code" in fails(webp[:23] + b"\x00\x00\x00" + webp[26:], probe_image)
    assert "ends inside its first chunk" in fails(webp[:24], probe_image)

    tiff = b"II*\x00\x08\x00\x00\x00" + bytes(40)
    assert fails(tiff, probe_image) == "not an image: the file starts with a TIFF signature (a TIFF image)"


def test_the_safety_net_turns_parser_bugs_into_media_probe_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(head: bytes) -> tuple[int, int]:
        raise IndexError("boom")

    monkeypatch.setitem(media_probe._HEADER_SIZES, "png", broken)
    message = fails(mf.image("PNG", 10, 10), probe_image)
    assert message == "could not read the image: unexpected structure (IndexError: boom)"


def test_sniff_never_raises() -> None:
    assert sniff("not bytes") == "unknown"  # type: ignore[arg-type]
    assert sniff(bytearray(b"GIF89a")) == "gif"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prefix", "unit", "probe", "message"),
    [
        (
            b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00",
            b"\x00\x00\x00\x08free",
            probe_video,
            "more than 10000 top-level boxes",
        ),
        (
            mf.EBML_WEBM + mf.UNKNOWN_SEGMENT,
            b"\xec\x80",
            probe_video,
            "more than 10000 elements before its Tracks",
        ),
        (b"\xff\xd8", b"\xff\xe0\x00\x02", probe_image, "more than 10000 segments"),
        (b"\xff\xd8", b"\xff", probe_image, "more than 10000 segments"),
        (
            b"\x00\x00\x00\x10ftypheic\x00\x00\x00\x00",
            b"\x00\x00\x00\x08free",
            probe_image,
            "more than 10000 top-level boxes",
        ),
    ],
    ids=["mp4-tiny-boxes", "webm-tiny-voids", "jpeg-tiny-segments", "jpeg-fill-bytes", "heic-tiny-boxes"],
)
def test_gigabytes_of_tiny_structures_stop_early(
    prefix: bytes, unit: bytes, probe: Callable[..., object], message: str
) -> None:
    source = mf.PatternFile(prefix, unit, 4 * 1024 * MiB)
    with pytest.raises(MediaProbeError, match=message):
        probe(source.read_range, source.size)
    assert source.calls <= 3


def test_live_webm_whose_tail_is_full_of_fake_clusters() -> None:
    # Every 21 bytes a Cluster of unknown size with one block: the tail scan must give up within its budget.
    tracks = mf.ebml_element(
        mf.TRACKS_ID, mf.ebml_element(b"\xae", mf.ebml_uint(b"\xd7", 1) + mf.ebml_uint(b"\x83", 1))
    )
    fake = mf.CLUSTER_ID + b"\x01\xff\xff\xff\xff\xff\xff\xff\xe7\x81\x00\xa3\x84\x81\x00\x00\x80"
    source = mf.PatternFile(mf.EBML_WEBM + mf.UNKNOWN_SEGMENT + tracks, fake, 100 * MiB)
    probe = probe_video(source.read_range, source.size)
    assert probe.fps is None
    assert probe.duration_seconds is None
    assert source.calls <= 4

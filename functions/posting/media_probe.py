"""Read what TikTok's media rules need from a video or photo in S3, without downloading the file.

Lambda has no ffmpeg or PyAV, so this module parses the container metadata itself, in pure Python,
through a `read_range(start, end_inclusive)` callable (an S3 ranged GET in production). It reads only
what it needs:

- MP4/MOV (ISO BMFF): the top-level box headers, then the whole `moov` (capped at MAX_MOOV_BYTES),
  so a 4 GB file with `mdat` before `moov` costs two or three small reads. Fragmented files also
  read their first `moof` (frame rate) and, without an `mehd`, the last fragment from the tail
  (duration).
- WebM/Matroska (EBML): the EBML header, the Segment's SeekHead, Info and Tracks. Files written
  live (browser MediaRecorder: no Duration, no DefaultDuration, unknown sizes) additionally read the
  first and the last clusters to estimate the frame rate and the duration.
- Images: the few bytes holding the dimensions (JPEG markers up to the frame header, PNG IHDR, GIF
  screen descriptor, WebP VP8/VP8L/VP8X chunk, HEIC/AVIF `ispe` property, BMP header).

Every walk advances and every probe is limited to MAX_READS calls of `read_range`, so no input can
loop forever or read the whole file. For any content the probes raise only MediaProbeError, whose
message says in plain words what is wrong; exceptions raised by `read_range` itself (an S3 error)
propagate unchanged.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = [
    "MAX_MOOV_BYTES",
    "MAX_READS",
    "SNIFF_BYTES",
    "ImageProbe",
    "MediaProbeError",
    "ReadRange",
    "VideoProbe",
    "probe_image",
    "probe_video",
    "sniff",
]

ReadRange = Callable[[int, int], bytes]
"""read_range(start, end_inclusive) -> bytes; may return fewer bytes only at the end of the file."""

MAX_MOOV_BYTES = 64 * 1024 * 1024
MAX_READS = 64
SNIFF_BYTES = 64
"""sniff() needs at most this many leading bytes (fewer work for most formats)."""

_CHUNK = 64 * 1024  # read-ahead of every ranged read: one S3 round trip costs far more than 64 KiB
_MAX_META_BYTES = 16 * 1024 * 1024  # moof, HEIF meta, WebM Info/Tracks/SeekHead
_CLUSTER_WINDOW = 1024 * 1024  # bytes of the first clusters read to estimate a WebM frame rate
_TAIL_WINDOWS = (1024 * 1024, 8 * 1024 * 1024)  # tail reads looking for the last fragment/cluster
_MAX_TOP_LEVEL = 10_000  # boxes before the moov; real files have a handful
_MAX_LEVEL1 = 10_000  # Segment children before Info and Tracks
_MAX_CLUSTER_CHILDREN = 10_000  # blocks looked at per cluster; a 5 s cluster at 60 fps has ~600
_MAX_JPEG_SEGMENTS = 10_000
_MAX_TAIL_CANDIDATES = 64

_T = TypeVar("_T")


class MediaProbeError(ValueError):
    """The content is not media this module can read, or it is truncated or corrupt."""


@dataclass(frozen=True)
class VideoProbe:
    container: str
    """"mp4" | "mov" | "webm" | "matroska" (an EBML file whose DocType is not webm)."""
    codec: str | None
    """"h264" | "hevc" | "vp8" | "vp9" | "av1" | "mpeg4" | another codec tag lower-cased | None."""
    duration_seconds: float | None
    fps: float | None
    width: int | None
    """Coded width, before rotation."""
    height: int | None
    """Coded height, before rotation."""
    rotation: int = 0
    """Clockwise degrees (0/90/180/270) a player turns the picture, like ffprobe's `rotate` tag."""


@dataclass(frozen=True)
class ImageProbe:
    format: str
    """"jpeg" | "webp" | "png" | "gif" | "heic" | "avif" | "bmp"."""
    width: int
    height: int


def sniff(head: bytes) -> str:
    """The kind of file from its first bytes (SNIFF_BYTES are always enough).

    One of "mp4", "mov", "webm", "matroska", "jpeg", "webp", "png", "gif", "heic", "avif", "bmp",
    "unknown". Never raises.
    """
    try:
        kind = _identify(bytes(head))
    except (TypeError, ValueError, IndexError, struct.error):
        return "unknown"
    return kind if kind in _SNIFF_KINDS else "unknown"


def probe_video(read_range: ReadRange, size: int) -> VideoProbe:
    """Container, codec, duration, frame rate, coded dimensions and rotation of a video of `size` bytes."""
    return _guarded("video", _probe_video, read_range, size)


def probe_image(read_range: ReadRange, size: int) -> ImageProbe:
    """Format and dimensions of an image of `size` bytes."""
    return _guarded("image", _probe_image, read_range, size)


# --------------------------------------------------------------------------------------------------
# Reading


class _SourceFailed(Exception):
    """read_range itself raised: carried through the parser and re-raised unchanged."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class _Reader:
    """Ranged reads with a one-window cache, a read-ahead and a budget of calls."""

    def __init__(self, read_range: ReadRange, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MediaProbeError(f"invalid file size {size!r}")
        if size == 0:
            raise MediaProbeError("the file is empty")
        self._read_range = read_range
        self.size = size
        self.calls = 0
        self.bytes_read = 0
        self._start = 0
        self._data = b""

    def read(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length), cut at the end of the file."""
        end = min(offset + length, self.size)
        if offset < 0 or offset >= end:
            return b""
        cached_end = self._start + len(self._data)
        if self._start <= offset and end <= cached_end:
            return self._data[offset - self._start : end - self._start]
        fetch_end = min(self.size, max(end, offset + _CHUNK))
        if self._start <= offset < cached_end:
            data = self._data[offset - self._start :] + self._fetch(cached_end, fetch_end)
        else:
            data = self._fetch(offset, fetch_end)
        self._start, self._data = offset, data
        return data[: end - offset]

    def exact(self, offset: int, length: int, what: str) -> bytes:
        data = self.read(offset, length)
        if len(data) < length:
            raise MediaProbeError(
                f"the file is truncated: it ends at byte {self.size}, inside {what} at offset {offset}"
            )
        return data

    def _fetch(self, start: int, end: int) -> bytes:
        if self.calls >= MAX_READS:
            raise MediaProbeError(
                f"gave up after {MAX_READS} reads: the file's structure is too fragmented to probe"
            )
        self.calls += 1
        try:
            data = self._read_range(start, end - 1)
        except Exception as exc:
            raise _SourceFailed(exc) from exc
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MediaProbeError(f"read_range returned {type(data).__name__}, not bytes")
        data = bytes(data[: end - start])
        self.bytes_read += len(data)
        if len(data) < end - start:
            raise MediaProbeError(
                f"the file is shorter than its declared size of {self.size} bytes: reading bytes "
                f"{start}-{end - 1} returned only {len(data)}"
            )
        return data


_Probe = Callable[[_Reader], _T]


def _guarded(kind: str, probe: _Probe[_T], read_range: ReadRange, size: int) -> _T:
    try:
        return probe(_Reader(read_range, size))
    except MediaProbeError:
        raise
    except _SourceFailed as failed:
        raise failed.original from None
    except (
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        struct.error,
        zlib.error,
        RecursionError,
    ) as exc:
        # A safety net: the parsers check what they read, so this means a structure they did not expect.
        raise MediaProbeError(
            f"could not read the {kind}: unexpected structure ({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------------------------------
# Identifying the file


_SNIFF_KINDS = frozenset(
    {"mp4", "mov", "webm", "matroska", "jpeg", "webp", "png", "gif", "heic", "avif", "bmp"}
)
_VIDEO_KINDS = frozenset({"mp4", "mov", "webm", "matroska"})
_IMAGE_KINDS = frozenset({"jpeg", "webp", "png", "gif", "heic", "avif", "bmp"})
_OTHER_VIDEO_KINDS = frozenset({"avi", "flv", "mpeg-ts", "mpeg-ps", "ebml"})

# kind -> (signature phrase, what the file is)
_KIND_WORDS = {
    "mp4": ("an MP4", "an MP4 video"),
    "mov": ("a QuickTime", "a QuickTime (MOV) video"),
    "webm": ("a WebM", "a WebM video"),
    "matroska": ("a Matroska", "a Matroska (MKV) video"),
    "jpeg": ("a JPEG", "a JPEG image"),
    "webp": ("a WebP", "a WebP image"),
    "png": ("a PNG", "a PNG image"),
    "gif": ("a GIF", "a GIF image"),
    "heic": ("a HEIC", "a HEIC/HEIF image"),
    "avif": ("an AVIF", "an AVIF image"),
    "bmp": ("a BMP", "a BMP image"),
    "tiff": ("a TIFF", "a TIFF image"),
    "avi": ("an AVI", "an AVI video"),
    "wav": ("a WAV", "a WAV audio file"),
    "mp3": ("an MP3", "an MP3 audio file"),
    "ogg": ("an Ogg", "an Ogg audio/video file"),
    "flv": ("an FLV", "a Flash (FLV) video"),
    "mpeg-ts": ("an MPEG-TS", "an MPEG transport stream"),
    "mpeg-ps": ("an MPEG-PS", "an MPEG program stream"),
    "pdf": ("a PDF", "a PDF document"),
    "zip": ("a ZIP", "a ZIP archive"),
    "gzip": ("a gzip", "a gzip archive"),
    "ebml": ("an EBML", "an EBML file that is neither WebM nor Matroska"),
}

_HEIC_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_QUICKTIME_FIRST_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _identify(head: bytes) -> str:  # noqa: PLR0911 - one signature per branch reads best
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _ftyp_kind(head)
    if (
        len(head) >= 8
        and head[4:8] in _QUICKTIME_FIRST_BOXES
        and struct.unpack_from(">I", head)[0] not in range(2, 8)
    ):
        return "mov"  # an old QuickTime file without ftyp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _ebml_kind(head)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "webp", b"AVI ": "avi", b"WAVE": "wav"}.get(head[8:12], "unknown")
    if head.startswith(b"BM") and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in _BMP_HEADERS:
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    for prefix, kind in _OTHER_SIGNATURES:
        if head.startswith(prefix):
            return kind
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpeg-ts"
    return "text" if _looks_like_text(head) else "unknown"


_OTHER_SIGNATURES = (
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"ID3", "mp3"),
    (b"OggS", "ogg"),
    (b"FLV\x01", "flv"),
    (b"\x00\x00\x01\xba", "mpeg-ps"),
)
_BMP_HEADERS = frozenset({12, 40, 52, 56, 64, 108, 124})


def _ftyp_kind(head: bytes) -> str:
    major = head[8:12]
    if major == b"qt  ":
        return "mov"
    box_size = struct.unpack_from(">I", head)[0]
    end = min(len(head), box_size) if box_size >= 16 else len(head)
    brands = {major} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS or (major in {b"mif1", b"msf1"} and brands & _AVIF_BRANDS):
        return "avif"
    if major in _HEIC_BRANDS:
        return "heic"
    return "mp4"


def _ebml_kind(head: bytes) -> str:
    header = _element_header(head, 0, len(head))
    if header is None or header[2] is None:
        return "matroska"  # the magic number alone: a Matroska-family file whose header we cannot see
    header_len, size = header[1], header[2]
    end = min(len(head), header_len + size)
    for element_id, start, stop in _ebml_children(head, header_len, end):
        if element_id == _DOCTYPE:
            doctype = head[start:stop].rstrip(b"\x00") or b"matroska"
            return {b"webm": "webm", b"matroska": "matroska"}.get(doctype, "ebml")
    return "matroska"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:512]
    if not sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text.lstrip("\ufeff"))


def _wrong_kind(kind: str, wanted: str, head: bytes) -> MediaProbeError:
    if kind == "text":
        excerpt = head[:40].decode("utf-8", "replace").strip().replace("\n", " ")
        return MediaProbeError(f"not {wanted}: the file is text, starting with {excerpt!r}")
    if kind == "unknown":
        return MediaProbeError(
            f"not {wanted}: unrecognised file type (first bytes: {head[:16].hex(' ') or 'none'})"
        )
    signature, described = _KIND_WORDS[kind]
    if wanted == "a video" and kind in _OTHER_VIDEO_KINDS:
        return MediaProbeError(
            f"unsupported video container: the file starts with {signature} signature ({described}); "
            "only MP4, MOV and WebM/Matroska can be probed"
        )
    return MediaProbeError(f"not {wanted}: the file starts with {signature} signature ({described})")


def _probe_video(reader: _Reader) -> VideoProbe:
    head = reader.read(0, _CHUNK)
    kind = _identify(head)
    if kind in ("mp4", "mov"):
        return _probe_iso_video(reader, kind)
    if kind in ("webm", "matroska"):
        return _probe_matroska(reader)
    raise _wrong_kind(kind, "a video", head)


def _probe_image(reader: _Reader) -> ImageProbe:
    head = reader.read(0, _CHUNK)
    kind = _identify(head)
    if kind not in _IMAGE_KINDS:
        raise _wrong_kind(kind, "an image", head)
    if kind == "jpeg":
        width, height = _jpeg_size(reader)
    elif kind in ("heic", "avif"):
        width, height = _heif_size(reader, kind)
    else:
        width, height = _HEADER_SIZES[kind](head)
    if width <= 0 or height <= 0:
        raise MediaProbeError(f"corrupt {kind.upper()} header: it declares a {width}x{height} picture")
    return ImageProbe(format=kind, width=width, height=height)


# --------------------------------------------------------------------------------------------------
# ISO BMFF: MP4 and QuickTime

_BOX = struct.Struct(">I4s")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

_ISO_CODECS = {
    b"avc1": "h264",
    b"avc2": "h264",
    b"avc3": "h264",
    b"avc4": "h264",
    b"dva1": "h264",
    b"dvav": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"dvh1": "hevc",
    b"dvhe": "hevc",
    b"vp08": "vp8",
    b"vp09": "vp9",
    b"av01": "av1",
    b"mp4v": "mpeg4",
}
_ENCRYPTED_ENTRIES = frozenset({b"encv", b"resv"})


def _fourcc(raw: bytes) -> str:
    return raw.decode("latin-1")


def _iter_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]; stops at a malformed box."""
    pos = start
    while pos + 8 <= end:
        size, box_type = _BOX.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size = _U64.unpack_from(data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield box_type, pos + header, pos + size
        pos += size


def _first_box(data: bytes, start: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == wanted:
            return payload, stop
    return None


def _walk_top_level(reader: _Reader, offset: int = 0) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header length, total size) of each top-level box, reading only box headers."""
    for _ in range(_MAX_TOP_LEVEL):
        if offset + 8 > reader.size:
            return  # at most 7 trailing bytes: padding some writers leave
        head = reader.exact(offset, min(16, reader.size - offset), "a box header")
        size, box_type = _BOX.unpack_from(head)
        header = 8
        if size == 1:
            if len(head) < 16:
                raise MediaProbeError(f"the file is truncated inside the header of box {box_type!r}")
            size = _U64.unpack_from(head, 8)[0]
            header = 16
        elif size == 0:
            size = reader.size - offset
        if not all(0x20 <= byte < 0x7F for byte in box_type):
            raise MediaProbeError(
                f"corrupt MP4/MOV structure: expected a box at offset {offset}, found bytes {head[:8].hex(' ')}"
            )
        if size < header:
            raise MediaProbeError(
                f"corrupt MP4/MOV structure: box '{_fourcc(box_type)}' at offset {offset} declares "
                f"an impossible size of {size} bytes"
            )
        yield box_type, offset, header, size
        offset += size
    raise MediaProbeError(f"corrupt MP4/MOV structure: more than {_MAX_TOP_LEVEL} top-level boxes")


@dataclass
class _Track:
    track_id: int = 0
    enabled: bool = True
    handler: bytes = b""
    display_width: float = 0.0
    display_height: float = 0.0
    rotation: int = 0
    timescale: int = 0
    duration: int | None = None
    fourcc: bytes | None = None
    coded_width: int = 0
    coded_height: int = 0
    samples: int = 0
    ticks: int = 0


@dataclass
class _Movie:
    timescale: int = 0
    duration: int | None = None
    fragmented: bool = False
    fragment_duration: int | None = None
    tracks: list[_Track] = field(default_factory=list)
    trex_durations: dict[int, int] = field(default_factory=dict)


def _time_header(data: bytes, start: int, end: int) -> tuple[int, int | None] | None:
    """(timescale, duration or None if unknown) of an mvhd or mdhd payload."""
    if end - start < 20:
        return None
    if data[start] == 1:
        if end - start < 32:
            return None
        timescale = _U32.unpack_from(data, start + 20)[0]
        duration: int | None = _U64.unpack_from(data, start + 24)[0]
        unknown = 0xFFFF_FFFF_FFFF_FFFF
    else:
        timescale, duration = struct.unpack_from(">II", data, start + 12)
        unknown = 0xFFFF_FFFF
    return timescale, None if duration == unknown else duration


def _matrix_rotation(a: int, b: int) -> int:
    """Clockwise rotation of a tkhd matrix whose first row is (a, b) in 16.16 fixed point."""
    if a == 0 and b == 0:
        return 0
    quarter_turns = round(math.degrees(math.atan2(b, a)) / 90)
    return (quarter_turns % 4) * 90


def _parse_tkhd(data: bytes, start: int, end: int, track: _Track) -> None:
    if data[start] == 1:
        id_at, matrix_at, size_at, needed = 20, 52, 88, 96
    else:
        id_at, matrix_at, size_at, needed = 12, 40, 76, 84
    if end - start < needed:
        return
    track.enabled = bool(data[start + 3] & 1)
    track.track_id = _U32.unpack_from(data, start + id_at)[0]
    a, b = struct.unpack_from(">ii", data, start + matrix_at)
    track.rotation = _matrix_rotation(a, b)
    width, height = struct.unpack_from(">II", data, start + size_at)
    track.display_width, track.display_height = width / 65536, height / 65536


def _parse_stsd(data: bytes, start: int, end: int, track: _Track) -> None:
    for fourcc, payload, stop in _iter_boxes(data, start + 8, end):
        track.fourcc = fourcc
        if stop - payload >= 28:
            track.coded_width, track.coded_height = struct.unpack_from(">HH", data, payload + 24)
        if fourcc in _ENCRYPTED_ENTRIES:
            sinf = _first_box(data, payload + 78, stop, b"sinf")
            frma = _first_box(data, *sinf, b"frma") if sinf else None
            if frma and frma[1] - frma[0] >= 4:
                track.fourcc = data[frma[0] : frma[0] + 4]
        return  # the first sample entry describes the track


def _parse_stts(data: bytes, start: int, end: int, track: _Track) -> None:
    if end - start < 8:
        return
    count = min(_U32.unpack_from(data, start + 4)[0], (end - start - 8) // 8)
    samples = ticks = 0
    for sample_count, delta in struct.iter_unpack(">II", data[start + 8 : start + 8 + 8 * count]):
        samples += sample_count
        ticks += sample_count * delta
    track.samples, track.ticks = samples, ticks


def _parse_stbl(data: bytes, start: int, end: int, track: _Track) -> None:
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"stsd":
            _parse_stsd(data, payload, stop, track)
        elif box_type == b"stts":
            _parse_stts(data, payload, stop, track)


def _parse_mdia(data: bytes, start: int, end: int, track: _Track) -> None:
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mdhd":
            header = _time_header(data, payload, stop)
            if header:
                track.timescale, track.duration = header
        elif box_type == b"hdlr" and stop - payload >= 12:
            track.handler = data[payload + 8 : payload + 12]
        elif box_type == b"minf":
            stbl = _first_box(data, payload, stop, b"stbl")
            if stbl:
                _parse_stbl(data, *stbl, track)


def _parse_trak(data: bytes, start: int, end: int) -> _Track:
    track = _Track()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"tkhd":
            _parse_tkhd(data, payload, stop, track)
        elif box_type == b"mdia":
            _parse_mdia(data, payload, stop, track)
    return track


def _parse_mvex(data: bytes, start: int, end: int, movie: _Movie) -> None:
    movie.fragmented = True
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mehd" and stop - payload >= 8:
            if data[payload] == 1 and stop - payload >= 12:
                movie.fragment_duration = _U64.unpack_from(data, payload + 4)[0]
            elif data[payload] != 1:
                movie.fragment_duration = _U32.unpack_from(data, payload + 4)[0]
        elif box_type == b"trex" and stop - payload >= 24:
            track_id, _, default_duration = struct.unpack_from(">III", data, payload + 4)
            movie.trex_durations[track_id] = default_duration


def _parse_moov(data: bytes, start: int, end: int, *, compressed_allowed: bool = True) -> _Movie:
    movie = _Movie()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"mvhd":
            header = _time_header(data, payload, stop)
            if header:
                movie.timescale, movie.duration = header
        elif box_type == b"trak":
            movie.tracks.append(_parse_trak(data, payload, stop))
        elif box_type == b"mvex":
            _parse_mvex(data, payload, stop, movie)
        elif box_type == b"cmov" and compressed_allowed:
            return _parse_cmov(data, payload, stop)
    return movie


def _parse_cmov(data: bytes, start: int, end: int) -> _Movie:
    """QuickTime's zlib-compressed movie header."""
    dcom = _first_box(data, start, end, b"dcom")
    cmvd = _first_box(data, start, end, b"cmvd")
    if dcom is None or cmvd is None or dcom[1] - dcom[0] < 4 or cmvd[1] - cmvd[0] < 4:
        raise MediaProbeError("corrupt MOV: its compressed movie header (cmov) is incomplete")
    method = data[dcom[0] : dcom[0] + 4]
    if method != b"zlib":
        raise MediaProbeError(f"MOV with a movie header compressed by unsupported method {method!r}")
    inflater = zlib.decompressobj()
    try:
        moov = inflater.decompress(data[cmvd[0] + 4 : cmvd[1]], MAX_MOOV_BYTES + 1)
    except zlib.error as exc:
        raise MediaProbeError(f"corrupt MOV: its compressed movie header does not inflate ({exc})") from exc
    if len(moov) > MAX_MOOV_BYTES:
        raise MediaProbeError(f"MOV movie header inflates to more than {MAX_MOOV_BYTES} bytes")
    inner = _first_box(moov, 0, len(moov), b"moov")
    if inner is None:
        raise MediaProbeError("corrupt MOV: its compressed movie header holds no moov box")
    return _parse_moov(moov, *inner, compressed_allowed=False)


@dataclass
class _Fragment:
    base_time: int | None = None
    samples: int = 0
    ticks: int = 0


def _parse_tfhd(data: bytes, start: int, end: int) -> tuple[int, int | None] | None:
    """(track id, default sample duration) of a tfhd."""
    if end - start < 8:
        return None
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    track_id = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
    if flags & 0x8 and pos + 4 <= end:
        return track_id, _U32.unpack_from(data, pos)[0]
    return track_id, None


def _parse_trun(data: bytes, start: int, end: int, default_duration: int | None) -> tuple[int, int]:
    """(samples, total duration) of a trun."""
    if end - start < 8:
        return 0, 0
    flags = _U32.unpack_from(data, start)[0] & 0xFFFFFF
    count = _U32.unpack_from(data, start + 4)[0]
    pos = start + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    record = 4 * bin(flags & 0xF00).count("1")
    if not flags & 0x100:
        return count, count * (default_duration or 0)
    count = min(count, max(0, end - pos) // record)
    ticks = sum(_U32.unpack_from(data, pos + i * record)[0] for i in range(count))
    return count, ticks


def _parse_moof(data: bytes, start: int, end: int, track_id: int, trex_duration: int | None) -> _Fragment:
    fragment = _Fragment()
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type != b"traf":
            continue
        tfhd_box = _first_box(data, payload, stop, b"tfhd")
        tfhd = _parse_tfhd(data, *tfhd_box) if tfhd_box else None
        if tfhd is None or tfhd[0] != track_id:
            continue
        default_duration = tfhd[1] if tfhd[1] is not None else trex_duration
        for child, child_start, child_stop in _iter_boxes(data, payload, stop):
            if child == b"tfdt" and child_stop - child_start >= 8:
                if data[child_start] == 1 and child_stop - child_start >= 12:
                    fragment.base_time = _U64.unpack_from(data, child_start + 4)[0]
                elif data[child_start] != 1:
                    fragment.base_time = _U32.unpack_from(data, child_start + 4)[0]
            elif child == b"trun":
                samples, ticks = _parse_trun(data, child_start, child_stop, default_duration)
                fragment.samples += samples
                fragment.ticks += ticks
    return fragment


def _video_track(movie: _Movie) -> _Track:
    videos = [track for track in movie.tracks if track.handler == b"vide"]
    if not videos:
        handlers = ", ".join(sorted({_fourcc(t.handler) for t in movie.tracks if t.handler})) or "none"
        raise MediaProbeError(f"the file has no video track (track types: {handlers})")
    enabled = [track for track in videos if track.enabled]
    return (enabled or videos)[0]


def _iso_codec(fourcc: bytes | None) -> str | None:
    if fourcc is None:
        return None
    return _ISO_CODECS.get(fourcc) or (_fourcc(fourcc).strip(" \x00").lower() or None)


def _ratio(count: int, ticks: int, timescale: int) -> float | None:
    if count <= 0 or ticks <= 0 or timescale <= 0:
        return None
    return round(count * timescale / ticks, 3)


def _read_moov(reader: _Reader) -> tuple[_Movie, int]:
    """The parsed moov and the offset just after it."""
    for box_type, offset, header, size in _walk_top_level(reader):
        if box_type != b"moov":
            continue
        if size > MAX_MOOV_BYTES:
            raise MediaProbeError(
                f"the MP4/MOV movie header (moov) is {size} bytes, more than the {MAX_MOOV_BYTES} this "
                "probe reads"
            )
        if offset + size > reader.size:
            raise MediaProbeError(
                f"the file is truncated: its movie header (moov, {size} bytes at offset {offset}) runs "
                f"past the end of the file at {reader.size} bytes"
            )
        data = reader.read(offset, size)
        return _parse_moov(data, header, size), offset + size
    raise MediaProbeError(
        "MP4/MOV without a moov box (movie header): the recording was not finished or the file is incomplete"
    )


def _probe_iso_video(reader: _Reader, container: str) -> VideoProbe:
    movie, after_moov = _read_moov(reader)
    track = _video_track(movie)
    duration: float | None = None
    fps = _ratio(track.samples, track.ticks, track.timescale)
    if movie.fragmented:
        if movie.fragment_duration and movie.timescale:
            duration = movie.fragment_duration / movie.timescale
        trex = movie.trex_durations.get(track.track_id)
        first = _first_fragment(reader, after_moov, track.track_id, trex)
        if fps is None and first is not None:
            fps = _ratio(first.samples, first.ticks, track.timescale)
        if duration is None and track.timescale:
            end = _last_fragment_end(reader, track.track_id, trex)
            start = first.base_time if first is not None and first.base_time is not None else 0
            if end is not None and end > start:
                duration = (end - start) / track.timescale
    elif movie.duration and movie.timescale:
        duration = movie.duration / movie.timescale
    elif track.duration and track.timescale:
        duration = track.duration / track.timescale
    width = track.coded_width or round(track.display_width) or None
    height = track.coded_height or round(track.display_height) or None
    return VideoProbe(
        container=container,
        codec=_iso_codec(track.fourcc),
        duration_seconds=duration,
        fps=fps,
        width=width,
        height=height,
        rotation=track.rotation,
    )


def _first_fragment(reader: _Reader, offset: int, track_id: int, trex: int | None) -> _Fragment | None:
    """The video samples of the first movie fragment after the moov, if one can be read."""
    try:
        for box_type, start, header, size in _walk_top_level(reader, offset):
            if box_type == b"moof":
                data = reader.read(start, min(size, _MAX_META_BYTES))
                return _parse_moof(data, header, len(data), track_id, trex)
    except MediaProbeError:
        return None  # junk after the movie header: the frame rate stays unknown
    return None


def _last_fragment_end(reader: _Reader, track_id: int, trex: int | None) -> int | None:
    """Media time at which the last fragment ends, from a moof found in the tail of the file."""
    for window in _TAIL_WINDOWS:
        start = max(0, reader.size - window)
        try:
            data = reader.read(start, reader.size - start)
        except MediaProbeError:
            return None
        found = data.rfind(b"moof")
        work = 2 * len(data)  # candidates may nest: bound the bytes parsed, not just their number
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 4 or work <= 0:
                break
            box = found - 4
            size = _U32.unpack_from(data, box)[0]
            after = box + size
            followed_by_mdat = after + 8 > len(data) or data[after + 4 : after + 8] == b"mdat"
            if size >= 16 and after <= len(data) and followed_by_mdat:
                work -= size
                fragment = _parse_moof(data, box + 8, after, track_id, trex)
                if fragment.base_time is not None and fragment.samples:
                    return fragment.base_time + fragment.ticks
            found = data.rfind(b"moof", 0, found)
        if start == 0:
            break
    return None


# --------------------------------------------------------------------------------------------------
# EBML: WebM and Matroska

_EBML = 0x1A45DFA3
_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_SEEKHEAD = 0x114D9B74
_SEEK = 0x4DBB
_SEEK_ID = 0x53AB
_SEEK_POSITION = 0x53AC
_INFO = 0x1549A966
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_TRACK_TYPE = 0x83
_CODEC_ID = 0x86
_DEFAULT_DURATION = 0x23E383
_VIDEO = 0xE0
_PIXEL_WIDTH = 0xB0
_PIXEL_HEIGHT = 0xBA
_PROJECTION = 0x7670
_POSE_ROLL = 0x7675
_CLUSTER = 0x1F43B675
_CLUSTER_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_CLUSTER_CHILDREN = frozenset({0xE7, 0x5854, 0xA7, 0xAB, 0xA3, 0xA0, 0xAF, 0xEC, 0xBF})
_CLUSTER_ID_BYTES = b"\x1f\x43\xb6\x75"

_MATROSKA_CODECS = {
    "V_VP8": "vp8",
    "V_VP9": "vp9",
    "V_AV1": "av1",
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "hevc",
    "V_MPEG4/ISO/SP": "mpeg4",
    "V_MPEG4/ISO/ASP": "mpeg4",
    "V_MPEG4/ISO/AP": "mpeg4",
}


def _vint(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
    """(raw value with its length marker, value without it, length) of an EBML variable-size integer."""
    if pos >= end or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > end:
        return None
    raw = int.from_bytes(data[pos : pos + length], "big")
    return raw, raw & ((1 << (7 * length)) - 1), length


def _element_header(data: bytes, pos: int, end: int) -> tuple[int, int, int | None] | None:
    """(id, header length, payload size or None when unknown) of the element at pos."""
    element = _vint(data, pos, end)
    if element is None or element[2] > 4:
        return None
    size = _vint(data, pos + element[2], end)
    if size is None:
        return None
    _, value, length = size
    unknown = value == (1 << (7 * length)) - 1
    return element[0], element[2] + length, None if unknown else value


def _ebml_children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, payload start, payload end) of each element in data[start:end]; stops at a malformed one."""
    pos = start
    while pos < end:
        header = _element_header(data, pos, end)
        if header is None:
            return
        element_id, header_len, size = header
        payload = pos + header_len
        stop = end if size is None else payload + size
        if stop > end:
            return
        yield element_id, payload, stop
        pos = stop


def _ebml_uint(data: bytes, start: int, stop: int) -> int | None:
    return int.from_bytes(data[start:stop], "big") if 0 < stop - start <= 8 else None


def _ebml_float(data: bytes, start: int, stop: int) -> float | None:
    if stop - start == 4:
        value: float = struct.unpack_from(">f", data, start)[0]
    elif stop - start == 8:
        value = struct.unpack_from(">d", data, start)[0]
    else:
        return None
    return value if math.isfinite(value) else None


@dataclass
class _MkvTrack:
    number: int = 0
    codec_id: str = ""
    default_duration: int | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0


@dataclass
class _Matroska:
    segment_start: int = 0
    timecode_scale: int = 1_000_000
    duration: float | None = None
    info_found: bool = False
    tracks_found: bool = False
    video: _MkvTrack | None = None
    seek: dict[int, int] = field(default_factory=dict)
    first_cluster: int | None = None


def _header_at(reader: _Reader, pos: int, end: int) -> tuple[int, int, int | None] | None:
    head = reader.read(pos, min(12, end - pos))
    return _element_header(head, 0, len(head))


def _doctype(reader: _Reader) -> str:
    head = reader.read(0, _CHUNK)
    header = _element_header(head, 0, len(head))
    if header is None or header[0] != _EBML or header[2] is None or header[1] + header[2] > len(head):
        raise MediaProbeError("corrupt WebM/Matroska: its EBML header is unreadable")
    for element_id, start, stop in _ebml_children(head, header[1], header[1] + header[2]):
        if element_id == _DOCTYPE:
            return head[start:stop].rstrip(b"\x00").decode("latin-1") or "matroska"
    return "matroska"  # the default DocType


def _probe_matroska(reader: _Reader) -> VideoProbe:
    doctype = _doctype(reader)
    mkv = _Matroska()
    segment_end = _find_segment(reader, mkv)
    _walk_segment(reader, mkv, segment_end)
    if not mkv.tracks_found:
        label = "WebM" if doctype == "webm" else "Matroska"
        raise MediaProbeError(f"{label} file without a Tracks element: the file is incomplete or corrupt")
    video = mkv.video
    if video is None:
        raise MediaProbeError("the file has no video track")
    seconds_per_tick = mkv.timecode_scale / 1e9
    duration = mkv.duration * seconds_per_tick if mkv.duration and mkv.duration > 0 else None
    fps = round(1e9 / video.default_duration, 3) if video.default_duration else None
    if mkv.first_cluster is not None and (fps is None or duration is None):
        first_times = _cluster_times(reader.read(mkv.first_cluster, _CLUSTER_WINDOW), 0, video.number)
        if fps is None and len(first_times) >= 2 and first_times[-1] > first_times[0]:
            span = (first_times[-1] - first_times[0]) * seconds_per_tick
            fps = round((len(first_times) - 1) / span, 3)
        if duration is None:
            last = _last_cluster_time(reader, mkv.first_cluster, video.number)
            start = first_times[0] if first_times else 0
            if last is not None and last >= start:
                frame = 1 / fps if fps else 0.0
                duration = ((last - start) * seconds_per_tick + frame) or None
    return VideoProbe(
        container="webm" if doctype == "webm" else "matroska",
        codec=_MATROSKA_CODECS.get(video.codec_id, video.codec_id.lower() or None),
        duration_seconds=duration,
        fps=fps,
        width=video.width,
        height=video.height,
        rotation=video.rotation,
    )


def _find_segment(reader: _Reader, mkv: _Matroska) -> int:
    """Position the Segment's payload in mkv; returns where the Segment ends."""
    pos = 0
    for _ in range(16):
        header = _header_at(reader, pos, reader.size)
        if header is None:
            break
        element_id, header_len, size = header
        if element_id == _SEGMENT:
            mkv.segment_start = pos + header_len
            return reader.size if size is None else min(reader.size, pos + header_len + size)
        if size is None:
            break
        pos += header_len + size
    raise MediaProbeError("corrupt WebM/Matroska: no Segment element after the EBML header")


def _walk_segment(reader: _Reader, mkv: _Matroska, end: int) -> None:
    """Read SeekHead, Info and Tracks, skipping everything else by its size."""
    pos = mkv.segment_start
    for _ in range(_MAX_LEVEL1):
        if pos >= end:
            return
        header = _header_at(reader, pos, end)
        if header is None:
            return
        element_id, header_len, size = header
        if element_id == _CLUSTER:
            if mkv.first_cluster is None:
                mkv.first_cluster = pos
            if not (mkv.info_found and mkv.tracks_found) and _follow_seekhead(reader, mkv, end):
                return
        elif element_id in (_INFO, _TRACKS, _SEEKHEAD) and size is not None:
            _read_level1(reader, mkv, element_id, pos + header_len, size)
        if (
            mkv.info_found
            and mkv.tracks_found
            and (mkv.first_cluster is not None or not _needs_clusters(mkv))
        ):
            return
        if size is None:
            return  # an element of unknown size: nothing after it can be located
        pos += header_len + size
    raise MediaProbeError(f"corrupt WebM/Matroska: more than {_MAX_LEVEL1} elements before its Tracks")


def _needs_clusters(mkv: _Matroska) -> bool:
    return mkv.video is not None and (mkv.video.default_duration is None or not mkv.duration)


def _read_level1(reader: _Reader, mkv: _Matroska, element_id: int, start: int, size: int) -> None:
    if size > _MAX_META_BYTES:
        raise MediaProbeError(f"WebM/Matroska element 0x{element_id:X} is {size} bytes, too large to read")
    data = reader.exact(start, size, f"WebM/Matroska element 0x{element_id:X}")
    if element_id == _INFO:
        mkv.info_found = True
        _parse_info(data, mkv)
    elif element_id == _TRACKS:
        mkv.tracks_found = True
        mkv.video = _parse_tracks(data)
    else:
        _parse_seekhead(data, mkv)


def _follow_seekhead(reader: _Reader, mkv: _Matroska, end: int) -> bool:
    """Read missing Info/Tracks where the SeekHead says they are; True when both are then known."""
    for element_id in (_INFO, _TRACKS):
        found = mkv.info_found if element_id == _INFO else mkv.tracks_found
        target = mkv.seek.get(element_id)
        if found or target is None:
            continue
        pos = mkv.segment_start + target
        header = _header_at(reader, pos, end)
        if header is None or header[0] != element_id or header[2] is None:
            return False
        _read_level1(reader, mkv, element_id, pos + header[1], header[2])
    return mkv.info_found and mkv.tracks_found


def _parse_seekhead(data: bytes, mkv: _Matroska) -> None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id != _SEEK:
            continue
        target_id = target_pos = None
        for child, child_start, child_stop in _ebml_children(data, start, stop):
            if child == _SEEK_ID:
                target_id = _ebml_uint(data, child_start, child_stop)
            elif child == _SEEK_POSITION:
                target_pos = _ebml_uint(data, child_start, child_stop)
        if target_id is not None and target_pos is not None:
            mkv.seek.setdefault(target_id, target_pos)


def _parse_info(data: bytes, mkv: _Matroska) -> None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id == _TIMECODE_SCALE:
            scale = _ebml_uint(data, start, stop)
            if scale:
                mkv.timecode_scale = scale
        elif element_id == _DURATION:
            mkv.duration = _ebml_float(data, start, stop)


def _parse_tracks(data: bytes) -> _MkvTrack | None:
    for element_id, start, stop in _ebml_children(data, 0, len(data)):
        if element_id == _TRACK_ENTRY:
            track = _parse_track_entry(data, start, stop)
            if track is not None:
                return track
    return None


def _parse_track_entry(data: bytes, start: int, stop: int) -> _MkvTrack | None:
    track = _MkvTrack()
    kind = None
    for element_id, child_start, child_stop in _ebml_children(data, start, stop):
        if element_id == _TRACK_NUMBER:
            track.number = _ebml_uint(data, child_start, child_stop) or 0
        elif element_id == _TRACK_TYPE:
            kind = _ebml_uint(data, child_start, child_stop)
        elif element_id == _CODEC_ID:
            track.codec_id = data[child_start:child_stop].rstrip(b"\x00").decode("latin-1")
        elif element_id == _DEFAULT_DURATION:
            track.default_duration = _ebml_uint(data, child_start, child_stop) or None
        elif element_id == _VIDEO:
            _parse_video_settings(data, child_start, child_stop, track)
    return track if kind == 1 else None


def _parse_video_settings(data: bytes, start: int, stop: int, track: _MkvTrack) -> None:
    for element_id, child_start, child_stop in _ebml_children(data, start, stop):
        if element_id == _PIXEL_WIDTH:
            track.width = _ebml_uint(data, child_start, child_stop)
        elif element_id == _PIXEL_HEIGHT:
            track.height = _ebml_uint(data, child_start, child_stop)
        elif element_id == _PROJECTION:
            for child, roll_start, roll_stop in _ebml_children(data, child_start, child_stop):
                roll = _ebml_float(data, roll_start, roll_stop) if child == _POSE_ROLL else None
                if roll is not None:
                    # ProjectionPoseRoll turns counter-clockwise; VideoProbe.rotation is clockwise.
                    track.rotation = (-round(roll / 90) % 4) * 90


def _block_time(data: bytes, start: int, end: int, track: int) -> int | None:
    """Relative timecode of a (Simple)Block of the given track."""
    number = _vint(data, start, end)
    if number is None or number[1] != track or start + number[2] + 2 > end:
        return None
    relative: int = struct.unpack_from(">h", data, start + number[2])[0]
    return relative


def _cluster_block_times(
    data: bytes, start: int, end: int, track: int, times: list[int], *, strict: bool
) -> tuple[int, bool]:
    """Add the track's block times of one cluster's payload; (where the cluster ended, valid)."""
    base: int | None = None
    pos = start
    for _ in range(_MAX_CLUSTER_CHILDREN):
        if pos >= end:
            break
        header = _element_header(data, pos, len(data))
        if header is None:  # garbage, or the end of a file cut inside an element header
            return pos, not strict or len(data) - pos < 12
        element_id, header_len, size = header
        if element_id not in _CLUSTER_CHILDREN:
            return pos, not strict or pos > start
        payload = pos + header_len
        stop = len(data) if size is None else payload + size
        if element_id == _CLUSTER_TIMECODE:
            base = _ebml_uint(data, payload, min(stop, len(data)))
        elif element_id in (_SIMPLE_BLOCK, _BLOCK_GROUP):
            block = payload
            if element_id == _BLOCK_GROUP:
                inner = _element_header(data, payload, len(data))
                block = payload + inner[1] if inner and inner[0] == _BLOCK else len(data)
            relative = _block_time(data, block, min(stop, len(data)), track)
            if relative is not None and base is not None:
                times.append(base + relative)
            elif strict and base is None:
                return pos, False
        pos = stop
    else:
        return pos, not strict
    return min(pos, end), True


def _cluster_times(data: bytes, start: int, track: int) -> list[int]:
    """Sorted times of the track's blocks in the clusters that begin in data[start:]."""
    times: list[int] = []
    pos = start
    while pos < len(data):
        header = _element_header(data, pos, len(data))
        if header is None:
            break
        element_id, header_len, size = header
        if element_id == _CLUSTER:
            end = len(data) if size is None else min(len(data), pos + header_len + size)
            children_end, _ = _cluster_block_times(data, pos + header_len, end, track, times, strict=False)
            pos = children_end if size is None else pos + header_len + size
        elif size is None:
            break
        else:
            pos += header_len + size
    return sorted(set(times))


def _last_cluster_time(reader: _Reader, first_cluster: int, track: int) -> int | None:
    """Time of the last video block, from a cluster found in the tail of the file."""
    for window in _TAIL_WINDOWS:
        start = max(first_cluster, reader.size - window)
        try:
            data = reader.read(start, reader.size - start)
        except MediaProbeError:
            return None
        found = data.rfind(_CLUSTER_ID_BYTES)
        work = 2 * len(data)  # candidates may nest: bound the bytes parsed, not just their number
        for _ in range(_MAX_TAIL_CANDIDATES):
            if found < 0 or work <= 0:
                break
            header = _element_header(data, found, len(data))
            if header is not None and header[0] == _CLUSTER:
                _, header_len, size = header
                end = len(data) if size is None else min(len(data), found + header_len + size)
                times: list[int] = []
                stop, valid = _cluster_block_times(data, found + header_len, end, track, times, strict=True)
                work -= stop - found
                if valid and times:
                    return max(times)
            found = data.rfind(_CLUSTER_ID_BYTES, 0, found)
        if start == first_cluster:
            break
    return None


# --------------------------------------------------------------------------------------------------
# Images


def _jpeg_size(reader: _Reader) -> tuple[int, int]:
    pos = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        marker = reader.read(pos, 2)
        if len(marker) < 2:
            raise MediaProbeError("truncated JPEG: the file ends before its frame header (SOF)")
        if marker[0] != 0xFF:
            raise MediaProbeError(
                f"corrupt JPEG: expected a marker at offset {pos}, found byte 0x{marker[0]:02X}"
            )
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code == 0x01 or 0xD0 <= code <= 0xD8:  # markers without a length
            pos += 2
            continue
        if code in (0xD9, 0xDA):
            raise MediaProbeError("corrupt JPEG: the image data starts before any frame header (SOF)")
        length = _U16.unpack(reader.exact(pos + 2, 2, "a JPEG segment length"))[0]
        if length < 2:
            raise MediaProbeError(f"corrupt JPEG: segment at offset {pos} declares a length of {length}")
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            frame = reader.exact(pos + 4, 5, "the JPEG frame header")
            height, width = struct.unpack_from(">HH", frame, 1)
            if height == 0:
                raise MediaProbeError("JPEG whose height is defined later by a DNL marker: not supported")
            return width, height
        pos += 2 + length
    raise MediaProbeError(f"corrupt JPEG: more than {_MAX_JPEG_SEGMENTS} segments before its frame header")


def _png_size(head: bytes) -> tuple[int, int]:
    if len(head) < 24 or head[12:16] != b"IHDR":
        raise MediaProbeError("corrupt PNG: the IHDR header chunk does not follow the signature")
    width, height = struct.unpack_from(">II", head, 16)
    return width, height


def _gif_size(head: bytes) -> tuple[int, int]:
    if len(head) < 10:
        raise MediaProbeError("truncated GIF: the file ends inside its logical screen descriptor")
    width, height = struct.unpack_from("<HH", head, 6)
    return width, height


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        if head[23:26] != b"\x9d\x01\x2a":
            raise MediaProbeError("corrupt WebP: the VP8 frame has no start code")
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        if head[20] != 0x2F:
            raise MediaProbeError("corrupt WebP: the lossless (VP8L) bitstream has no signature")
        bits = struct.unpack_from("<I", head, 21)[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk in (b"VP8 ", b"VP8L", b"VP8X"):
        raise MediaProbeError("truncated WebP: the file ends inside its first chunk")
    raise MediaProbeError(f"corrupt WebP: unexpected first chunk {chunk!r} (expected VP8, VP8L or VP8X)")


def _bmp_size(head: bytes) -> tuple[int, int]:
    if struct.unpack_from("<I", head, 14)[0] == 12 and len(head) >= 22:
        width, height = struct.unpack_from("<HH", head, 18)
        return width, height
    if len(head) < 26:
        raise MediaProbeError("truncated BMP: the file ends inside its header")
    width, height = struct.unpack_from("<ii", head, 18)
    return width, abs(height)


_HEADER_SIZES: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "png": _png_size,
    "gif": _gif_size,
    "webp": _webp_size,
    "bmp": _bmp_size,
}


def _heif_size(reader: _Reader, kind: str) -> tuple[int, int]:
    """Dimensions of the primary item of a HEIF (HEIC or AVIF) image, from its ispe property."""
    name = kind.upper()
    for box_type, offset, header, size in _walk_top_level(reader):
        if box_type != b"meta":
            continue
        if size > _MAX_META_BYTES:
            raise MediaProbeError(f"{name} metadata box is {size} bytes, too large to read")
        data = reader.exact(offset, size, f"the {name} metadata box")
        found = _heif_primary_size(data, header + 4, size)
        if found is None:
            raise MediaProbeError(f"{name} image without a readable size (ispe) property")
        return found
    raise MediaProbeError(f"{name} image without a metadata (meta) box")


def _heif_primary_size(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    primary: int | None = None
    properties: list[tuple[int, int] | None] = []
    associations: dict[int, list[int]] = {}
    for box_type, payload, stop in _iter_boxes(data, start, end):
        if box_type == b"pitm" and stop - payload >= 6:
            primary = _U16.unpack_from(data, payload + 4)[0]
            if data[payload] != 0 and stop - payload >= 8:
                primary = _U32.unpack_from(data, payload + 4)[0]
        elif box_type == b"iprp":
            for child, child_start, child_stop in _iter_boxes(data, payload, stop):
                if child == b"ipco":
                    properties = [_ispe(data, *box) for box in _iter_boxes(data, child_start, child_stop)]
                elif child == b"ipma":
                    associations.update(_parse_ipma(data, child_start, child_stop))
    sizes = [size for size in properties if size is not None]
    if not sizes:
        return None
    for index in associations.get(primary, []) if primary is not None else []:
        if 0 < index <= len(properties) and properties[index - 1] is not None:
            return properties[index - 1]
    return max(sizes, key=lambda wh: wh[0] * wh[1])


def _ispe(data: bytes, box_type: bytes, start: int, end: int) -> tuple[int, int] | None:
    if box_type != b"ispe" or end - start < 12:
        return None
    width, height = struct.unpack_from(">II", data, start + 4)
    return width, height


def _parse_ipma(data: bytes, start: int, end: int) -> dict[int, list[int]]:
    if end - start < 8:
        return {}
    version, flags = data[start], _U32.unpack_from(data, start)[0] & 0xFFFFFF
    count = _U32.unpack_from(data, start + 4)[0]
    id_size, index_size = (2 if version < 1 else 4), (2 if flags & 1 else 1)
    pos = start + 8
    result: dict[int, list[int]] = {}
    for _ in range(count):
        if pos + id_size + 1 > end:
            break
        item = int.from_bytes(data[pos : pos + id_size], "big")
        n = data[pos + id_size]
        pos += id_size + 1
        if pos + n * index_size > end:
            break
        mask = 0x7FFF if index_size == 2 else 0x7F
        result[item] = [
            int.from_bytes(data[pos + i * index_size : pos + (i + 1) * index_size], "big") & mask
            for i in range(n)
        ]
        pos += n * index_size
    return result

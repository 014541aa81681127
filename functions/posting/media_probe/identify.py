"""Identifying the file from its first bytes, and the plain-words error for a file of the wrong kind."""

from __future__ import annotations

import struct

from functions.posting.media_probe.ebml import _DOCTYPE, _ebml_children, _element_header
from functions.posting.media_probe.results import MediaProbeError


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


def file_kind(head: bytes) -> str:
    """Like sniff, but also naming the files the probes do not parse ("avi", "flv", "mpeg-ts", "mpeg-ps",
    "ogg", "tiff", "pdf", ...); "text" or "unknown" when it cannot tell. Never raises."""
    try:
        return _identify(bytes(head))
    except (TypeError, ValueError, IndexError, struct.error):
        return "unknown"


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

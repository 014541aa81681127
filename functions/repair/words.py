"""The names a person knows for codecs, containers and formats, as the change sentences use them."""

from __future__ import annotations

from fractions import Fraction

_VIDEO_CODECS = {
    "h264": "H.264",
    "hevc": "H.265",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "mjpeg": "Motion JPEG",
    "prores": "ProRes",
    "dnxhd": "DNxHD",
    "theora": "Theora",
    "wmv3": "WMV",
}
# The probe reports a codec it does not name by its sample entry: ProRes has one per flavour.
_PRORES_TAGS = frozenset({"apch", "apcn", "apcs", "apco", "ap4h", "ap4x", "aprn", "aprh"})
_AUDIO_CODECS = {
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "alac": "ALAC",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "dts": "DTS",
    "amr_nb": "AMR",
    "amr_wb": "AMR-WB",
}
_CONTAINERS = {
    "mp4": "MP4",
    "mov": "MOV",
    "webm": "WebM",
    "matroska": "Matroska (MKV)",
    "avi": "AVI",
    "flv": "FLV",
    "mpegts": "MPEG-TS",
    "mpeg": "MPEG-PS",
    "asf": "WMV/ASF",
    "ogg": "Ogg",
}
_PHOTO_FORMATS = {"jpeg": "JPEG", "webp": "WebP", "heic": "HEIC", "avif": "AVIF"}


def video_codec_name(codec: str | None) -> str:
    if codec is None:
        return "an unknown codec"
    if codec in _PRORES_TAGS:
        return "ProRes"
    return _VIDEO_CODECS.get(codec, codec.upper())


def audio_codec_name(codec: str) -> str:
    if codec.startswith("pcm_"):
        return "PCM"
    return _AUDIO_CODECS.get(codec, codec.upper())


def container_name(container: str) -> str:
    return _CONTAINERS.get(container, container.upper())


def photo_format_name(image_format: str) -> str:
    return _PHOTO_FORMATS.get(image_format, image_format.upper())


def fps_words(fps: float | Fraction) -> str:
    """120 -> "120", 60000/1001 -> "59.94"."""
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


def megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"

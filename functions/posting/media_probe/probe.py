"""The entry points: identify the file, then hand it to the parser for its container or format."""

from __future__ import annotations

from functions.posting.media_probe.identify import _IMAGE_KINDS, _identify, _wrong_kind
from functions.posting.media_probe.images import _HEADER_SIZES, _heif_size, _jpeg_size
from functions.posting.media_probe.limits import _CHUNK
from functions.posting.media_probe.matroska import _probe_matroska
from functions.posting.media_probe.mp4 import _probe_iso_video
from functions.posting.media_probe.reader import ReadRange, _guarded, _Reader
from functions.posting.media_probe.results import ImageProbe, MediaProbeError, VideoProbe


def probe_video(read_range: ReadRange, size: int) -> VideoProbe:
    """Container, codec, duration, frame rate, coded dimensions and rotation of a video of `size` bytes."""
    return _guarded("video", _probe_video, read_range, size)


def probe_image(read_range: ReadRange, size: int) -> ImageProbe:
    """Format and dimensions of an image of `size` bytes."""
    return _guarded("image", _probe_image, read_range, size)


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

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

The package holds one part each: limits.py (every bound), results.py (VideoProbe, ImageProbe,
MediaProbeError), reader.py (the bounded ranged reader), identify.py (sniff and the wrong-kind errors),
probe.py (probe_video, probe_image), bmff.py, mp4.py and fragmented.py (MP4/MOV), ebml.py,
matroska.py and clusters.py (WebM/Matroska), images.py.
"""

from __future__ import annotations

from functions.posting.media_probe.identify import sniff
from functions.posting.media_probe.images import _HEADER_SIZES as _HEADER_SIZES  # the tests patch it
from functions.posting.media_probe.limits import MAX_MOOV_BYTES, MAX_READS, SNIFF_BYTES
from functions.posting.media_probe.probe import probe_image, probe_video
from functions.posting.media_probe.reader import ReadRange
from functions.posting.media_probe.results import ImageProbe, MediaProbeError, VideoProbe

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

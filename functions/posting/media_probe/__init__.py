"""Read what TikTok's media rules need from a video or photo in S3, without downloading the file.

Lambda has no ffmpeg or PyAV, so this module parses the container metadata itself, in pure Python,
through a `read_range(start, end_inclusive)` callable (an S3 ranged GET in production). It reads only
what it needs, and it determines the duration and the frame rate whenever the file allows it: the
caller refuses a video whose duration or frame rate is unknown (None).

- MP4/MOV (ISO BMFF): the top-level box headers, then the whole `moov` (capped at MAX_MOOV_BYTES),
  so a 4 GB file with `mdat` before `moov` costs two or three small reads.
- Fragmented MP4/MOV (a `moov` with `mvex`, then `moof`/`mdat` pairs, as screen recorders, browsers
  and live encoders write): the frame rate comes from video samples only (fragments holding only
  audio are skipped) measured on the decode times of the first and the last video fragments, leaving
  out the first sample whose duration writers often stretch. The duration counts the samples already
  in the `moov` plus every fragment: from the `mehd`, else a `sidx` indexing the whole file, else
  the end of the last video fragment. That one is found in the tail of the file, else through the
  `mfra` (the last key-frame fragment it lists, then box headers to the end), else by walking box
  headers from the first fragment, within a budget of reads; if none works the duration stays None.
- Truncated files are refused (MediaProbeError "the file is truncated: ..."): sample tables
  (`stco`/`co64` with `stsc`/`stsz`), a `sidx`, a fragment's `trun` or any box met on the way that
  points or runs past the end of the object, a WebM Segment or last cluster that runs past it.
- WebM/Matroska (EBML): the EBML header, the Segment's SeekHead, Info and Tracks. Files written
  live (browser MediaRecorder: no Duration, no DefaultDuration, unknown sizes) additionally read the
  first clusters and the last one, found in the tail of the file (widening up to 64 MiB for a long
  last cluster), to measure the frame rate and the duration.
- Images: the few bytes holding the dimensions (JPEG markers up to the frame header, PNG IHDR, GIF
  screen descriptor, WebP VP8/VP8L/VP8X chunk, HEIC/AVIF `ispe` property, BMP header).

Every walk advances and every probe is limited to MAX_READS calls of `read_range` and MAX_BYTES read
in all, so no input can loop forever or read the whole file. For any content the probes raise only
MediaProbeError, whose message says in plain words what is wrong; exceptions raised by `read_range`
itself (an S3 error) propagate unchanged.

The package holds one part each: limits.py (every bound), results.py (VideoProbe, ImageProbe,
MediaProbeError), reader.py (the bounded ranged reader and its tail windows), identify.py (sniff and
the wrong-kind errors), probe.py (probe_video, probe_image), truncation.py (the truncated-file error
and the sample-table check); bmff.py and mp4.py (MP4/MOV); fragmented.py (one moof),
fragment_index.py (sidx, mfra), fragment_search.py (walking and tail-scanning fragments) and
fragment_timing.py (duration and frame rate of a fragmented movie); ebml.py, matroska.py and
clusters.py (WebM/Matroska); images.py.
"""

from __future__ import annotations

from functions.posting.media_probe.identify import sniff
from functions.posting.media_probe.images import _HEADER_SIZES as _HEADER_SIZES  # the tests patch it
from functions.posting.media_probe.limits import MAX_BYTES, MAX_MOOV_BYTES, MAX_READS, SNIFF_BYTES
from functions.posting.media_probe.probe import probe_image, probe_video
from functions.posting.media_probe.reader import ReadRange
from functions.posting.media_probe.results import ImageProbe, MediaProbeError, VideoProbe

__all__ = [
    "MAX_BYTES",
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

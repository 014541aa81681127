"""The bounds on every probe: how many reads it makes, how much each read and each structure may
cost, and how far each walk goes."""

from __future__ import annotations

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

"""The bounds on every probe: how many reads it makes, how much each read and each structure may
cost, and how far each walk goes."""

from __future__ import annotations

MAX_MOOV_BYTES = 64 * 1024 * 1024
MAX_READS = 64
MAX_BYTES = 192 * 1024 * 1024
"""No probe reads more than this in total (a moov, a tail window and some fragments fit)."""
SNIFF_BYTES = 64
"""sniff() needs at most this many leading bytes (fewer work for most formats)."""

_CHUNK = 64 * 1024  # read-ahead of every ranged read: one S3 round trip costs far more than 64 KiB
_MAX_META_BYTES = 16 * 1024 * 1024  # moof, sidx, mfra, HEIF meta, WebM Info/Tracks/SeekHead
_CLUSTER_WINDOW = 1024 * 1024  # bytes of the first clusters read to estimate a WebM frame rate
_TAIL_WINDOWS = (1024 * 1024, 8 * 1024 * 1024)  # tail reads looking for the last fragment/cluster
_WIDE_TAIL_WINDOWS = (*_TAIL_WINDOWS, 64 * 1024 * 1024)  # a live WebM's last cluster may only be found so
_HEAD_WALK_READS = 8  # reads spent after the moov looking for the first video fragment
_FULL_WALK_READS = 32  # reads spent walking fragments box by box when the tail and the index fail
_MAX_TOP_LEVEL = 10_000  # boxes before the moov; real files have a handful
_MAX_LEVEL1 = 10_000  # Segment children before Info and Tracks
_MAX_CLUSTER_CHILDREN = 10_000  # blocks looked at per cluster; a 5 s cluster at 60 fps has ~600
_MAX_JPEG_SEGMENTS = 10_000
_MAX_TAIL_CANDIDATES = 64

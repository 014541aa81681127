"""Chunk plan for FILE_UPLOAD: pure arithmetic from a file size to TikTok's chunk fields and byte ranges.

TikTok's rules (docs/reference/tiktok-api.md §3.1):
- `total_chunk_count = floor(video_size / chunk_size)`; the final chunk absorbs the remainder and may grow
  to 128 MB. A client using ceil() is wrong.
- Every other chunk is 5-64 MB. A video under 5 MB goes whole (`chunk_size = video_size`, one chunk);
  a video over 64 MB must be split; 1 to 1000 chunks; at most 4 GB.

"MB" here is 2**20 bytes. The docs never say which MB they mean, but their whole-upload example calls
4,194,304 bytes "4 MB" (§3.1). The 5 MiB minimum is also >= 5 * 10**6, but a 64 MiB chunk is 67.1 * 10**6
bytes, so the default chunk size (DEFAULT_CHUNK_SIZE) is 64,000,000 bytes: valid under either reading.

Pure stdlib: imported on the cold path of the upload Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class ChunkRules:
    """TikTok's chunk limits, scaled by `unit` so tests can exercise every boundary with small files."""

    unit: int = MB
    min_chunk_units: int = 5
    max_chunk_units: int = 64
    max_final_chunk_units: int = 128
    max_chunks: int = 1000
    max_video_bytes: int = 4 * 1024 * MB

    @property
    def min_chunk(self) -> int:
        return self.min_chunk_units * self.unit

    @property
    def max_chunk(self) -> int:
        return self.max_chunk_units * self.unit

    @property
    def max_final_chunk(self) -> int:
        return self.max_final_chunk_units * self.unit


TIKTOK_RULES = ChunkRules()

# Within 5-64 MB whichever MB TikTok means, and the single-chunk size a sender reports still working in
# the field while multi-chunk inits were being refused (docs/reference/tiktok-api.md §3.1): files up to
# this size go in one PUT. Fewer, larger PUTs are also faster.
DEFAULT_CHUNK_SIZE = 64_000_000


@dataclass(frozen=True)
class ChunkPlan:
    """What to declare at init (size, chunk size, count) and the inclusive byte range of each PUT."""

    video_size: int
    chunk_size: int
    total_chunk_count: int
    ranges: list[tuple[int, int]]  # inclusive (first, last) byte positions, in upload order

    def chunk_length(self, index: int) -> int:
        first, last = self.ranges[index]
        return last - first + 1

    @property
    def largest_chunk(self) -> int:
        return max(self.chunk_length(i) for i in range(self.total_chunk_count))

    def index_starting_at(self, offset: int) -> int | None:
        """The chunk that begins at `offset`, or None when `offset` is not a chunk boundary."""
        if offset < 0 or offset >= self.video_size:
            return None
        index = min(offset // self.chunk_size, self.total_chunk_count - 1)
        return index if self.ranges[index][0] == offset else None

    def boundary_at_or_below(self, offset: int) -> int:
        """The last chunk boundary at or below `offset` (a byte count), clamped to [0, video_size]."""
        if offset >= self.video_size:
            return self.video_size
        if offset <= 0:
            return 0
        return self.ranges[min(offset // self.chunk_size, self.total_chunk_count - 1)][0]

    def source_fields(self) -> dict[str, int]:
        """The FILE_UPLOAD `source_info` numbers, exactly as declared to TikTok at init."""
        return {
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(
    video_size: int, preferred_chunk_size: int = DEFAULT_CHUNK_SIZE, *, rules: ChunkRules = TIKTOK_RULES
) -> ChunkPlan:
    """Split `video_size` bytes into TikTok chunks of `preferred_chunk_size` (the final one takes the rest).

    Raises ValueError for an empty or oversized file, or a preferred size outside 5-64 MB.
    """
    if isinstance(video_size, bool) or not isinstance(video_size, int):
        raise ValueError(f"video size must be an integer number of bytes, not {video_size!r}")
    if video_size <= 0:
        raise ValueError("the media file is empty (0 bytes); TikTok needs at least one byte")
    if video_size > rules.max_video_bytes:
        raise ValueError(
            f"the media file is {video_size} bytes; TikTok accepts at most {rules.max_video_bytes} bytes (4 GB)"
        )
    if not rules.min_chunk <= preferred_chunk_size <= rules.max_chunk:
        raise ValueError(
            f"chunk size {preferred_chunk_size} is outside TikTok's {rules.min_chunk}-{rules.max_chunk} bytes"
        )

    if video_size <= preferred_chunk_size:
        # Under 5 MB this is required; up to 64 MB it is allowed and saves round trips.
        return _plan(video_size, video_size)

    chunk_size = preferred_chunk_size
    if video_size // chunk_size > rules.max_chunks:
        # Only reachable with custom rules: with 5 MB chunks, 4 GB is 819 chunks.
        chunk_size = -(-video_size // rules.max_chunks)
        if chunk_size > rules.max_chunk:
            raise ValueError(
                f"{video_size} bytes do not fit in {rules.max_chunks} chunks of at most {rules.max_chunk}"
            )
    if video_size // chunk_size < 2:
        # floor() would give one chunk larger than the preferred size, which is also our cap on a single
        # PUT (the default keeps it valid whichever MB TikTok means): send two halves instead, each at
        # most the preferred size. Halves under 5 MB happen only for a file under 10 MB, which TikTok
        # accepts whole.
        if video_size // 2 < rules.min_chunk:
            return _plan(video_size, video_size)
        chunk_size = video_size // 2
    plan = _plan(video_size, chunk_size)
    _check(plan, rules)
    return plan


def _plan(video_size: int, chunk_size: int) -> ChunkPlan:
    count = video_size // chunk_size
    ranges = [(i * chunk_size, (i + 1) * chunk_size - 1) for i in range(count - 1)]
    ranges.append(((count - 1) * chunk_size, video_size - 1))
    return ChunkPlan(video_size=video_size, chunk_size=chunk_size, total_chunk_count=count, ranges=ranges)


def _check(plan: ChunkPlan, rules: ChunkRules) -> None:
    # Defensive: the arithmetic above guarantees these; a failure here is a bug, not bad input.
    if not 1 <= plan.total_chunk_count <= rules.max_chunks:
        raise AssertionError(f"chunk count {plan.total_chunk_count} out of range")
    if not rules.min_chunk <= plan.chunk_size <= rules.max_chunk:
        raise AssertionError(f"chunk size {plan.chunk_size} out of range")
    if plan.chunk_length(plan.total_chunk_count - 1) > rules.max_final_chunk:
        raise AssertionError("final chunk over the limit")

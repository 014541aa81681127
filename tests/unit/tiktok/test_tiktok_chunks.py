"""Chunk plan: TikTok's rules (docs/reference/tiktok-api.md §3.1) as examples and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.tiktok.chunks import DEFAULT_CHUNK_SIZE, MB, TIKTOK_RULES, ChunkPlan, ChunkRules, plan_chunks

GB4 = 4 * 1024 * MB
SMALL = ChunkRules(unit=1024, max_video_bytes=4 * 1024 * 1024)  # the same rules in KiB, for fast uploads


def test_documented_example_uses_floor_and_the_last_chunk_takes_the_rest() -> None:
    plan = plan_chunks(50_000_123, 10_000_000)
    assert plan.total_chunk_count == 5  # ceil() would say 6
    assert plan.chunk_size == 10_000_000
    assert plan.ranges[-1] == (40_000_000, 50_000_122)
    assert plan.chunk_length(4) == 10_000_123


def test_a_file_under_5_mb_goes_whole() -> None:
    plan = plan_chunks(4_194_304)
    assert (plan.chunk_size, plan.total_chunk_count, plan.ranges) == (4_194_304, 1, [(0, 4_194_303)])


def test_one_byte_file() -> None:
    assert plan_chunks(1).ranges == [(0, 0)]


def test_default_chunk_size_is_valid_whichever_mb_tiktok_means() -> None:
    assert DEFAULT_CHUNK_SIZE <= 64 * 10**6 <= 64 * MB
    assert DEFAULT_CHUNK_SIZE >= 5 * MB >= 5 * 10**6


def test_files_up_to_the_default_chunk_go_in_one_put() -> None:
    plan = plan_chunks(DEFAULT_CHUNK_SIZE)
    assert plan.total_chunk_count == 1 and plan.chunk_size == DEFAULT_CHUNK_SIZE


def test_just_over_the_default_chunk_is_two_halves() -> None:
    # 64,000,001 bytes is under 64 MiB but over 64 * 10**6: two chunks are valid under either reading.
    plan = plan_chunks(DEFAULT_CHUNK_SIZE + 1)
    assert plan.ranges == [(0, 31_999_999), (32_000_000, 64_000_000)]


def test_a_small_preferred_chunk_never_makes_chunks_under_5_mb() -> None:
    plan = plan_chunks(9 * MB, 5 * MB)  # halves would be 4.5 MB: one whole chunk instead
    assert (plan.total_chunk_count, plan.chunk_size) == (1, 9 * MB)
    assert plan_chunks(11 * MB, 5 * MB).ranges == [(0, 5 * MB - 1), (5 * MB, 11 * MB - 1)]


def test_over_64_mb_is_split_in_two_halves_when_floor_gives_one() -> None:
    size = 64 * MB + 1
    plan = plan_chunks(size)
    assert plan.total_chunk_count == 2
    assert plan.chunk_size == size // 2
    assert plan.ranges == [(0, size // 2 - 1), (size // 2, size - 1)]


def test_128_mib_file() -> None:
    plan = plan_chunks(128 * MB)
    assert plan.total_chunk_count == 2 and plan.chunk_size == DEFAULT_CHUNK_SIZE
    assert plan.chunk_length(1) == 128 * MB - DEFAULT_CHUNK_SIZE


def test_4_gb_is_accepted_and_one_byte_more_is_not() -> None:
    plan = plan_chunks(GB4)
    assert plan.total_chunk_count == GB4 // DEFAULT_CHUNK_SIZE == 67
    with pytest.raises(ValueError, match="at most 4294967296 bytes"):
        plan_chunks(GB4 + 1)


def test_smallest_chunks_for_4_gb_stay_under_1000() -> None:
    plan = plan_chunks(GB4, 5 * MB)
    assert plan.total_chunk_count == 819
    assert plan.chunk_length(818) == GB4 - 818 * 5 * MB <= 128 * MB


@pytest.mark.parametrize("size", [0, -1])
def test_empty_file_is_a_clear_error(size: int) -> None:
    with pytest.raises(ValueError, match="empty"):
        plan_chunks(size)


@pytest.mark.parametrize("size", [True, 1.5, "10"])
def test_size_must_be_an_integer(size: object) -> None:
    with pytest.raises(ValueError, match="integer"):
        plan_chunks(size)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk", [5 * MB - 1, 64 * MB + 1, 0])
def test_preferred_chunk_size_outside_5_to_64_mb_is_refused(chunk: int) -> None:
    with pytest.raises(ValueError, match="outside TikTok's"):
        plan_chunks(100 * MB, chunk)


def test_custom_rules_with_a_chunk_cap_grow_the_chunk() -> None:
    rules = ChunkRules(
        unit=1,
        min_chunk_units=5,
        max_chunk_units=64,
        max_final_chunk_units=128,
        max_chunks=10,
        max_video_bytes=10_000,
    )
    plan = plan_chunks(600, 5, rules=rules)
    assert plan.total_chunk_count <= 10
    assert plan.chunk_size == 60
    with pytest.raises(ValueError, match="do not fit"):
        plan_chunks(1000, 5, rules=rules)


def test_boundary_helpers() -> None:
    plan = plan_chunks(50_000_123, 10_000_000)
    assert plan.index_starting_at(0) == 0
    assert plan.index_starting_at(40_000_000) == 4
    assert plan.index_starting_at(10_000_001) is None
    assert plan.index_starting_at(50_000_123) is None
    assert plan.index_starting_at(-1) is None
    assert plan.boundary_at_or_below(45_000_000) == 40_000_000
    assert plan.boundary_at_or_below(50_000_122) == 40_000_000
    assert plan.boundary_at_or_below(50_000_123) == 50_000_123
    assert plan.boundary_at_or_below(-5) == 0
    assert plan.source_fields() == {
        "video_size": 50_000_123,
        "chunk_size": 10_000_000,
        "total_chunk_count": 5,
    }
    assert plan.largest_chunk == 10_000_123


def test_plan_is_a_frozen_value() -> None:
    plan = plan_chunks(1000)
    with pytest.raises(AttributeError):
        plan.chunk_size = 5  # type: ignore[misc]
    assert plan == plan_chunks(1000)


# ------------------------------------------------------------------------------------------ properties


def _assert_tiktok_rules(plan: ChunkPlan, rules: ChunkRules) -> None:
    size = plan.video_size
    # Contiguous, in order, covering every byte exactly once.
    assert plan.ranges[0][0] == 0
    assert plan.ranges[-1][1] == size - 1
    for (_, last), (first, _) in zip(plan.ranges, plan.ranges[1:], strict=False):
        assert first == last + 1
    assert len(plan.ranges) == plan.total_chunk_count
    # The floor rule, the count bounds.
    assert plan.total_chunk_count == size // plan.chunk_size
    assert 1 <= plan.total_chunk_count <= rules.max_chunks
    if size < rules.min_chunk:
        assert plan.total_chunk_count == 1 and plan.chunk_size == size
    if size > rules.max_chunk:
        assert plan.total_chunk_count >= 2
    if plan.total_chunk_count == 1:
        assert plan.chunk_size == size <= rules.max_chunk
    else:
        assert rules.min_chunk <= plan.chunk_size <= rules.max_chunk
        assert all(plan.chunk_length(i) == plan.chunk_size for i in range(plan.total_chunk_count - 1))
        assert plan.chunk_size <= plan.chunk_length(plan.total_chunk_count - 1) <= rules.max_final_chunk
    for i, (first, _) in enumerate(plan.ranges):
        assert plan.index_starting_at(first) == i
        assert plan.boundary_at_or_below(first) == first


@settings(max_examples=400, deadline=None)
@given(
    size=st.one_of(
        st.integers(1, GB4),
        st.sampled_from(
            [
                5 * MB - 1,
                5 * MB,
                5 * MB + 1,
                64 * MB - 1,
                64 * MB,
                64 * MB + 1,
                128 * MB,
                128 * MB + 1,
                GB4 - 1,
            ]
        ),
    ),
    preferred=st.integers(5 * MB, 64 * MB),
)
def test_every_plan_keeps_tiktoks_rules(size: int, preferred: int) -> None:
    plan = plan_chunks(size, preferred)
    _assert_tiktok_rules(plan, TIKTOK_RULES)
    if size <= preferred:
        assert plan.total_chunk_count == 1
    elif size // preferred >= 2:
        assert plan.chunk_size == preferred  # the preferred size is honoured whenever it is usable
    elif size >= 2 * 5 * MB:
        assert plan.total_chunk_count == 2 and plan.chunk_length(1) <= preferred  # never one PUT over it


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, SMALL.max_video_bytes), preferred=st.integers(SMALL.min_chunk, SMALL.max_chunk))
def test_scaled_rules_keep_the_same_shape(size: int, preferred: int) -> None:
    _assert_tiktok_rules(plan_chunks(size, preferred, rules=SMALL), SMALL)


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, GB4), offset=st.integers(-10, GB4 + 10))
def test_boundary_at_or_below_is_a_chunk_start_not_above_the_offset(size: int, offset: int) -> None:
    plan = plan_chunks(size)
    boundary = plan.boundary_at_or_below(offset)
    if offset >= size:
        assert boundary == size
    else:
        assert boundary <= max(offset, 0)
        assert plan.index_starting_at(boundary) is not None
        index = plan.index_starting_at(boundary)
        assert index is not None
        assert offset < 0 or offset <= plan.ranges[index][1]

"""StreamPump/ChunkBody: chunk-aligned blocks, single use, bounded queue, clean shutdown; and the small
protocol helpers (Content-Range, Retry-After)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from tiktok_fakes import FakeSource, pattern

from functions.tiktok.content_range import ReceivedRange, parse_received, request_header
from functions.tiktok.retry import Backoff, parse_retry_after
from functions.tiktok.stream_pump import SourceReadError, SourceTooShortError, StreamPump


def test_blocks_never_cross_a_chunk_end_and_never_exceed_the_block_size() -> None:
    data = pattern(10_000)
    source = FakeSource(data)
    pump = StreamPump(source.open(0), [3000, 3000, 4000], block_size=1024, queue_depth=2).start()
    try:
        bodies = [pump.chunk_body(n) for n in (3000,)]
        first = list(bodies[0])
        assert [len(b) for b in first] == [1024, 1024, 952]
        rest = [list(pump.chunk_body(3000)), list(pump.chunk_body(4000))]
        assert b"".join(first) + b"".join(b"".join(r) for r in rest) == data
        assert max(source.read_sizes) <= 1024
    finally:
        pump.close()
    assert source.closes == 1


def test_a_chunk_body_is_single_use_and_has_a_length() -> None:
    pump = StreamPump(FakeSource(pattern(100)).open(0), [100], block_size=64, queue_depth=1).start()
    try:
        body = pump.chunk_body(100)
        assert len(body) == 100
        assert sum(len(b) for b in body) == 100 and body.complete
        with pytest.raises(RuntimeError, match="only once"):
            iter(body)
    finally:
        pump.close()


def test_chunk_bodies_must_follow_the_plan_in_full() -> None:
    pump = StreamPump(FakeSource(pattern(300)).open(0), [100, 200], block_size=50, queue_depth=1).start()
    try:
        with pytest.raises(ValueError, match="follow"):
            pump.chunk_body(200)
        first = pump.chunk_body(100)
        next(iter(first))  # half-sent
        with pytest.raises(ValueError, match="not sent in full"):
            pump.chunk_body(200)
    finally:
        pump.close()


def test_the_queue_is_bounded() -> None:
    source = FakeSource(pattern(100_000))
    pump = StreamPump(source.open(0), [100_000], block_size=1000, queue_depth=3).start()
    try:
        time.sleep(0.2)  # nobody consumes: the reader must stop once the queue is full
        assert source.bytes_read <= (3 + 1) * 1000
        body = iter(pump.chunk_body(100_000))
        next(body)
        time.sleep(0.1)
        assert source.bytes_read <= (3 + 2) * 1000
    finally:
        pump.close()


def test_short_source_and_failing_source() -> None:
    short = FakeSource(pattern(500))
    pump = StreamPump(short.open(0), [1000], block_size=256, queue_depth=2).start()
    with pytest.raises(SourceTooShortError):
        list(pump.chunk_body(1000))
    pump.close()

    failing = FakeSource(pattern(1000))
    failing.stream_options.append({"fail_at": 300})
    pump = StreamPump(failing.open(0), [1000], block_size=256, queue_depth=2).start()
    with pytest.raises(SourceReadError, match="ConnectionResetError"):
        list(pump.chunk_body(1000))
    pump.close()


class BlockingStream:
    """A network stream whose read() hangs until close() is called from another thread."""

    def __init__(self) -> None:
        self.unblock = threading.Event()
        self.closed = False

    def read(self, size: int) -> bytes:
        self.unblock.wait(5)
        raise OSError("stream closed")

    def close(self) -> None:
        self.closed = True
        self.unblock.set()


def test_a_stalled_source_times_out_and_close_unblocks_the_reader() -> None:
    stream = BlockingStream()
    pump = StreamPump(stream, [10], block_size=10, queue_depth=1, stall_timeout=0.2).start()
    started = time.monotonic()
    with pytest.raises(SourceReadError, match="no data"):
        list(pump.chunk_body(10))
    pump.close()
    assert stream.closed and time.monotonic() - started < 2
    assert not pump._thread.is_alive()


def test_pump_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        StreamPump(FakeSource(b"x").open(0), [1], block_size=0, queue_depth=1)


# ---------------------------------------------------------------------------------- protocol helpers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-65535/328914", ReceivedRange((65536, 65535), 328914)),
        ("BYTES 0-0/1", ReceivedRange((1, 0), 1)),
        ("bytes 0-9/*", ReceivedRange((10, 9), None)),
        ("bytes */328914", ReceivedRange((0,), 328914)),
        ("  bytes 0-99/100  ", ReceivedRange((100, 99), 100)),
        ("bytes 0-100/100", ReceivedRange((100,), 100)),  # a count: every byte held
        ("bytes 5-99/100", None),  # not from byte 0
        ("bytes 0-101/100", None),  # past the end either way
        ("bytes 9-3/100", None),
        ("bytes=0-9/10", None),
        ("", None),
        (None, None),
        ("bytes 0-" + "9" * 40 + "/1", None),
    ],
)
def test_parse_received(header: str | None, expected: ReceivedRange | None) -> None:
    assert parse_received(header) == expected


def test_request_header() -> None:
    assert request_header(0, 9, 10) == "bytes 0-9/10"


def test_retry_after() -> None:
    now = 1_764_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 0 ", now) == 0.0
    http_date = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert parse_retry_after(http_date, now) == pytest.approx(30, abs=1)
    past = format_datetime(datetime.fromtimestamp(now - 30, UTC), usegmt=True)
    assert parse_retry_after(past, now) == 0.0
    for bad in (None, "", "soon", "-5", "1.5", "Wed, 99 Foo 2026"):
        assert parse_retry_after(bad, now) is None


def test_backoff_validation() -> None:
    with pytest.raises(ValueError):
        Backoff(max_attempts=0)
    with pytest.raises(ValueError):
        Backoff(base_delay=-1)

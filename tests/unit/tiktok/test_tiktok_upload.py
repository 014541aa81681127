"""Chunk uploads against a strict loopback upload endpoint: framing, order, resume, retries, deadline."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from tiktok_fakes import (
    ConsumingSession,
    FakeSource,
    FakeUploadServer,
    RecordingSleep,
    UploadAction,
    closed_port_url,
    make_response,
    pattern,
)

from functions.tiktok.chunks import MB, ChunkPlan, ChunkRules, plan_chunks
from functions.tiktok.errors import (
    ErrorKind,
    UploadOffsetMismatchError,
    UploadRejectedError,
    UploadRetriesExhaustedError,
    UploadSourceError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
)
from functions.tiktok.upload import ChunkUploader
from functions.tiktok.upload_results import UploadResult, resume_offset

KIB_RULES = ChunkRules(unit=1024, max_video_bytes=4 * MB)  # TikTok's rules scaled down 1024x
K = 1024
BLOCK = 3000  # deliberately not a divisor of any chunk size


def uploader(sleeps: RecordingSleep, **kwargs: object) -> ChunkUploader:
    options: dict[str, object] = {
        "block_size": BLOCK,
        "queue_depth": 3,
        "max_attempts": 4,
        "sleep": sleeps,
        "rng": random.Random(5),
        "timeout": (1.0, 2.0),
    }
    options.update(kwargs)
    return ChunkUploader(**options)  # type: ignore[arg-type]


def serve(plan: ChunkPlan, *, count_style: bool = False) -> Iterator[FakeUploadServer]:
    server = FakeUploadServer(plan.video_size, plan.ranges, count_style=count_style)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Server handler threads record what they saw slightly after the client moved on."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def assert_clean_protocol(server: FakeUploadServer, plan: ChunkPlan, data: bytes) -> None:
    assert server.violations == []
    assert server.sha256() == hashlib.sha256(data).hexdigest()
    for put in server.puts:
        assert "transfer-encoding" not in put.headers
        assert put.headers["content-type"] == "video/mp4"
        first, last = (int(x) for x in put.headers["content-range"].split(" ")[1].split("/")[0].split("-"))
        assert int(put.headers["content-length"]) == last - first + 1
        assert (first, last) in plan.ranges


# ------------------------------------------------------------------------------ byte-exact reassembly

BOUNDARY_SIZES = [
    1,
    5 * K - 1,
    5 * K,
    5 * K + 1,
    64 * K - 1,
    64 * K,
    64 * K + 1,
    128 * K - 1,
    128 * K,
    128 * K + 1,
    3 * 64 * K + 17,
    10 * 64 * K - 1,
]


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
@pytest.mark.parametrize("preferred", [5 * K, 64 * K, 10_007])
def test_every_boundary_size_reassembles_byte_for_byte(
    size: int, preferred: int, sleeps: RecordingSleep
) -> None:
    plan = plan_chunks(size, preferred, rules=KIB_RULES)
    data = pattern(size, seed=size)
    source = FakeSource(data)
    progress: list[tuple[int, int]] = []
    for server in serve(plan):
        result = uploader(sleeps).upload(
            server.url, plan, source.open, "video/mp4", on_progress=lambda a, t: progress.append((a, t))
        )
        assert result == UploadResult(
            bytes_acknowledged=size, complete=True, puts=plan.total_chunk_count, retries=0
        )
        assert_clean_protocol(server, plan, data)
        # In order, one PUT per planned chunk, the last answered 201 and the others 206.
        assert [p.content_range for p in server.puts] == [f"bytes {a}-{b}/{size}" for a, b in plan.ranges]
        assert [p.answered for p in server.puts] == [206] * (plan.total_chunk_count - 1) + [201]
    assert source.opens == [0]  # one GET for the whole upload
    assert max(source.read_sizes) <= BLOCK
    assert progress == [(b + 1, size) for _, b in plan.ranges[:-1]]
    assert sleeps.calls == []


def test_real_mib_rules_with_1_mib_blocks(sleeps: RecordingSleep) -> None:
    size = 12 * MB + 3
    plan = plan_chunks(size, 5 * MB)
    assert plan.total_chunk_count == 2 and plan.chunk_length(1) == 7 * MB + 3
    data = pattern(size)
    source = FakeSource(data)
    for server in serve(plan):
        result = uploader(sleeps, block_size=MB).upload(server.url, plan, source.open, "video/mp4")
        assert result.complete and result.puts == 2
        assert_clean_protocol(server, plan, data)
    assert max(source.read_sizes) == MB


def test_short_reads_from_the_source_still_reassemble(sleeps: RecordingSleep) -> None:
    plan = plan_chunks(200 * K + 5, 64 * K, rules=KIB_RULES)
    data = pattern(plan.video_size)
    source = FakeSource(data)
    source.stream_options.append({"short_reads": True})
    for server in serve(plan):
        assert uploader(sleeps).upload(server.url, plan, source.open, "video/mp4").complete
        assert_clean_protocol(server, plan, data)


# ----------------------------------------------------------------------------------- interruptions

PLAN = plan_chunks(5 * 64 * K + 1234, 64 * K, rules=KIB_RULES)  # 5 chunks, the last one 64 KiB + 1234
DATA = pattern(PLAN.video_size, seed=99)
C = 64 * K


@pytest.fixture
def server() -> Iterator[FakeUploadServer]:
    yield from serve(PLAN)


def run(
    server: FakeUploadServer,
    sleeps: RecordingSleep,
    source: FakeSource | None = None,
    *,
    start_offset: int = 0,
    **kwargs: object,
) -> UploadResult:
    source = source or FakeSource(DATA)
    return uploader(sleeps, **kwargs).upload(
        server.url, PLAN, source.open, "video/mp4", start_offset=start_offset
    )


def test_a_connection_dropped_mid_chunk_resumes_from_the_acknowledged_byte(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(UploadAction(), UploadAction(), UploadAction("drop_mid_body"))
    source = FakeSource(DATA)
    result = run(server, sleeps, source)
    assert (result.complete, result.retries, result.puts) == (True, 1, PLAN.total_chunk_count + 1)
    assert source.opens == [0, 2 * C]  # reopened once, at the byte TikTok had acknowledged
    assert len(sleeps.calls) == 1 and 0 <= sleeps.calls[0] <= 0.5
    assert_clean_protocol(server, PLAN, DATA)


def test_a_lost_answer_is_realigned_from_tiktoks_416(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    # TikTok stores chunk 2 but the answer never arrives; the retry of chunk 2 gets 416 "I have 3 chunks".
    server.then(UploadAction(), UploadAction("accept_then_drop"))
    source = FakeSource(DATA)
    result = run(server, sleeps, source)
    assert result.complete
    assert [p.answered for p in server.puts] == [206, None, 416, 206, 206, 201]
    assert source.opens == [0, C, 2 * C]  # after the drop, then after TikTok's count moved us on
    assert_clean_protocol(server, PLAN, DATA)


def test_a_stalled_answer_times_out_and_realigns(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    server.then(UploadAction("stall", seconds=0.6))
    started = time.monotonic()
    result = run(server, sleeps, timeout=(1.0, 0.3))
    assert result.complete and result.retries == 1
    # The stalled PUT was stored; its retry learned that from TikTok's 416 and moved on.
    assert server.puts[1].content_range == server.puts[0].content_range and server.puts[1].answered == 416
    assert time.monotonic() - started < 3
    assert_clean_protocol(server, PLAN, DATA)


def test_5xx_is_retried_with_jitter_and_honours_retry_after(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(
        UploadAction(),
        UploadAction("status", status=503, headers={"Retry-After": "1"}),
        UploadAction("status", status=500),
    )
    result = run(server, sleeps)
    assert result.complete and result.retries == 2
    assert sleeps.calls[0] == 1.0
    assert 0 <= sleeps.calls[1] <= 1.0  # second failure in a row: full jitter under 0.5 * 2
    assert_clean_protocol(server, PLAN, DATA)


def test_persistent_5xx_gives_up_after_the_bound_with_the_acknowledged_offset(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(UploadAction(), *[UploadAction("status", status=502)] * 10)
    with pytest.raises(UploadRetriesExhaustedError) as info:
        run(server, sleeps)
    assert info.value.acknowledged_bytes == C
    assert info.value.kind is ErrorKind.RETRYABLE
    assert len(server.puts) == 1 + 4  # max_attempts in a row without progress
    assert len(sleeps.calls) == 3
    for n, wait in enumerate(sleeps.calls):
        assert 0 <= wait <= 0.5 * 2**n


def test_progress_resets_the_failure_count(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    fail = UploadAction("status", status=500)
    # Three failures before each of several chunks: more than max_attempts in total, never 4 in a row.
    server.then(fail, fail, fail, UploadAction(), fail, fail, fail, UploadAction(), fail, fail, fail)
    result = run(server, sleeps)
    assert result.complete and result.retries == 9
    assert_clean_protocol(server, PLAN, DATA)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, UploadUrlExpiredError),
        (404, UploadTaskMissingError),
        (400, UploadRejectedError),
        (411, UploadRejectedError),
    ],
)
def test_refusals_are_terminal_and_not_retried(
    server: FakeUploadServer, sleeps: RecordingSleep, status: int, error: type[Exception]
) -> None:
    server.then(UploadAction(), UploadAction("status", status=status))
    with pytest.raises(error) as info:
        run(server, sleeps)
    assert getattr(info.value, "acknowledged_bytes", None) == C
    assert getattr(info.value, "kind", None) is ErrorKind.TERMINAL
    assert len(server.puts) == 2 and sleeps.calls == []


def test_403_answered_before_the_body_is_read_is_still_an_expired_url(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(UploadAction("status", status=403, read_body=False))
    with pytest.raises(UploadUrlExpiredError):
        run(server, sleeps)


def test_a_failing_source_is_reopened_from_the_acknowledged_byte(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    source = FakeSource(DATA)
    source.stream_options.append({"fail_at": 3 * C + 100})
    result = run(server, sleeps, source)
    assert result.complete and result.retries == 1
    assert source.opens == [0, 3 * C]
    eventually(lambda: server.aborted == 1)  # the chunk being sent when the source failed was cut short
    assert_clean_protocol(server, PLAN, DATA)


def test_a_source_that_cannot_be_opened_is_retried(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    source = FakeSource(DATA)
    source.fail_next_open = 2
    result = run(server, sleeps, source)
    assert result.complete and result.retries == 2 and source.opens == [0, 0, 0]


def test_a_source_shorter_than_planned_is_terminal(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    source = FakeSource(DATA)
    source.stream_options.append({"truncate_at": 4 * C + 10})
    with pytest.raises(UploadSourceError) as info:
        run(server, sleeps, source)
    assert info.value.acknowledged_bytes == 4 * C and info.value.kind is ErrorKind.TERMINAL
    assert server.received == 4 * C  # the partial last chunk was never accepted


# ------------------------------------------------------------------------------------------ resume


def test_resume_from_a_stored_offset_opens_the_source_there(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.data += DATA[: 2 * C]  # what a previous Lambda already sent
    source = FakeSource(DATA)
    result = run(server, sleeps, source, start_offset=2 * C)
    assert result.complete and result.puts == 3
    assert source.opens == [2 * C]
    assert_clean_protocol(server, PLAN, DATA)


def test_starting_behind_tiktok_realigns_forward(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    server.data += DATA[: 3 * C]
    progress: list[int] = []
    source = FakeSource(DATA)
    result = uploader(sleeps).upload(
        server.url, PLAN, source.open, "video/mp4", on_progress=lambda a, _t: progress.append(a)
    )
    assert result.complete and result.retries == 0
    assert [p.answered for p in server.puts] == [416, 206, 201]
    assert progress == [3 * C, 4 * C]
    assert source.opens == [0, 3 * C]
    assert_clean_protocol(server, PLAN, DATA)


def test_starting_ahead_of_tiktok_realigns_back(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    server.data += DATA[:C]
    source = FakeSource(DATA)
    result = run(server, sleeps, source, start_offset=3 * C)
    assert result.complete
    assert [p.answered for p in server.puts] == [416, 206, 206, 206, 201]
    assert source.opens == [3 * C, C]
    assert_clean_protocol(server, PLAN, DATA)


def test_416_when_tiktok_already_has_everything_is_complete(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.data += DATA
    result = run(server, sleeps)
    assert result.complete and result.bytes_acknowledged == PLAN.video_size and result.puts == 1


def test_416_without_a_count_cannot_be_resolved(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    server.then(UploadAction("status", status=416, content_range=False))
    with pytest.raises(UploadOffsetMismatchError):
        run(server, sleeps)


def test_416_that_never_moves_stops_instead_of_looping(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(*[UploadAction("status", status=416)] * 5)
    with pytest.raises(UploadOffsetMismatchError):
        run(server, sleeps)
    assert len(server.puts) == 2


def test_a_content_range_written_as_a_count_is_read_as_one(sleeps: RecordingSleep) -> None:
    for counting in serve(PLAN, count_style=True):
        source = FakeSource(DATA)
        result = run(counting, sleeps, source)
        assert result.complete and result.retries == 0
        assert source.opens == [0]  # every chunk taken as acknowledged: the stream never reopened
        assert_clean_protocol(counting, PLAN, DATA)


@pytest.mark.parametrize("reported", [C + 10, C - 7])
def test_a_count_matching_neither_reading_resumes_from_the_chunk_boundary_below(
    sleeps: RecordingSleep, reported: int
) -> None:
    size = PLAN.video_size
    answers = [make_response(206, {"Content-Range": f"bytes 0-{reported}/{size}"})]
    answers += [make_response(206, {"Content-Range": f"bytes 0-{C * i - 1}/{size}"}) for i in (2, 3, 4)]
    answers.append(make_response(201, {"Content-Range": f"bytes 0-{size - 1}/{size}"}))
    if reported < C:
        answers.insert(1, make_response(206, {"Content-Range": f"bytes 0-{C - 1}/{size}"}))
    session = _ScriptedSession(answers)
    source = FakeSource(DATA)
    result = uploader(sleeps, session=session).upload("http://fake/u", PLAN, source.open, "video/mp4")
    assert result.complete and session.responses == []
    assert source.opens == ([0] if reported > C else [0, 0])  # TikTok's figure decides, on a boundary


def test_tiktok_reporting_less_than_sent_is_followed(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    server.then(UploadAction(), UploadAction("report", report=C))  # chunk 2 accepted, then "lost"
    source = FakeSource(DATA)
    result = run(server, sleeps, source)
    assert result.complete
    assert source.opens == [0, C]
    assert_clean_protocol(server, PLAN, DATA)


def test_start_offset_must_be_a_boundary_and_the_end_is_already_done(sleeps: RecordingSleep) -> None:
    up = uploader(sleeps)
    with pytest.raises(ValueError, match="boundary"):
        up.upload("http://fake/u", PLAN, FakeSource(DATA).open, "video/mp4", start_offset=10)
    done = up.upload("http://fake/u", PLAN, FakeSource(DATA).open, "video/mp4", start_offset=PLAN.video_size)
    assert done == UploadResult(PLAN.video_size, True, 0, 0)
    with pytest.raises(ValueError, match="content type"):
        up.upload("http://fake/u", PLAN, FakeSource(DATA).open, "video/x-msvideo")


def test_resume_offset_prefers_tiktoks_count() -> None:
    assert resume_offset(PLAN, stored_offset=2 * C, uploaded_bytes=3 * C + 5) == 3 * C
    assert resume_offset(PLAN, stored_offset=2 * C + 7) == 2 * C
    assert resume_offset(PLAN) == 0
    assert resume_offset(PLAN, uploaded_bytes=PLAN.video_size) == PLAN.video_size


# ---------------------------------------------------------------------------------------- deadline


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_stops_between_chunks_and_a_later_call_finishes(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    clock = FakeClock()
    progress: list[int] = []

    def advance(acknowledged: int, _total: int) -> None:
        progress.append(acknowledged)
        clock.now += 10  # each chunk "takes" 10 s

    up = uploader(sleeps, clock=clock, min_seconds_per_chunk=5.0)
    source = FakeSource(DATA)
    first = up.upload(
        server.url, PLAN, source.open, "video/mp4", on_progress=advance, deadline=clock.now + 24
    )
    assert (first.complete, first.stopped_early, first.bytes_acknowledged) == (False, True, 2 * C)
    assert server.received == 2 * C and len(server.puts) == 2
    second = up.upload(
        server.url,
        PLAN,
        source.open,
        "video/mp4",
        start_offset=first.bytes_acknowledged,
        deadline=clock.now + 1000,
    )
    assert second.complete and second.puts == 3
    assert_clean_protocol(server, PLAN, DATA)


def test_no_time_for_even_one_chunk_sends_nothing(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    clock = FakeClock()
    result = uploader(sleeps, clock=clock).upload(
        server.url, PLAN, FakeSource(DATA).open, "video/mp4", deadline=clock.now + 1
    )
    assert result == UploadResult(0, False, 0, 0, stopped_early=True)
    assert server.puts == []


def test_a_backoff_that_would_pass_the_deadline_returns_instead_of_sleeping(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    clock = FakeClock()
    server.then(UploadAction("status", status=503, headers={"Retry-After": "10"}))
    result = uploader(sleeps, clock=clock, min_seconds_per_chunk=1).upload(
        server.url, PLAN, FakeSource(DATA).open, "video/mp4", deadline=clock.now + 5
    )
    assert (result.complete, result.stopped_early, result.retries) == (False, True, 1)
    assert sleeps.calls == []


# ---------------------------------------------------------------------------------- memory / overlap


def test_memory_is_bounded_and_reads_overlap_sends(sleeps: RecordingSleep) -> None:
    block, depth = 4 * K, 3
    plan = plan_chunks(300 * K + 11, 64 * K, rules=KIB_RULES)
    data = pattern(plan.video_size)
    source = FakeSource(data)
    gaps: list[int] = []

    def slow_network(received: int) -> None:
        gaps.append(source.bytes_read - received)  # read from the source but not yet "on the wire"
        time.sleep(0.0005)

    session = ConsumingSession(plan.video_size, per_block=slow_network)
    up = ChunkUploader(session, block_size=block, queue_depth=depth, sleep=sleeps)
    result = up.upload("http://fake/upload", plan, source.open, "video/mp4")
    assert result.complete
    assert session.hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert max(source.read_sizes) <= block
    # Never more than the queue, the block being read and the block being sent.
    assert max(gaps) <= (depth + 2) * block
    # And the reader did run ahead of the socket (the overlap that makes it fast).
    assert max(gaps) >= depth * block
    for headers in session.header_log:
        assert (
            "Content-Length" not in headers and "Transfer-Encoding" not in headers
        )  # requests adds C-L itself


def test_a_large_chunk_does_not_grow_memory(sleeps: RecordingSleep) -> None:
    block, depth = 4 * K, 2
    small = plan_chunks(200 * K, 5 * K, rules=KIB_RULES)
    large = plan_chunks(200 * K, 64 * K, rules=KIB_RULES)
    peaks = []
    for plan in (small, large):
        source = FakeSource(pattern(plan.video_size))
        gaps: list[int] = []

        def measure(received: int, source: FakeSource = source, gaps: list[int] = gaps) -> None:
            gaps.append(source.bytes_read - received)

        session = ConsumingSession(plan.video_size, per_block=measure)
        assert (
            ChunkUploader(session, block_size=block, queue_depth=depth)
            .upload("http://f/u", plan, source.open, "video/mp4")
            .complete
        )
        peaks.append(max(gaps))
    assert all(peak <= (depth + 2) * block for peak in peaks)


class _ScriptedSession(requests.Session):
    def __init__(self, responses: list[requests.Response]) -> None:
        super().__init__()
        self.responses = responses

    def put(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
        for _ in data:
            pass
        return self.responses.pop(0)


def test_network_failures_never_expose_the_upload_token(
    sleeps: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{closed_port_url()}/video/?upload_id=7&upload_token=SECRET-UPLOAD-TOKEN"
    with pytest.raises(UploadRetriesExhaustedError) as info:
        uploader(sleeps).upload(url, PLAN, FakeSource(DATA).open, "video/mp4")
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [info.value]
    while pending:  # every exception reachable through causes and contexts
        current = pending.pop()
        if current is not None and current not in chain:
            chain.append(current)
            pending += [current.__cause__, current.__context__]
    assert any("ConnectionError" in str(e) for e in chain)  # the scrubbed network cause is kept
    assert not any("SECRET-UPLOAD-TOKEN" in str(e) or "SECRET-UPLOAD-TOKEN" in repr(e.args) for e in chain)
    assert "SECRET-UPLOAD-TOKEN" not in caplog.text


def test_reads_overlap_sends(sleeps: RecordingSleep) -> None:
    """The S3 read runs ahead of the socket write (a reader thread), which is what lets the upload reach
    the speed of the slower side instead of the sum of both (measured in `make bench`, not here).

    Shown by order, not by time: the sink refuses to finish consuming block n until the source has
    already been asked for block n + 1. A uploader that reads and sends in one thread would never get
    there, and the wait below would run out.
    """
    block = 16 * K
    plan = plan_chunks(64 * 8 * K, 64 * K, rules=KIB_RULES)  # 8 chunks, 32 blocks
    data = pattern(plan.video_size)
    reads: list[threading.Event] = [threading.Event() for _ in range(plan.video_size // block + 2)]

    class CountingStream:
        def __init__(self, offset: int) -> None:
            self.position = offset

        def read(self, size: int) -> bytes:
            reads[self.position // block].set()
            chunk = data[self.position : self.position + size]
            self.position += len(chunk)
            return chunk

        def close(self) -> None:
            pass

    def wait_for_next_read(received: int) -> None:
        index = received // block  # the block after the one just consumed
        if received < plan.video_size:
            assert reads[index].wait(timeout=10), (
                f"block {index} was not read while block {index - 1} was sent"
            )

    session = ConsumingSession(plan.video_size, per_block=wait_for_next_read)
    result = ChunkUploader(session, block_size=block, queue_depth=4).upload(
        "http://f/u", plan, CountingStream, "video/mp4"
    )
    assert result.complete and session.hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_refused_final_chunk_is_never_sent(server: FakeUploadServer, sleeps: RecordingSleep) -> None:
    asked: list[int] = []

    def refuse() -> bool:
        asked.append(server.received)
        return False

    source = FakeSource(DATA)
    result = uploader(sleeps).upload(server.url, PLAN, source.open, "video/mp4", before_final_chunk=refuse)
    last_first = PLAN.ranges[-1][0]
    assert result.cancelled and not result.complete and result.bytes_acknowledged == last_first
    assert asked == [last_first]  # asked once, with every other chunk in
    assert server.received == last_first and len(server.puts) == PLAN.total_chunk_count - 1


def test_an_allowed_final_chunk_is_asked_about_once_even_when_retried(
    server: FakeUploadServer, sleeps: RecordingSleep
) -> None:
    asked: list[int] = []
    server.then(*[UploadAction()] * (PLAN.total_chunk_count - 1), UploadAction("status", status=503))
    result = uploader(sleeps).upload(
        server.url, PLAN, FakeSource(DATA).open, "video/mp4", before_final_chunk=lambda: not asked.append(1)
    )
    assert result.complete and asked == [1]

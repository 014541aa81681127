"""ChunkUploader: streams a file from its source into TikTok's chunk PUTs, resumably.

Protocol (docs/reference/tiktok-api.md §3): PUT each chunk in order to the upload URL with Content-Range
`bytes FIRST-LAST/TOTAL` and Content-Length; 206 = more expected, 201 = all in; 403 = URL expired,
404 = no such upload, 416 = Content-Range does not match TikTok's progress, 5xx = retry the chunk.
Every response's `Content-Range: bytes 0-N/TOTAL` is TikTok's own count, and we follow it. N is read
either as the last byte's index or as a byte count (content_range.py), whichever matches what was sent;
only a value that matches neither is a mismatch, and then TikTok's figure decides where to resume (on a
chunk boundary, rounded down): a post is never failed for the way TikTok writes its count.

The source is opened ONCE from the resume offset (`open_stream(offset)`, in Lambda an S3 GetObject with
`Range: bytes=offset-`) and cut into chunk bodies by a StreamPump; after any interruption it is reopened
from the byte TikTok acknowledged. Nothing holds a whole chunk in memory.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import requests

from functions.tiktok.chunks import MB, ChunkPlan
from functions.tiktok.content_range import ReceivedRange, parse_received, request_header
from functions.tiktok.errors import (
    UploadOffsetMismatchError,
    UploadRejectedError,
    UploadRetriesExhaustedError,
    UploadSourceError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
)
from functions.tiktok.retry import Backoff, parse_retry_after
from functions.tiktok.stream_pump import (
    ChunkBody,
    ReadableStream,
    SourceReadError,
    SourceTooShortError,
    StreamPump,
)
from functions.tiktok.upload_results import UploadResult, UploadTransportError, scrubbed

_log = logging.getLogger(__name__)

VIDEO_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})

OpenStream = Callable[[int], ReadableStream]
OnProgress = Callable[[int, int], None]


class _Retry(Exception):
    """A transient failure of one chunk attempt (internal control flow)."""

    def __init__(self, why: str, *, wait: float | None = None, received: ReceivedRange | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait
        self.received = received


class ChunkUploader:
    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = (3.05, 120.0),
        block_size: int = 1 * MB,
        queue_depth: int = 4,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        min_seconds_per_chunk: float = 2.0,
        stall_timeout: float = 120.0,
    ) -> None:
        """`max_attempts` bounds consecutive failed attempts without progress (TikTok accepting bytes
        resets it); `backoff` sets only the waits between them. The read timeout also covers TikTok's
        wait before answering a large final chunk."""
        if block_size <= 0 or queue_depth <= 0 or max_attempts <= 0:
            raise ValueError("block_size, queue_depth and max_attempts must be positive")
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._block_size = block_size
        self._queue_depth = queue_depth
        self._backoff = backoff or Backoff(max_attempts=max_attempts, base_delay=0.5, max_delay=8.0)
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        self._min_seconds_per_chunk = min_seconds_per_chunk
        self._stall_timeout = stall_timeout

    def upload(
        self,
        upload_url: str,
        plan: ChunkPlan,
        open_stream: OpenStream,
        content_type: str,
        *,
        start_offset: int = 0,
        on_progress: OnProgress | None = None,
        deadline: float | None = None,
        before_final_chunk: Callable[[], bool] | None = None,
    ) -> UploadResult:
        """Send the chunks from `start_offset` (a chunk boundary) to the end, or until `deadline`.

        `deadline` is a time on this uploader's clock (time.monotonic by default) by which it must have
        returned; it stops between chunks when the next one would not fit. `before_final_chunk` is asked
        once before the final chunk first goes: False stops the upload there (`cancelled`), so TikTok never
        holds the whole file. Raises an UploadError subclass when TikTok refuses the upload or transient
        failures exceed the bound.
        """
        if content_type not in VIDEO_CONTENT_TYPES:
            raise ValueError(
                f"content type must be one of {sorted(VIDEO_CONTENT_TYPES)}, not {content_type!r}"
            )
        size = plan.video_size
        if start_offset != size and plan.index_starting_at(start_offset) is None:
            raise ValueError(f"start offset {start_offset} is not a chunk boundary of this plan")
        run = _Run(
            self,
            url=upload_url,
            plan=plan,
            open_stream=open_stream,
            content_type=content_type,
            on_progress=on_progress,
            deadline=deadline,
            start_offset=start_offset,
            before_final_chunk=before_final_chunk,
        )
        try:
            return run.go()
        finally:
            run.close_pump()


class _Run:
    """The state of one upload() call."""

    def __init__(
        self,
        uploader: ChunkUploader,
        *,
        url: str,
        plan: ChunkPlan,
        open_stream: OpenStream,
        content_type: str,
        on_progress: OnProgress | None,
        deadline: float | None,
        start_offset: int,
        before_final_chunk: Callable[[], bool] | None = None,
    ) -> None:
        self.u = uploader
        self.before_final_chunk = before_final_chunk
        self.url = url
        self.plan = plan
        self.open_stream = open_stream
        self.content_type = content_type
        self.on_progress = on_progress
        self.deadline = deadline
        self.acknowledged = start_offset
        self.pump: StreamPump | None = None
        self.puts = 0
        self.retries = 0
        self.failures = 0  # consecutive, without progress
        self.realigns = 0  # consecutive 416s without progress
        self.seconds_per_byte: float | None = None

    def result(self, *, complete: bool, stopped_early: bool = False, cancelled: bool = False) -> UploadResult:
        return UploadResult(
            bytes_acknowledged=self.plan.video_size if complete else self.acknowledged,
            complete=complete,
            puts=self.puts,
            retries=self.retries,
            stopped_early=stopped_early,
            cancelled=cancelled,
        )

    def go(self) -> UploadResult:
        size = self.plan.video_size
        while self.acknowledged < size:
            index = self.plan.index_starting_at(self.acknowledged)
            if index is None:
                raise UploadOffsetMismatchError(
                    f"TikTok holds {self.acknowledged} bytes, which is not a chunk boundary",
                    acknowledged_bytes=self.acknowledged,
                )
            if not self.time_for(self.plan.chunk_length(index)):
                _log.info("upload paused for the deadline", extra={"acknowledged": self.acknowledged})
                return self.result(complete=False, stopped_early=True)
            if index == self.plan.total_chunk_count - 1 and self.before_final_chunk is not None:
                if not self.before_final_chunk():
                    _log.info("final chunk withheld", extra={"acknowledged": self.acknowledged})
                    return self.result(complete=False, cancelled=True)
                self.before_final_chunk = None  # asked once: a retried final chunk goes as well
            try:
                if self.send_chunk(index):
                    return self.result(complete=True)
                continue
            except _Retry as failure:
                retry = failure
            # Handled outside the except block so no exception chain keeps the original (URL-quoting) error.
            self.close_pump()
            if retry.received is not None:
                self.move_to(self.held(retry.received, expected=self.acknowledged))
            stopped = self.back_off(retry)
            if stopped is not None:
                return stopped
        return self.result(complete=True)

    def time_for(self, chunk_length: int) -> bool:
        if self.deadline is None:
            return True
        needed = self.u._min_seconds_per_chunk
        if self.seconds_per_byte is not None:
            needed = max(needed, 1.5 * self.seconds_per_byte * chunk_length)
        return self.u._clock() + needed <= self.deadline

    def open_pump(self, index: int) -> StreamPump:
        if self.pump is None:
            lengths = [self.plan.chunk_length(i) for i in range(index, self.plan.total_chunk_count)]
            try:
                stream = self.open_stream(self.acknowledged)
            except Exception as exc:
                raise _Retry(f"opening the source failed: {type(exc).__name__}") from exc
            self.pump = StreamPump(
                stream,
                lengths,
                block_size=self.u._block_size,
                queue_depth=self.u._queue_depth,
                stall_timeout=self.u._stall_timeout,
            ).start()
        return self.pump

    def close_pump(self) -> None:
        if self.pump is not None:
            self.pump.close()
            self.pump = None

    def send_chunk(self, index: int) -> bool:
        """PUT one chunk; True when TikTok has the whole file. Raises _Retry or an UploadError."""
        first, last = self.plan.ranges[index]
        size = self.plan.video_size
        body = self.open_pump(index).chunk_body(last - first + 1)
        headers = {"Content-Type": self.content_type, "Content-Range": request_header(first, last, size)}
        started = self.u._clock()
        self.puts += 1
        network_failure: UploadTransportError | None = None
        try:
            response = self.u._session.put(
                self.url, data=body, headers=headers, timeout=self.u._timeout, allow_redirects=False
            )
        except SourceTooShortError:
            raise UploadSourceError(
                f"the source ended before byte {size}", acknowledged_bytes=self.acknowledged
            ) from None
        except SourceReadError as exc:
            raise _Retry(str(exc)) from exc
        except requests.RequestException as exc:
            # requests' messages quote the URL, whose query holds the upload token: keep a scrubbed copy
            # only, and raise outside this block so the original is not chained as the context.
            network_failure = scrubbed(exc, self.url)
        if network_failure is not None:
            raise _Retry(f"network failure while sending chunk {index}") from network_failure
        return self.interpret(response, index, body, elapsed=self.u._clock() - started)

    def interpret(self, response: requests.Response, index: int, body: ChunkBody, *, elapsed: float) -> bool:
        """Act on TikTok's answer to chunk `index`; True when it has the whole file."""
        first, last = self.plan.ranges[index]
        size = self.plan.video_size
        status = response.status_code
        received = parse_received(response.headers.get("Content-Range"))
        if received is not None and received.total is not None and received.total != size:
            received = None  # a count for another file says nothing about ours
        _ = response.content  # read the small answer so the connection can be reused
        response.close()

        if status in (200, 201, 206):
            self.seconds_per_byte = max(elapsed, 0.0) / (last - first + 1)  # for the deadline estimate
            if status == 201:
                return True
            reported = self.held(received, expected=last + 1)
            if reported >= size:
                return True
            if reported != last + 1 or not body.complete:
                # TikTok counts differently from what we sent: follow its count from a fresh stream.
                self.close_pump()
            if reported <= self.acknowledged:
                self.no_progress(f"TikTok answered {status} but still holds {reported} bytes")
            self.move_to(reported)
            return False
        if status == 416:
            self.realign(received)
            return self.acknowledged >= size
        if status == 403:
            raise UploadUrlExpiredError(http_status=403, acknowledged_bytes=self.acknowledged)
        if status == 404:
            raise UploadTaskMissingError(http_status=404, acknowledged_bytes=self.acknowledged)
        if status in (408, 429) or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"), time.time())
            raise _Retry(f"HTTP {status} for chunk {index}", wait=wait, received=received)
        raise UploadRejectedError(
            f"HTTP {status} for chunk {index}", http_status=status, acknowledged_bytes=self.acknowledged
        )

    def realign(self, received: ReceivedRange | None) -> None:
        self.close_pump()
        if received is None:
            raise UploadOffsetMismatchError(
                "TikTok answered 416 without saying how many bytes it holds",
                http_status=416,
                acknowledged_bytes=self.acknowledged,
            )
        held = self.held(received, expected=self.acknowledged)
        if held == self.acknowledged:
            self.no_progress(f"TikTok answered 416 while holding exactly {held} bytes")
        _log.info("realigning upload to TikTok's count", extra={"from": self.acknowledged, "to": held})
        self.move_to(held)

    def held(self, received: ReceivedRange | None, *, expected: int) -> int:
        """How many bytes TikTok holds by its answer, decided against `expected` (what it should hold by
        what was sent): either reading of the header that gives `expected` means it holds exactly that.
        Otherwise TikTok's figure decides: the reading that falls on a chunk boundary (or the end), else the
        boundary below it, from where TikTok's next answer tells the rest."""
        if received is None:
            return expected
        if expected in received.held:
            return expected
        size = self.plan.video_size
        _log.warning(
            "TikTok's count differs from what was sent",
            extra={"expected": expected, "readings": list(received.held)},
        )
        for count in received.held:
            if count >= size or self.plan.index_starting_at(count) is not None:
                return min(count, size)
        return self.plan.boundary_at_or_below(min(received.held))

    def no_progress(self, why: str) -> None:
        # TikTok's count contradicts what we sent without moving: once may be a race, twice is a loop.
        self.realigns += 1
        if self.realigns >= 2:
            raise UploadOffsetMismatchError(why, acknowledged_bytes=self.acknowledged)

    def move_to(self, count: int) -> None:
        """Adopt TikTok's count of received bytes as the acknowledged offset."""
        size = self.plan.video_size
        if count < size and self.plan.index_starting_at(count) is None:
            raise UploadOffsetMismatchError(
                f"TikTok holds {count} bytes, which is not a chunk boundary",
                acknowledged_bytes=self.acknowledged,
            )
        progressed = count > self.acknowledged
        self.acknowledged = min(count, size)
        if progressed:
            self.failures = 0
            self.realigns = 0
            if self.on_progress is not None:
                self.on_progress(self.acknowledged, size)

    def back_off(self, retry: _Retry) -> UploadResult | None:
        """Count a failure and wait before the next attempt; a result when the deadline comes first."""
        self.retries += 1
        self.failures += 1
        if self.failures >= self.u._max_attempts:
            raise UploadRetriesExhaustedError(
                f"{self.failures} failed attempts in a row, last: {retry.why}",
                acknowledged_bytes=self.acknowledged,
            ) from retry.__cause__
        wait = retry.wait
        if wait is None or wait > self.u._backoff.max_retry_after:
            wait = self.u._backoff.delay(self.failures - 1, self.u._rng)
        if self.deadline is not None and self.u._clock() + wait > self.deadline:
            return self.result(complete=False, stopped_early=True)
        _log.warning(
            "retrying chunk upload",
            extra={"cause": retry.why, "attempt": self.failures, "wait_seconds": round(wait, 3)},
        )
        self.u._sleep(wait)
        return None

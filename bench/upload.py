"""Upload path throughput: ChunkUploader against a plain streaming copy and against the limit.

Every figure moves the same object (random bytes in moto's S3 server, its own process) to the same
receiver (bench.sink, its own process), in this process, in the same run, interleaved round by round:

- bare GET     one `GetObject Range: bytes=0-` read to the end in 1 MiB blocks and dropped;
- bare PUT     one PUT of the same bytes from memory (the file mmapped from /dev/shm, 1 MiB blocks);
- limit        the slower of the two (no copy between the endpoints can beat it);
- plain copy   the same GET's body handed to `requests.put` as a file object with a length (the
               obvious streaming copy: http.client reads it in small pieces);
- ours         `ChunkUploader` with `MediaStore.open_stream` (one GetObject from the offset, a reader
               thread, chunk PUTs answered 206/201 as TikTok does), 64,000,000-byte and 10 MiB chunks.

Figures are MB/s (10^6 bytes) of payload; ratios are of medians. Timings never assert anything.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.endpoints import MIB, UploadWorld, s3_client

BLOCK = MIB
CHUNK_64MB = 64_000_000
CHUNK_10MIB = 10 * MIB
ORDER_SEED = 20261126


class _MappedBody:
    """A PUT body of a whole file on /dev/shm, read in 1 MiB blocks: `__len__` + `__iter__`, so requests
    sends Content-Length only."""

    def __init__(self, path: Path, block: int = BLOCK) -> None:
        self._path = path
        self._block = block
        self._size = path.stat().st_size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        with self._path.open("rb", buffering=0) as handle:
            while block := handle.read(self._block):
                yield block


class _LengthFile:
    """A file object with a length: what `requests.put(data=...)` needs to send Content-Length."""

    def __init__(self, raw: Any, length: int) -> None:
        self._raw = raw
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        return bytes(self._raw.read(size if size >= 0 else None))


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: dict[str, float]  # per process: moto, sink, this one (all threads)
    first_byte_seconds: float | None = None  # methods that GET: until moto's response headers arrived


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(world: UploadWorld) -> dict[str, float]:
    found = {"client": sum(os.times()[:2])}
    for name, pid in world.pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[name] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
        except (OSError, IndexError, ValueError):
            found[name] = 0.0
    return found


def _quiet(world: UploadWorld, still: float = 0.2, limit: float = 10.0) -> None:
    """Wait until moto and the sink have used no CPU for `still` seconds (moto frees a whole-object GET's
    copy after the response; that work must not land on the next method's clock)."""
    gc.collect()
    deadline = time.monotonic() + limit
    before = _cpu(world)
    while time.monotonic() < deadline:
        time.sleep(still)
        now = _cpu(world)
        if all(now[name] == before.get(name) for name in world.pids):
            return
        before = now


def _timed(world: UploadWorld, action: Callable[[], int]) -> Sample:
    _quiet(world)
    cpu_before = _cpu(world)
    started = time.perf_counter()
    moved = action()
    elapsed = time.perf_counter() - started
    cpu_after = _cpu(world)
    if moved <= 0:
        raise RuntimeError("nothing was moved")
    return Sample(elapsed, {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after})


def bare_get(world: UploadWorld, size: int) -> Sample:
    client = s3_client()

    first_byte: list[float] = []

    def run() -> int:
        started = time.perf_counter()
        body = client.get_object(Bucket=world.bucket, Key=world.key_for(size), Range="bytes=0-")["Body"]
        first_byte.append(time.perf_counter() - started)
        total = 0
        while block := body.read(BLOCK):
            total += len(block)
        body.close()
        if total != size:
            raise RuntimeError(f"bare GET read {total} of {size} bytes")
        return total

    sample = _timed(world, run)
    return Sample(sample.seconds, sample.cpu_seconds, first_byte[0])


def _put_and_check(world: UploadWorld, expected: int, action: Callable[[requests.Session], None]) -> int:
    before = world.sink_stats()
    with requests.Session() as session:
        action(session)
    after = world.sink_stats()
    received = after["bytes"] - before["bytes"]
    if received != expected or after["bad"] != before["bad"]:
        raise RuntimeError(f"the sink received {received} of {expected} bytes ({after})")
    return received


def bare_put(world: UploadWorld, size: int) -> Sample:
    path = world.files[size]

    def send(session: requests.Session) -> None:
        answer = session.put(world.upload_url("bare"), data=_MappedBody(path), timeout=(5, 600))
        answer.raise_for_status()

    return _timed(world, lambda: _put_and_check(world, size, send))


def plain_copy(world: UploadWorld, size: int) -> Sample:
    client = s3_client()

    def send(session: requests.Session) -> None:
        body = client.get_object(Bucket=world.bucket, Key=world.key_for(size), Range="bytes=0-")["Body"]
        try:
            answer = session.put(
                world.upload_url("plain"),
                data=_LengthFile(body, size),
                headers={"Content-Length": str(size)},
                timeout=(5, 600),
            )
        finally:
            body.close()
        answer.raise_for_status()

    return _timed(world, lambda: _put_and_check(world, size, send))


def chunk_uploader(world: UploadWorld, size: int, chunk_size: int) -> Sample:
    from functions.store.media import MediaStore
    from functions.tiktok.chunks import plan_chunks
    from functions.tiktok.upload import ChunkUploader

    media = MediaStore(s3_client())
    plan = plan_chunks(size, chunk_size)
    key = world.key_for(size)

    first_byte: list[float] = []

    def open_stream(offset: int) -> Any:
        started = time.perf_counter()
        stream = media.open_stream(world.bucket, key, offset)
        first_byte.append(time.perf_counter() - started)
        return stream

    def send(session: requests.Session) -> None:
        result = ChunkUploader(session).upload(world.upload_url("ours"), plan, open_stream, "video/mp4")
        if not result.complete or result.puts != plan.total_chunk_count or result.retries:
            raise RuntimeError(f"the upload did not go through cleanly: {result}")

    sample = _timed(world, lambda: _put_and_check(world, size, send))
    return Sample(sample.seconds, sample.cpu_seconds, first_byte[0])


METHODS: dict[str, Callable[[UploadWorld, int], Sample]] = {
    "bare_get": bare_get,
    "bare_put": bare_put,
    "plain_copy": plain_copy,
    "ours_64MB": lambda world, size: chunk_uploader(world, size, CHUNK_64MB),
    "ours_10MiB": lambda world, size: chunk_uploader(world, size, CHUNK_10MIB),
}


def _mb_per_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def _after_first_byte(
    size: int, seconds: dict[str, list[float]], before: dict[str, list[float]]
) -> dict[str, Any]:
    """moto reads the whole stored object before it answers a GET (real S3 streams from the first byte),
    and how long that takes varies from run to run: the same figures without that wait, for the methods
    that GET through the code the Lambda runs (bare GET and ours), say how fast the bytes then move."""
    names = [name for name in ("bare_get", "ours_64MB", "ours_10MiB") if before[name]]
    moving = {
        name: statistics.median(total - wait for total, wait in zip(seconds[name], before[name], strict=True))
        for name in names
    }
    waits = {name: statistics.median(before[name]) for name in names}
    result: dict[str, Any] = {
        "seconds_before_first_byte_median": {name: round(value, 3) for name, value in waits.items()},
        "seconds_before_first_byte_runs": {
            name: [round(value, 3) for value in before[name]] for name in names
        },
        "bare_get_share_before_first_byte": round(
            waits["bare_get"] / statistics.median(seconds["bare_get"]), 3
        ),
        "mb_per_s_median": {name: round(_mb_per_s(size, value), 1) for name, value in moving.items()},
    }
    # When the cores cannot run both legs at once (2 cores, three busy processes), a copy can do no better
    # than one leg after the other: 1 / (1/GET + 1/PUT).
    in_turn = 1 / (moving["bare_get"] + statistics.median(seconds["bare_put"]))
    result["legs_in_turn_mb_per_s"] = round(size * in_turn / 1e6, 1)
    ours = [name for name in names if name != "bare_get"]
    result["ratios"] = {
        f"{name}_vs_bare_get": round(moving["bare_get"] / moving[name], 3) for name in ours
    } | {f"{name}_vs_legs_in_turn": round(1 / (moving[name] * in_turn), 3) for name in ours}
    return result


def measure(world: UploadWorld, size: int, runs: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every method `runs` times, interleaved (round 1: all methods, round 2: all methods...)."""
    for method in METHODS.values():  # warm-up: connections, imports, moto's first read of the object
        method(world, min(size, *world.files))
    seconds: dict[str, list[float]] = {name: [] for name in METHODS}
    before_first_byte: dict[str, list[float]] = {name: [] for name in METHODS}
    cores: dict[str, list[dict[str, float]]] = {name: [] for name in METHODS}
    order = random.Random(ORDER_SEED)
    for round_index in range(runs):
        # A new order each round (seeded, so runs compare): moto's memory churn after a whole-object GET
        # lands on whichever method comes next, and a fixed cycle would always hand it to the same one.
        names = list(METHODS)
        order.shuffle(names)
        for name in names:
            sample = METHODS[name](world, size)
            seconds[name].append(sample.seconds)
            if sample.first_byte_seconds is not None:
                before_first_byte[name].append(sample.first_byte_seconds)
            cores[name].append({k: v / sample.seconds for k, v in sample.cpu_seconds.items()})
            log(f"  upload round {round_index + 1}/{runs} {name}: {_mb_per_s(size, sample.seconds):.0f} MB/s")
    mbps = {name: _mb_per_s(size, statistics.median(values)) for name, values in seconds.items()}
    limit_name = "bare_get" if mbps["bare_get"] <= mbps["bare_put"] else "bare_put"
    limit = mbps[limit_name]
    ratios = {
        f"{ours}_vs_plain_copy": mbps[ours] / mbps["plain_copy"] for ours in ("ours_64MB", "ours_10MiB")
    } | {f"{ours}_vs_limit": mbps[ours] / limit for ours in ("ours_64MB", "ours_10MiB")}
    ratios["ours_64MB_vs_ours_10MiB"] = mbps["ours_64MB"] / mbps["ours_10MiB"]
    return {
        "bytes": size,
        "runs": runs,
        "mb_per_s_median": {name: round(value, 1) for name, value in mbps.items()},
        "mb_per_s_runs": {
            name: [round(_mb_per_s(size, s), 1) for s in values] for name, values in seconds.items()
        },
        "limit": {"is": limit_name, "mb_per_s": round(limit, 1)},
        "after_first_byte": _after_first_byte(size, seconds, before_first_byte),
        # CPU cores each process kept busy (CPU seconds / wall seconds), median per process: with 2 cores,
        # a method whose processes add up to about 2.0 is bound by the CPU, not by either endpoint.
        "cpu_cores_busy": {
            name: {
                proc: round(statistics.median(sample[proc] for sample in samples), 2) for proc in samples[0]
            }
            | {"total": round(statistics.median(sum(sample.values()) for sample in samples), 2)}
            for name, samples in cores.items()
        },
        "cpu_count": os.cpu_count(),
        "ratios": {name: round(value, 3) for name, value in ratios.items()},
        # The targets are the uploader's as the Lambda runs it (DEFAULT_CHUNK_SIZE, 64 MB chunks); the
        # 10 MiB run is the chunk-size comparison (six times the requests), reported in `ratios`.
        "targets": {
            "applies_to": "ours_64MB",
            "ours_vs_plain_copy_at_least": 1.0,
            "ours_vs_limit_at_least": 0.8,
            "met": {
                "vs_plain_copy": ratios["ours_64MB_vs_plain_copy"] >= 1.0,
                "vs_limit": ratios["ours_64MB_vs_limit"] >= 0.8,
            },
        },
    }

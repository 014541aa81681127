"""Peak memory of the upload step, per file size and chunk size, each case in a fresh process.

The child (`python -m bench.memory --child ...`) imports what the upload Lambda imports (boto3 through
functions.store.clients, MediaStore, ChunkUploader), makes one S3 call so botocore's models are loaded,
then resets the kernel's high-water mark (`5` into /proc/self/clear_refs) and runs one upload from moto
to the sink. It reports:

- baseline: VmRSS just before the upload (the imported, warmed-up process);
- peak: VmHWM after the upload, i.e. the most resident memory at any moment of the upload step;
- growth: peak - baseline, what the upload itself added;
- ru_maxrss: the process's lifetime peak (includes imports), for a cross-check.

"Flat" means the growth does not follow the file or the chunk size: the target ratio of the largest
case's peak to the smallest case's peak is about 1.0 (and growth stays far below one chunk).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.endpoints import MIB, UploadWorld
from bench.servers import REPO, child_env

CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(*, moto_url: str, upload_url: str, bucket: str, key: str, size: int, chunk: int) -> dict[str, Any]:
    from bench.endpoints import s3_client, use_endpoint
    from functions.store.media import MediaStore
    from functions.tiktok.chunks import plan_chunks
    from functions.tiktok.upload import ChunkUploader

    use_endpoint(moto_url)
    media = MediaStore(s3_client())
    if media.head(bucket, key)["size"] != size:
        raise RuntimeError(f"{key} is not {size} bytes")
    plan = plan_chunks(size, chunk)
    uploader = ChunkUploader()
    baseline = _status_kib("VmRSS")
    reset = True
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        reset = False  # no reset: VmHWM then includes the imports, which only makes "peak" larger
    result = uploader.upload(
        upload_url, plan, lambda offset: media.open_stream(bucket, key, offset), "video/mp4"
    )
    if not result.complete:
        raise RuntimeError(f"upload incomplete: {result}")
    peak = _status_kib("VmHWM")
    return {
        "bytes": size,
        "chunk_size": chunk,
        "chunks": plan.total_chunk_count,
        "baseline_rss_mib": round(baseline / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "growth_mib": round((peak - baseline) / 1024, 1),
        "ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "high_water_mark_reset": reset,
    }


def run_case(world: UploadWorld, size: int, chunk: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.memory",
        "--child",
        "--moto",
        world.moto_url,
        "--upload-url",
        world.upload_url("memory"),
        "--bucket",
        world.bucket,
        "--key",
        world.key_for(size),
        "--size",
        str(size),
        "--chunk",
        str(chunk),
    ]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, env=child_env(), cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(world: UploadWorld, sizes: list[int], chunks: list[int], log: Any = print) -> dict[str, Any]:
    cases = []
    for size in sizes:
        for chunk in chunks:
            case = run_case(world, size, chunk)
            log(
                f"  memory {size // MIB} MiB / chunk {chunk / 1e6:.1f} MB: peak {case['peak_rss_mib']} MiB, "
                f"growth {case['growth_mib']} MiB"
            )
            cases.append(case)
    peaks = [c["peak_rss_mib"] for c in cases]
    growths = [c["growth_mib"] for c in cases]
    smallest = min(cases, key=lambda c: (c["bytes"], c["chunk_size"]))
    largest = max(cases, key=lambda c: (c["bytes"], c["chunk_size"]))
    return {
        "cases": cases,
        "peak_largest_vs_smallest": round(largest["peak_rss_mib"] / smallest["peak_rss_mib"], 3),
        "peak_max_vs_min": round(max(peaks) / min(peaks), 3),
        "growth_max_mib": max(growths),
        "growth_max_vs_largest_chunk": round(max(growths) * MIB / max(chunks), 3),
        "target": "flat: peak_max_vs_min close to 1.0 and growth far below one chunk",
        "met": max(peaks) / min(peaks) <= 1.15 and max(growths) * MIB < min(chunks),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one upload-step memory case (run by bench.run)")
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--upload-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--chunk", type=int, required=True)
    args = parser.parse_args(argv)
    case = child(
        moto_url=args.moto,
        upload_url=args.upload_url,
        bucket=args.bucket,
        key=args.key,
        size=args.size,
        chunk=args.chunk,
    )
    print(json.dumps(case))
    return 0


if __name__ == "__main__":
    sys.exit(main())

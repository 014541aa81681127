"""The upload benchmarks' world: test files on /dev/shm, moto's S3 server holding them, the sink.

    with upload_world([1 << 30]) as world:
        world.key_for(1 << 30)      # the object of that size in world.bucket
        world.s3()                  # a boto3 S3 client for moto, made the way the Lambda makes it

The objects are random bytes (nothing on the path compresses or deduplicates them), generated on the
spot and never committed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.servers import FAKE_CREDENTIALS, REGION, moto_s3, shm_dir, sink

MIB = 1024 * 1024
BUCKET = "bench-media"
_WRITE_BLOCK = 16 * MIB


def write_random_file(path: Path, size: int, seed: int = 7) -> None:
    """`size` pseudo-random bytes (incompressible), written in 16 MiB blocks."""
    import random

    rng = random.Random(seed)
    with path.open("wb") as out:
        left = size
        while left:
            n = min(_WRITE_BLOCK, left)
            out.write(rng.randbytes(n))
            left -= n


def use_endpoint(url: str | None) -> None:
    """Point boto3 in this process at `url` (AWS_ENDPOINT_URL, honoured by functions.store.clients), or
    back at the default with None."""
    if url is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ.update({"AWS_ENDPOINT_URL": url})
    for key, value in {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}.items():
        os.environ.setdefault(key, value)
    from functions.store.clients import reset_clients

    reset_clients()


def s3_client() -> Any:
    """The S3 client the upload Lambda uses (functions.store.clients), bound to AWS_ENDPOINT_URL."""
    from functions.store.clients import aws_client

    return aws_client("s3")


@dataclass
class UploadWorld:
    folder: Path
    moto_url: str
    sink_url: str
    bucket: str = BUCKET
    files: dict[int, Path] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # "moto", "sink": for CPU accounting

    def key_for(self, size: int) -> str:
        return f"posts/bench/{size}.mp4"

    def upload_url(self, name: str = "put") -> str:
        return f"{self.sink_url}/upload/{name}?upload_token=bench"

    def sink_stats(self) -> dict[str, int]:
        import requests

        answer = requests.get(f"{self.sink_url}/stats", timeout=10)
        answer.raise_for_status()
        return dict(answer.json())


@contextmanager
def upload_world(sizes: list[int], log_dir: Path | None = None) -> Iterator[UploadWorld]:
    folder = Path(tempfile.mkdtemp(prefix="tiktok-bench-", dir=shm_dir()))
    spool = folder / "moto-spool"
    spool.mkdir()
    log = (log_dir or folder) / "moto-server.log"
    try:
        with log.open("wb") as log_file, moto_s3(spool, log_file) as moto, sink() as receiver:
            use_endpoint(moto.url)
            world = UploadWorld(
                folder=folder,
                moto_url=moto.url,
                sink_url=receiver.url,
                pids={"moto": moto.process.pid, "sink": receiver.process.pid},
            )
            client = s3_client()
            client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            for size in sorted(set(sizes)):
                path = folder / f"{size}.bin"
                write_random_file(path, size)
                with path.open("rb") as body:
                    client.put_object(
                        Bucket=BUCKET, Key=world.key_for(size), Body=body, ContentType="video/mp4"
                    )
                world.files[size] = path
            yield world
    finally:
        use_endpoint(None)
        shutil.rmtree(folder, ignore_errors=True)

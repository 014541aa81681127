"""The TikTok client against the sandbox: uploads around every chunk boundary arrive byte-identical,
and the client survives the sandbox's injected faults (5xx, 429, dropped connections, expired URLs)."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from functions.tiktok.chunks import plan_chunks
from functions.tiktok.client import TikTokClient
from functions.tiktok.errors import TikTokQuotaError, TikTokRetryableError, UploadUrlExpiredError
from functions.tiktok.models import PrivacyLevel, VideoPostInfo, VideoSourceInfo
from functions.tiktok.upload import ChunkUploader
from local.sandbox import SandboxServer
from tests.support.world import CLIENT_KEY, CLIENT_SECRET

MIB = 1024 * 1024
CHUNK = 5 * MIB  # TikTok's smallest chunk, so boundaries come often and tests stay small


class Source:
    """An S3-like source: one stream from an offset, read in blocks (counts opens)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.opens: list[int] = []

    def __call__(self, offset: int) -> io.BytesIO:
        self.opens.append(offset)
        return io.BytesIO(self.data[offset:])


def _client_for(sandbox: SandboxServer, creator: str) -> tuple[TikTokClient, str]:
    """A client of the sandbox and a token of `creator` (issued without the consent page)."""
    scopes = ["user.info.basic", "video.upload", "video.publish"]
    token = requests.post(
        f"{sandbox.base_url}/_sandbox/tokens", timeout=5, json={"creator": creator, "scopes": scopes}
    )
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        api_base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        sleep=lambda _s: None,
    )
    return client, str(token.json()["access_token"])


@pytest.fixture
def tiktok(fresh_sandbox: SandboxServer) -> Iterator[tuple[TikTokClient, str]]:
    client, token = _client_for(fresh_sandbox, "sandbox_public")
    yield client, token
    requests.delete(f"{fresh_sandbox.base_url}/_sandbox/faults", timeout=5)


def _faults(sandbox: SandboxServer, **faults: Any) -> None:
    assert requests.post(f"{sandbox.base_url}/_sandbox/faults", json=faults, timeout=5).status_code == 200


def _received(sandbox: SandboxServer, publish_id: str) -> dict[str, Any]:
    return requests.get(f"{sandbox.base_url}/_sandbox/posts/{publish_id}", timeout=5).json()  # type: ignore[no-any-return]


def _upload(
    client: TikTokClient,
    token: str,
    size: int,
    *,
    chunk: int = CHUNK,
    inbox: bool = True,
    uploader: ChunkUploader | None = None,
) -> tuple[str, bytes, Source, Any]:
    data = os.urandom(size)
    plan = plan_chunks(size, chunk)
    source_info = VideoSourceInfo.file_upload(plan)
    if inbox:
        init = client.init_video_inbox(token, source_info)
    else:
        info = VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="boundary test")
        init = client.init_video_direct(token, info, source_info)
    assert init.upload_url
    source = Source(data)
    result = (uploader or ChunkUploader(sleep=lambda _s: None)).upload(
        init.upload_url, plan, source, "video/mp4"
    )
    return init.publish_id, data, source, result


@pytest.mark.parametrize(
    "size",
    [1, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 10 * MIB - 1, 10 * MIB, 10 * MIB + 1, 15 * MIB + 3],
    ids=lambda s: f"{s}B",
)
def test_uploads_around_chunk_boundaries_arrive_byte_identical(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str], size: int
) -> None:
    client, token = tiktok
    publish_id, data, source, result = _upload(client, token, size)
    assert result.complete and result.bytes_acknowledged == size
    received = _received(fresh_sandbox, publish_id)
    assert received["bytes_received"] == size
    assert received["sha256"] == hashlib.sha256(data).hexdigest()
    assert source.opens == [0]  # one stream, cut into chunk bodies
    plan = plan_chunks(size, CHUNK)
    puts = received["upload"]["puts"]
    assert len(puts) == plan.total_chunk_count
    for put, (first, last) in zip(puts, plan.ranges, strict=True):
        headers = {k.lower(): v for k, v in put["headers"].items()}
        assert "transfer-encoding" not in headers  # requests sends both for a generator body
        assert headers["content-length"] == str(last - first + 1)
        assert headers["content-range"] == f"bytes {first}-{last}/{size}"


def test_a_connection_dropped_mid_chunk_resumes_from_what_tiktok_kept(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str]
) -> None:
    client, token = tiktok
    _faults(fresh_sandbox, drop_connection_mid_put=1)
    publish_id, data, source, result = _upload(client, token, 3 * CHUNK + 7)
    assert result.complete and result.retries >= 1
    assert _received(fresh_sandbox, publish_id)["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(source.opens) == 2  # the stream was re-opened at the acknowledged offset


def test_a_connection_dropped_after_a_stored_chunk_realigns_on_416(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str]
) -> None:
    client, token = tiktok
    _faults(fresh_sandbox, drop_connection_after_put=1)
    publish_id, data, _source, result = _upload(client, token, 2 * CHUNK + 1)
    assert result.complete
    received = _received(fresh_sandbox, publish_id)
    assert received["sha256"] == hashlib.sha256(data).hexdigest()
    assert 416 in [p.get("status") for p in received["upload"]["puts"]]


def test_server_errors_on_chunks_are_retried(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str]
) -> None:
    client, token = tiktok
    _faults(fresh_sandbox, error_rate={"/upload/": 0.5}, error_status=503)
    uploader = ChunkUploader(sleep=lambda _s: None, max_attempts=20)
    publish_id, data, _source, result = _upload(client, token, 4 * CHUNK, uploader=uploader)
    assert result.complete and result.retries >= 1
    assert _received(fresh_sandbox, publish_id)["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_expired_upload_url_is_a_typed_error(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str]
) -> None:
    client, token = tiktok
    _faults(fresh_sandbox, expire_upload_urls=True)
    with pytest.raises(UploadUrlExpiredError):
        _upload(client, token, CHUNK)


def test_reads_retry_429_bursts_and_5xx(
    fresh_sandbox: SandboxServer, tiktok: tuple[TikTokClient, str]
) -> None:
    client, token = tiktok
    _faults(fresh_sandbox, status_429_burst={"/v2/post/publish/creator_info/query/": 2})
    assert client.creator_info(token).creator_username == "sandbox_public"
    _faults(fresh_sandbox, status_429_burst={}, error_rate={"/v2/post/publish/creator_info/query/": 1.0})
    with pytest.raises(TikTokRetryableError, match="internal_error"):  # retried, bounded, then typed
        client.creator_info(token)
    calls = requests.get(f"{fresh_sandbox.base_url}/_sandbox/calls", timeout=5).json()
    statuses = calls["statuses"]["/v2/post/publish/creator_info/query/"]
    assert statuses.get("429") == 2 and statuses.get("500", 0) >= 2


def test_a_creator_at_the_daily_cap_is_a_quota_wait(fresh_sandbox: SandboxServer) -> None:
    client, token = _client_for(fresh_sandbox, "sandbox_capped")
    with pytest.raises(TikTokQuotaError) as info:
        client.creator_info(token)
    assert info.value.code == "spam_risk_too_many_posts"

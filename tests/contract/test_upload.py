"""The upload URL against docs/reference/tiktok-api.md §3.2-§3.4 (and §3.1 as PUTs see it)."""

from __future__ import annotations

import hashlib
import socket
from urllib.parse import urlsplit

import pytest
import requests
from sandbox_client import MB, Api, assert_envelope
from sandbox_media import padded_mp4, video


def start(api: Api, data: bytes, chunk: int | None = None, token: str | None = None) -> tuple[str, str, str]:
    token = token or api.token()
    init = api.init_video(token, len(data), chunk_size=chunk or len(data))
    assert init.status_code == 200, init.text
    return token, init.json()["data"]["publish_id"], init.json()["data"]["upload_url"]


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send bytes exactly as written (requests refuses some of what a strict server must handle)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_s3_3_single_chunk_upload_answers_201_with_progress(api: Api) -> None:
    data = video()
    token, publish_id, url = start(api, data)
    answer = api.put(url, data, 0, len(data))
    assert answer.status_code == 201
    assert answer.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    status = assert_envelope(api.status(token, publish_id), 200, "ok")["data"]
    assert status["uploaded_bytes"] == len(data)
    post = api.inspect(publish_id)
    assert post["bytes_received"] == len(data)
    assert post["sha256"] == hashlib.sha256(data).hexdigest()


def test_s3_3_chunks_answer_206_then_201_and_the_last_absorbs_the_tail(api: Api) -> None:
    data = padded_mp4(12 * MB + 123)
    _, publish_id, url = start(api, data, chunk=5 * MB)
    first, second = api.upload(url, data, 5 * MB)
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-{5 * MB - 1}/{len(data)}"
    assert second.status_code == 201  # 7 MB + 123 bytes: the final chunk may exceed chunk_size
    assert second.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    post = api.wait_status(publish_id, "PUBLISH_COMPLETE")
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    assert post["upload"]["chunks_received"] == 2
    assert [p["status"] for p in post["upload"]["puts"]] == [206, 201]


def test_s3_3_a_range_that_does_not_match_progress_is_416(api: Api) -> None:
    data = padded_mp4(12 * MB)
    _, publish_id, url = start(api, data, chunk=5 * MB)
    skipped = api.put(url, data[5 * MB :], 5 * MB, len(data))
    assert_envelope(skipped, 416, "invalid_file_upload")
    assert skipped.headers["Content-Range"] == f"bytes */{len(data)}"  # nothing received yet
    assert api.put(url, data[: 5 * MB], 0, len(data)).status_code == 206
    repeated = api.put(url, data[: 5 * MB], 0, len(data))
    assert_envelope(repeated, 416, "invalid_file_upload")
    assert repeated.headers["Content-Range"] == f"bytes 0-{5 * MB - 1}/{len(data)}"
    assert api.put(url, data[5 * MB :], 5 * MB, len(data)).status_code == 201
    again = api.put(url, data[5 * MB :], 5 * MB, len(data))
    assert_envelope(again, 416, "invalid_file_upload")
    assert api.inspect(publish_id)["bytes_received"] == len(data)


def test_s3_1_chunks_must_follow_the_plan_given_at_init(api: Api) -> None:
    data = padded_mp4(12 * MB)
    _, _, url = start(api, data, chunk=5 * MB)
    assert_envelope(api.put(url, data[: 6 * MB], 0, len(data)), 400, "invalid_file_upload")
    assert_envelope(api.put(url, data[: 5 * MB], 0, len(data) + 1), 400, "invalid_file_upload")


def test_s3_3_content_length_must_match_content_range(api: Api) -> None:
    data = video()
    _, publish_id, url = start(api, data)
    short = api.http.put(
        url,
        data=data[:-1],
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
    )
    assert_envelope(short, 400, "invalid_file_upload")
    assert api.inspect(publish_id)["upload"]["uploaded_bytes"] == 0
    assert api.put(url, data, 0, len(data)).status_code == 201  # the connection and task survive


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/octet-stream"},
        {"Content-Type": "video/mp4", "Content-Range": ""},
        {"Content-Type": "video/mp4", "Content-Range": "bytes=0-10/11"},
        {"Content-Type": "video/mp4", "Content-Range": "bytes 10-0/11"},
    ],
)
def test_s3_2_bad_headers_are_400(api: Api, headers: dict[str, str]) -> None:
    data = video()
    _, _, url = start(api, data)
    sent = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}", **headers}
    assert_envelope(api.http.put(url, data=data, headers=sent), 400, "invalid_file_upload")


def test_s3_2_transfer_encoding_chunked_with_content_length_is_400(api: Api) -> None:
    data = b"x" * 100
    _, publish_id, url = start(api, data)
    parts = urlsplit(url)
    head = (
        f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: video/mp4\r\n"
        f"Content-Range: bytes 0-99/100\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = raw_request(url, head, b"64\r\n" + data + b"\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    puts = api.inspect(publish_id)["upload"]["puts"]
    assert puts[0]["headers"]["Transfer-Encoding"] == "chunked" and puts[0]["status"] == 400


def test_s3_2_chunked_body_without_content_length_is_400(api: Api) -> None:
    data = video()
    _, _, url = start(api, data)
    answer = api.http.put(
        url,
        data=iter([data]),  # a generator makes requests send Transfer-Encoding: chunked
        headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
    )
    assert_envelope(answer, 400, "invalid_file_upload")


def test_s3_2_every_put_records_its_headers(api: Api) -> None:
    data = video()
    _, publish_id, url = start(api, data)
    api.put(url, data, 0, len(data), **{"X-Trace": "abc"})
    put = api.inspect(publish_id)["upload"]["puts"][0]
    assert put["headers"]["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert put["headers"]["Content-Length"] == str(len(data))
    assert put["headers"]["Content-Type"] == "video/mp4"
    assert put["headers"]["X-Trace"] == "abc"
    assert put["status"] == 201 and put["bytes_stored"] == len(data)


def test_s3_4_upload_url_expires_after_one_hour(api: Api) -> None:
    data = padded_mp4(12 * MB)
    _, _, url = start(api, data, chunk=5 * MB)
    assert api.put(url, data[: 5 * MB], 0, len(data)).status_code == 206
    api.advance(3601)
    expired = api.put(url, data[5 * MB :], 5 * MB, len(data))
    assert_envelope(expired, 403, "invalid_file_upload")


def test_s3_3_unknown_upload_is_404(api: Api) -> None:
    data = video()
    _, _, url = start(api, data)
    forged = url.rsplit("upload_token=", 1)[0] + "upload_token=forged"
    assert_envelope(api.put(forged, data, 0, len(data)), 404, "invalid_file_upload")
    assert_envelope(
        api.put(api.base + "/upload/?upload_id=1&upload_token=x", data, 0, len(data)),
        404,
        "invalid_file_upload",
    )


def test_s3_3_upload_url_takes_put_only(api: Api) -> None:
    _, _, url = start(api, video())
    assert_envelope(api.http.get(url), 405, "method_not_allowed")


def test_s3_1_chunks_are_sequential_a_parallel_put_is_416(api: Api) -> None:
    data = padded_mp4(12 * MB)
    _, publish_id, url = start(api, data, chunk=5 * MB)
    parts = urlsplit(url)
    head = (
        f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: video/mp4\r\n"
        f"Content-Range: bytes 0-{5 * MB - 1}/{len(data)}\r\nContent-Length: {5 * MB}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as slow:
        slow.sendall(head.encode() + data[:MB])  # the first chunk is still arriving...
        api.wait_for(publish_id, lambda p: len(p["upload"]["puts"]) == 1)
        parallel = api.put(url, data[: 5 * MB], 0, len(data))
        assert_envelope(parallel, 416, "invalid_file_upload")
        slow.sendall(data[MB : 5 * MB])
        assert slow.recv(100).startswith(b"HTTP/1.1 206")
    assert api.put(url, data[5 * MB :], 5 * MB, len(data)).status_code == 201


def test_faults_connection_dropped_mid_put_keeps_nothing_and_the_chunk_can_be_resent(api: Api) -> None:
    data = padded_mp4(6 * MB)
    _, publish_id, url = start(api, data)
    assert api.faults(drop_connection_mid_put=1).status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.put(url, data, 0, len(data))
    post = api.inspect(publish_id)
    assert post["upload"]["uploaded_bytes"] == 0
    assert post["upload"]["puts"][0]["outcome"] == "injected reset mid-body"
    assert api.put(url, data, 0, len(data)).status_code == 201
    assert api.wait_status(publish_id, "PUBLISH_COMPLETE")["sha256"] == hashlib.sha256(data).hexdigest()


def test_faults_connection_dropped_after_a_stored_chunk_resumes_from_416_progress(api: Api) -> None:
    data = padded_mp4(11 * MB)
    _, publish_id, url = start(api, data, chunk=5 * MB)
    api.faults(drop_connection_after_put=1)
    with pytest.raises(requests.ConnectionError):
        api.put(url, data[: 5 * MB], 0, len(data))
    # The client cannot know the chunk landed; resending it tells it where TikTok is.
    probe = api.put(url, data[: 5 * MB], 0, len(data))
    assert probe.status_code == 416
    assert probe.headers["Content-Range"] == f"bytes 0-{5 * MB - 1}/{len(data)}"
    assert api.put(url, data[5 * MB :], 5 * MB, len(data)).status_code == 201
    assert api.wait_status(publish_id, "PUBLISH_COMPLETE")["sha256"] == hashlib.sha256(data).hexdigest()


def test_faults_expired_upload_urls_answer_403(api: Api) -> None:
    data = video()
    _, _, url = start(api, data)
    api.faults(expire_upload_urls=True)
    assert_envelope(api.put(url, data, 0, len(data)), 403, "invalid_file_upload")
    api.faults(expire_upload_urls=False)
    assert api.put(url, data, 0, len(data)).status_code == 201


def test_faults_5xx_on_upload_then_the_same_chunk_succeeds(api: Api) -> None:
    data = padded_mp4(6 * MB)  # big enough that an unread body would reset the connection
    _, _, url = start(api, data)
    api.faults(error_rate={"/upload/": 1.0}, error_status=503)
    assert_envelope(api.put(url, data, 0, len(data)), 503, "internal_error")
    api.faults(error_rate={})
    assert api.put(url, data, 0, len(data)).status_code == 201

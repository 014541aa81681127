"""The media server stands in for the CloudFront distribution TikTok pulls from: it serves an object version
only through a URL signed with the key pair the stack made at deploy time, before the URL expires, with byte
ranges as CloudFront serves them; TikTok's verification file is the one thing served unsigned."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from functions.posting.media_urls import VERIFICATION_PREFIX, new_signing_key_pair, pull_url
from functions.settings import Env
from local.runtime import LocalAws, MediaServer
from local.runtime.media_server import parse_range

KEY = "posts/acct/video 1.mp4"


def signing(runtime: LocalAws) -> tuple[str, bytes]:
    """(key pair id, private key) as the functions find them: their environment and the stack's secret."""
    env = runtime.function_env("init_post")
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=env[Env.MEDIA_SIGNING_SECRET_ARN])
    return env[Env.MEDIA_KEY_PAIR_ID], secret["SecretString"].encode()


@pytest.fixture
def served(make_runtime: Callable[..., LocalAws]) -> Any:
    runtime = make_runtime()
    with MediaServer(runtime) as media:
        yield runtime, media


def test_the_deployed_key_pair_is_the_one_the_distribution_trusts(served: Any) -> None:
    runtime, media = served
    key_pair_id, private_key = signing(runtime)
    assert list(runtime.cloudfront_public_keys) == [key_pair_id]
    assert b"PRIVATE KEY" in private_key
    assert runtime.function_env("init_post")[Env.MEDIA_BASE_URL] == media.base_url


def test_signed_urls_serve_objects_with_ranges_like_cloudfront(served: Any) -> None:
    runtime, media = served
    data = bytes(range(256)) * 4
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key=KEY, Body=data, ContentType="video/mp4")
    key_pair_id, private_key = signing(runtime)

    def url(key: str = KEY) -> str:
        return pull_url(media.base_url, key, None, key_pair_id=key_pair_id, private_key_pem=private_key)

    assert url().startswith(f"{media.base_url}/posts/acct/video%201.mp4?Expires=")
    whole = requests.get(url(), timeout=5, allow_redirects=False)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Type"] == "video/mp4" and whole.headers["Accept-Ranges"] == "bytes"

    part = requests.get(url(), headers={"Range": "bytes=10-19"}, timeout=5)
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = requests.get(url(), headers={"Range": "bytes=-5"}, timeout=5)
    assert tail.status_code == 206 and tail.content == data[-5:]
    assert requests.get(url(), headers={"Range": "bytes=1000-"}, timeout=5).content == data[1000:]
    beyond = requests.get(url(), headers={"Range": f"bytes={len(data)}-"}, timeout=5)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"

    head = requests.head(url(), timeout=5)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))
    assert requests.get(url("posts/acct/absent.mp4"), timeout=5, allow_redirects=False).status_code == 404
    assert requests.post(url(), data=b"x", timeout=5).status_code == 405


def test_a_url_opens_the_object_version_it_was_signed_for(served: Any) -> None:
    runtime, media = served
    s3 = runtime.client("s3")
    first = s3.put_object(Bucket=runtime.bucket, Key=KEY, Body=b"first cut")["VersionId"]
    s3.put_object(Bucket=runtime.bucket, Key=KEY, Body=b"re-uploaded")
    key_pair_id, private_key = signing(runtime)
    url = pull_url(media.base_url, KEY, first, key_pair_id=key_pair_id, private_key_pem=private_key)
    assert requests.get(url, timeout=5).content == b"first cut"
    unknown = pull_url(
        media.base_url, KEY, "no-such-version", key_pair_id=key_pair_id, private_key_pem=private_key
    )
    assert requests.get(unknown, timeout=5).status_code in (400, 404)


def test_unsigned_expired_tampered_or_foreign_urls_are_refused(served: Any) -> None:
    runtime, media = served
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key=KEY, Body=b"video")
    key_pair_id, private_key = signing(runtime)
    now = int(time.time())

    def signed(**kwargs: Any) -> str:
        options = {"key_pair_id": key_pair_id, "private_key_pem": private_key, "now": now, **kwargs}
        return pull_url(media.base_url, KEY, None, **options)

    assert requests.get(signed(), timeout=5).status_code == 200
    refused = {
        "unsigned": media.url_for(KEY),
        "expired": signed(now=now - 3 * 3600),
        "another object": signed().replace("video%201.mp4", "video%202.mp4"),
        "later expiry": signed().replace(f"Expires={now + 7200}", f"Expires={now + 7201}"),
        "unknown key pair": signed(key_pair_id="K2JCJMDEHXQW5F"),
        "another private key": signed(private_key_pem=new_signing_key_pair()[0]),
    }
    for why, url in refused.items():
        answer = requests.get(url, timeout=5)
        assert answer.status_code == 403, why
    assert media.refusals == len(refused)


def test_the_verification_file_is_served_unsigned_from_its_folder(served: Any) -> None:
    runtime, media = served
    proof = b"tiktok-developers-site-verification=abc123"
    runtime.client("s3").put_object(
        Bucket=runtime.bucket, Key=f"{VERIFICATION_PREFIX}tiktokABC.txt", Body=proof
    )
    answer = requests.get(f"{media.base_url}/tiktokABC.txt", timeout=5)
    assert answer.status_code == 200 and answer.content == proof
    assert requests.get(f"{media.base_url}/tiktokXYZ.txt", timeout=5).status_code == 404
    # That route reaches nothing outside the folder: every path it matches is looked up inside it.
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key="tiktok/elsewhere.txt", Body=b"elsewhere")
    assert requests.get(f"{media.base_url}/tiktok/elsewhere.txt", timeout=5).status_code == 404
    assert requests.get(f"{media.base_url}/tiktok-verification/tiktokABC.txt", timeout=5).status_code == 404
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key="posts/acct/notes.txt", Body=b"private")
    assert requests.get(f"{media.base_url}/posts/acct/notes.txt", timeout=5).status_code == 403


def test_the_clock_is_the_system_clock(make_runtime: Callable[..., LocalAws]) -> None:
    """A URL valid on the virtual clock is valid at the media server, which reads the same clock."""
    runtime = make_runtime()
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key=KEY, Body=b"video")
    key_pair_id, private_key = signing(runtime)
    later = time.time() + 10 * 86400
    with MediaServer(runtime, clock=lambda: later) as media:
        today = pull_url(media.base_url, KEY, None, key_pair_id=key_pair_id, private_key_pem=private_key)
        assert requests.get(today, timeout=5).status_code == 403
        then = pull_url(
            media.base_url, KEY, None, key_pair_id=key_pair_id, private_key_pem=private_key, now=int(later)
        )
        assert requests.get(then, timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-500", (5, 99)),
        ("bytes=-200", (0, 99)),
        ("bytes=100-", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=9-3", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_parse_range(header: str | None, expected: Any) -> None:
    assert parse_range(header, 100) == expected

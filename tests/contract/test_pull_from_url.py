"""PULL_FROM_URL against docs/reference/tiktok-api.md §4 (and cancel, §2.7)."""

from __future__ import annotations

import hashlib
import socket
import time

from sandbox_client import Api, MakeSandbox, assert_envelope
from sandbox_media import video
from sandbox_peers import MediaOrigin, WebhookReceiver

from local.sandbox.pull import is_verified


def test_s4_2_verified_url_is_downloaded_and_published(api: Api, origin: MediaOrigin) -> None:
    data = video()
    url = origin.add("clip.mp4", data)
    token = api.token()
    init = assert_envelope(api.init_pull(token, url), 200, "ok")["data"]
    assert init["publish_id"].startswith("v_pub_url~v2.") and "upload_url" not in init
    post = api.wait_status(init["publish_id"], "PUBLISH_COMPLETE")
    assert post["source"] == "PULL_FROM_URL" and post["bytes_received"] == len(data)
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    status = api.status(token, init["publish_id"]).json()["data"]
    assert status["downloaded_bytes"] == len(data) and "uploaded_bytes" not in status


def test_s4_1_url_outside_the_verified_prefixes_is_url_ownership_unverified(
    api: Api, origin: MediaOrigin
) -> None:
    token = api.token()
    for url in (
        f"{origin.url}/other/clip.mp4",  # same host, outside the prefix
        "https://cdn.example.com/clip.mp4",
        f"{origin.url}/media",  # the prefix without its final slash does not cover itself
        "ftp://127.0.0.1/media/clip.mp4",
    ):
        assert_envelope(api.init_pull(token, url), 403, "url_ownership_unverified")
        assert_envelope(api.init_pull(token, url, inbox=True), 403, "url_ownership_unverified")
    assert origin.requests == []  # nothing was fetched


def test_s4_1_prefix_and_domain_rules() -> None:
    prefixes = ["https://media.example.com/posts/", "static.example.org"]
    assert is_verified("https://media.example.com/posts/a.mp4", prefixes)
    assert not is_verified("https://media.example.com/other/a.mp4", prefixes)
    assert not is_verified("http://media.example.com/posts/a.mp4", prefixes)  # prefix includes the scheme
    # A verified domain covers its subdomains on any path, not its parent.
    assert is_verified("https://static.example.org/x.mp4", prefixes)
    assert is_verified("https://video.static.example.org/deep/x.mp4", prefixes)
    assert not is_verified("https://example.org/x.mp4", prefixes)
    assert not is_verified("https://evilstatic.example.org/x.mp4", prefixes)
    assert not is_verified("not a url", prefixes)


def test_s4_2_redirects_are_not_followed(api: Api, origin: MediaOrigin) -> None:
    target = origin.add("real.mp4", video())
    url = origin.add_redirect("moved.mp4", target)
    publish_id = api.init_pull(api.token(), url).json()["data"]["publish_id"]
    assert api.wait_status(publish_id, "FAILED")["fail_reason"] == "video_pull_failed"
    assert origin.requests == ["/media/moved.mp4"]


def test_s4_2_missing_file_fails_with_video_pull_failed(
    api: Api, origin: MediaOrigin, receiver: WebhookReceiver
) -> None:
    url = f"{origin.url}/media/nothing-here.mp4"
    publish_id = api.init_pull(api.token(), url).json()["data"]["publish_id"]
    post = api.wait_status(publish_id, "FAILED")
    assert post["fail_reason"] == "video_pull_failed"
    assert post["files"][0]["error"] == "HTTP 404 from the media URL"
    receiver.wait_for(lambda items: any(b"video_pull_failed" in r.body for r in items))


def test_s4_2_unreachable_origin_fails_with_video_pull_failed(make_sandbox: MakeSandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    prefix = f"http://127.0.0.1:{dead_port}/media/"
    _, api = make_sandbox(verified_prefixes=[prefix])
    publish_id = api.init_pull(api.token(), prefix + "clip.mp4").json()["data"]["publish_id"]
    assert api.wait_status(publish_id, "FAILED")["fail_reason"] == "video_pull_failed"


def test_s4_2_a_download_slower_than_the_pull_timeout_fails(
    make_sandbox: MakeSandbox, origin: MediaOrigin
) -> None:
    _, api = make_sandbox(pull_timeout=1, time_scale=1.0)
    url, release = origin.add_stall("too-slow.mp4", video())
    publish_id = api.init_pull(api.token(), url).json()["data"]["publish_id"]
    api.wait_for(publish_id, lambda p: p["downloaded_bytes"] > 0)
    time.sleep(1.2)  # the second half arrives after the timeout
    release.set()
    post = api.wait_status(publish_id, "FAILED")
    assert post["fail_reason"] == "video_pull_failed"
    assert post["files"][0]["error"] == "the download did not finish within the pull timeout"


def test_s4_2_a_clock_jump_during_a_download_does_not_time_it_out(api: Api, origin: MediaOrigin) -> None:
    """Virtual time jumps hours while bytes stream in (the workflow's waits); the download itself was quick."""
    data = video()
    url, release = origin.add_stall("jumped.mp4", data)
    publish_id = api.init_pull(api.token(), url).json()["data"]["publish_id"]
    api.wait_for(publish_id, lambda p: p["downloaded_bytes"] > 0)
    api.advance(2 * 3600)
    release.set()
    assert api.wait_status(publish_id, "PUBLISH_COMPLETE")["bytes_received"] == len(data)


def test_s2_7_cancel_during_download(api: Api, origin: MediaOrigin, receiver: WebhookReceiver) -> None:
    url, release = origin.add_stall("slow.mp4", video())
    token = api.token()
    publish_id = api.init_pull(token, url).json()["data"]["publish_id"]
    api.wait_for(publish_id, lambda p: p["downloaded_bytes"] > 0)
    assert api.status(token, publish_id).json()["data"]["status"] == "PROCESSING_DOWNLOAD"
    body = assert_envelope(api.cancel(token, publish_id), 200, "ok")
    assert "data" not in body  # §2.7: only the error object
    release.set()
    post = api.wait_status(publish_id, "FAILED")
    assert post["fail_reason"] == "publish_cancelled"
    events = receiver.wait_for(lambda items: any(b"publish_cancelled" in r.body for r in items))
    assert any(b"post.publish.failed" in r.body for r in events)
    assert_envelope(api.cancel(token, publish_id), 400, "publish_not_cancellable")


def test_s2_7_finished_or_processing_posts_cannot_be_cancelled(api: Api, origin: MediaOrigin) -> None:
    token = api.token()
    publish_id = api.init_pull(token, origin.add("clip.mp4", video())).json()["data"]["publish_id"]
    api.wait_status(publish_id, "PUBLISH_COMPLETE")
    assert_envelope(api.cancel(token, publish_id), 400, "publish_not_cancellable")


def test_s2_7_cancel_checks_the_publish_id(api: Api) -> None:
    token = api.token()
    assert_envelope(api.cancel(token, "v_pub_url~v2.404"), 400, "invalid_publish_id")
    other = api.post_video(api.token("sandbox_private"), video())
    assert_envelope(api.cancel(token, other), 400, "token_not_authorized_for_specified_publish_id")
    assert_envelope(api.call("/v2/post/publish/cancel/", token, {}), 400, "invalid_params")

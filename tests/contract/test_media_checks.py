"""Media checks after the bytes are in (docs/reference/tiktok-api.md §3.5, §3.6) with §5.2 fail reasons."""

from __future__ import annotations

import pytest
from sandbox_client import Api, assert_envelope
from sandbox_media import video
from sandbox_peers import WebhookReceiver

ACCEPTED = [
    ("libx264", "mp4", "h264"),
    ("libx264", "mov", "h264"),
    ("libx265", "mp4", "hevc"),
    ("libvpx", "webm", "vp8"),
    ("libvpx-vp9", "webm", "vp9"),
]


@pytest.mark.parametrize(("encoder", "container", "codec"), ACCEPTED)
def test_s3_5_accepted_containers_and_codecs_publish(
    api: Api, encoder: str, container: str, codec: str
) -> None:
    data = video(encoder, container, frames=24)
    publish_id = api.post_video(api.token(), data)
    post = api.wait_status(publish_id, "PUBLISH_COMPLETE", "FAILED")
    assert post["status"] == "PUBLISH_COMPLETE", post["probe"]
    probe = post["probe"][0]
    assert probe["codec"] == codec
    assert probe["container"] == ("mov" if container == "mov" else container)
    assert (probe["width"], probe["height"], probe["fps"]) == (360, 640, 30.0)


@pytest.mark.parametrize(
    ("data_kind", "reason"),
    [
        ("mpeg4-in-mp4", "file_format_check_failed"),  # codec not H.264/H.265/VP8/VP9
        ("h264-in-mkv", "file_format_check_failed"),  # Matroska is not WebM
        ("avi", "file_format_check_failed"),
        ("garbage", "file_format_check_failed"),
        ("20fps", "frame_rate_check_failed"),
        ("64fps", "frame_rate_check_failed"),
        ("320-wide", "picture_size_check_failed"),
        ("4100-high", "picture_size_check_failed"),
    ],
)
def test_s3_5_media_outside_the_limits_fails_with_tiktoks_reason(
    api: Api, receiver: WebhookReceiver, data_kind: str, reason: str
) -> None:
    data = {
        "mpeg4-in-mp4": lambda: video("mpeg4", "mp4", frames=24),
        "h264-in-mkv": lambda: video("libx264", "matroska", frames=24),
        "avi": lambda: video("mpeg4", "avi", frames=24),
        "garbage": lambda: b"\x00\x01not a video at all" * 100,
        "20fps": lambda: video(fps=20, frames=24),
        "64fps": lambda: video(fps=64, frames=24),
        "320-wide": lambda: video(width=320, frames=24),
        "4100-high": lambda: video(width=360, height=4100, frames=2),
    }[data_kind]()
    token = api.token()
    publish_id = api.post_video(token, data)
    post = api.wait_status(publish_id, "FAILED")
    assert post["fail_reason"] == reason
    status = assert_envelope(api.status(token, publish_id), 200, "ok")["data"]
    assert status == {
        "status": "FAILED",
        "fail_reason": reason,
        "publicaly_available_post_id": [],
        "uploaded_bytes": len(data),
    }
    failed = receiver.wait_for(lambda items: any(b"post.publish.failed" in r.body for r in items))
    assert any(reason.encode() in r.body for r in failed)


def test_s3_5_duration_is_checked_against_the_creators_max(api: Api) -> None:
    api.add_creator(
        username="one_second", nickname="Short", open_id="open-short", max_video_post_duration_sec=1
    )
    data = video(frames=64)  # 2.1 s
    publish_id = api.post_video(api.token("one_second"), data)
    post = api.wait_status(publish_id, "FAILED")
    assert post["fail_reason"] == "duration_check_failed"
    assert post["probe"][0]["duration_sec"] > 2
    # The same file is fine for a creator allowed 600 s.
    assert (
        api.wait_status(api.post_video(api.token(), data), "PUBLISH_COMPLETE", "FAILED")["status"]
        == "PUBLISH_COMPLETE"
    )

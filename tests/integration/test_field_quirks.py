"""The workflow against TikTok as it behaves in the field, not only as documented
(docs/reference/tiktok-in-the-field.md): every sandbox quirk in turn, each post published exactly once or
failed with a reason that names what to do. (tests/integration/test_transfer_fallback.py: how the video is
sent, and what happens when TikTok refuses it.)"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import video, video_of_size
from local.sandbox.quirks import QUIRKS
from tests.support.sandbox_calls import tiktok_calls

MIB = 1024 * 1024
TWO_CHUNKS = 10 * MIB + 1  # with 5 MiB chunks: two chunks (the last one takes the remainder)
PRIVATE = {"mode": "direct", "privacy_level": "SELF_ONLY", "caption": "field"}
PUBLIC = {**PRIVATE, "privacy_level": "PUBLIC_TO_EVERYONE"}
INIT = "/v2/post/publish/video/init/"
ENV = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB)}


def start_system(**sandbox_config: Any) -> EmbeddedSystem:
    running = EmbeddedSystem(env=dict(ENV), virtual_time=True, sandbox_config=sandbox_config).start()
    assert running.connect("sandbox_public", alias="pub").status_code == 200
    return running


@pytest.fixture(scope="module")
def verified() -> Iterator[EmbeddedSystem]:
    running = start_system()
    yield running
    running.stop()


def post_video(
    system: EmbeddedSystem, name: str, media: bytes, settings: dict[str, Any], quirks: list[str]
) -> dict[str, Any]:
    system.sandbox_control("quirks", {"quirks": quirks})
    try:
        system.put_object(f"posts/pub/media/{name}.mp4", media)
        manifest = {"video": f"media/{name}.mp4", **settings}
        system.put_object(f"posts/pub/{name}.json", json.dumps(manifest).encode())
        return system.wait_for_post("pub", f"posts/pub/{name}.json", {"PUBLISH_COMPLETE", "FAILED"})
    finally:
        system.sandbox_control("quirks", {"quirks": []})


def published_once(system: EmbeddedSystem, post: dict[str, Any], media: bytes) -> dict[str, Any]:
    assert post["status"] == "PUBLISH_COMPLETE", (
        post.get("fail_reason"),
        post.get("fail_detail"),
        post["history"],
    )
    received = system.sandbox_post(post["publish_id"])
    assert received["sha256"] == hashlib.sha256(media).hexdigest()
    same = [
        p for p in system.sandbox_posts() if p["sha256"] == received["sha256"] and p["status"] != "FAILED"
    ]
    assert len(same) == 1, "published more than once"
    return received


@pytest.mark.parametrize("quirk", ["none", *sorted(QUIRKS)])
def test_a_two_chunk_video_publishes_once_under_each_quirk(verified: EmbeddedSystem, quirk: str) -> None:
    quirks = [] if quirk == "none" else [quirk]
    media = video_of_size(TWO_CHUNKS, label=f"matrix-{quirk}")
    settings = PUBLIC if quirk in ("no_public_post_id", "none") else PRIVATE
    post = post_video(verified, f"matrix-{quirk}", media, settings, quirks)
    received = published_once(verified, post, media)
    if quirk == "multi_chunk_refused":
        # TikTok refused the chunk plan, not the post: the same post went by PULL_FROM_URL instead.
        assert received["source"] == "PULL_FROM_URL"
        assert post["transfer"]["method"] == "PULL_FROM_URL"
        assert [r["method"] for r in post["transfer"]["refused"]] == ["FILE_UPLOAD"]
        assert "chunk" in post["transfer"]["refused"][0]["message"].lower()
    else:
        assert received["source"] == "FILE_UPLOAD" and "transfer" not in post
    if quirk == "no_public_post_id":
        assert not post.get("tiktok_post_ids")


def test_a_public_listing_to_an_unaudited_app_is_refused_before_init(verified: EmbeddedSystem) -> None:
    """creator_info still lists PUBLIC_TO_EVERYONE to an unaudited app: the app's status decides, not the list."""
    before = tiktok_calls(verified).get(INIT, 0)
    verified.rt.update_env({Env.APP_STATUS: "unaudited"})
    try:
        post = post_video(
            verified, "unaudited-public", video(label="unaudited"), PUBLIC, ["unaudited_lists_public"]
        )
    finally:
        verified.rt.update_env({Env.APP_STATUS: "audited"})
    assert post["status"] == "FAILED"
    assert post["fail_reason"] == "unaudited_client_can_only_post_to_private_accounts"
    assert tiktok_calls(verified).get(INIT, 0) == before


@pytest.fixture(scope="module")
def large_video() -> bytes:
    return video_of_size(150 * 1000 * 1000, label="150 MB")


@pytest.mark.parametrize(
    "quirk", ["none", "content_range_count", "multi_chunk_refused", "final_chunk_repeat_404"]
)
def test_a_150_mb_video_publishes_under_each_upload_quirk(
    verified: EmbeddedSystem, large_video: bytes, quirk: str
) -> None:
    """TikTok's real chunking (64 MB chunks, the last one up to 128 MB): two chunks, or a pull when TikTok
    refuses the chunk plan."""
    verified.rt.update_env({Env.UPLOAD_CHUNK_BYTES: "64000000"})
    try:
        # The bytes differ per run (a trailing `free` box), so each post is its own video to TikTok.
        media = large_video[:-8] + quirk.encode().ljust(8, b"\0")[:8]
        post = post_video(verified, f"large-{quirk}", media, PRIVATE, [] if quirk == "none" else [quirk])
    finally:
        verified.rt.update_env({Env.UPLOAD_CHUNK_BYTES: ENV[Env.UPLOAD_CHUNK_BYTES]})
    received = published_once(verified, post, media)
    _forget(verified, f"posts/pub/media/large-{quirk}.mp4")
    assert received["bytes_received"] == len(media)
    if quirk == "multi_chunk_refused":
        assert received["source"] == "PULL_FROM_URL"
    else:
        assert received["upload"]["total_chunk_count"] == 2


def _forget(system: EmbeddedSystem, key: str) -> None:
    """Every version of a large object gone: moto keeps them in memory."""
    s3 = system.rt.client("s3")
    for version in s3.list_object_versions(Bucket=system.rt.bucket, Prefix=key).get("Versions", []):
        s3.delete_object(Bucket=system.rt.bucket, Key=key, VersionId=version["VersionId"])

"""How a video's bytes reach TikTok (functions/posting/transfer_method.py): by pull once the operator says
TikTok verified the media domain, every URL signed; and when TikTok refuses one method (a domain it has not
verified, a chunk plan it refuses), the other one, recorded on the post; both refused, a failure naming each."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import photo, video, video_of_size
from tests.integration.test_field_quirks import PRIVATE, TWO_CHUNKS, post_video, published_once, start_system


@pytest.fixture(scope="module")
def unverified() -> Iterator[EmbeddedSystem]:
    """TikTok has verified no prefix of the media domain, yet the operator says it has."""
    running = start_system(verified_prefixes=[])
    running.rt.update_env({Env.MEDIA_DOMAIN_VERIFIED: "true"})
    yield running
    running.stop()


def test_a_verified_media_domain_sends_videos_by_pull() -> None:
    system = start_system()
    try:
        system.rt.update_env({Env.MEDIA_DOMAIN_VERIFIED: "true"})
        media = video(label="pulled")
        post = post_video(system, "pulled", media, PRIVATE, [])
        received = published_once(system, post, media)
        assert system.media is not None and system.media.refusals == 0  # every URL TikTok got was signed
    finally:
        system.stop()
    assert received["source"] == "PULL_FROM_URL" and post["prepared"]["source"] == "PULL_FROM_URL"
    assert "Signature=" in received["source_info"]["video_url"]


def test_an_unverified_domain_falls_back_to_file_upload(unverified: EmbeddedSystem) -> None:
    media = video(label="fallback")
    post = post_video(unverified, "fallback", media, PRIVATE, [])
    received = published_once(unverified, post, media)
    assert received["source"] == "FILE_UPLOAD"
    assert post["transfer"]["method"] == "FILE_UPLOAD"
    assert [r["code"] for r in post["transfer"]["refused"]] == ["url_ownership_unverified"]


def test_both_methods_refused_fails_naming_each(unverified: EmbeddedSystem) -> None:
    post = post_video(
        unverified, "nowhere", video_of_size(TWO_CHUNKS, label="nowhere"), PRIVATE, ["multi_chunk_refused"]
    )
    assert post["status"] == "FAILED"
    assert post["fail_reason"] == "transfer_refused"
    assert "url_ownership_unverified" in post["fail_detail"] and "chunk" in post["fail_detail"].lower()
    assert "Verify the media domain" in post["fail_detail"]
    assert [r["method"] for r in post["transfer"]["refused"]] == ["PULL_FROM_URL", "FILE_UPLOAD"]


def test_a_photo_set_from_an_unverified_domain_fails_clearly(unverified: EmbeddedSystem) -> None:
    unverified.put_object("posts/pub/media/p1.jpg", photo(colour=(10, 120, 240)))
    manifest = {"photos": ["media/p1.jpg"], "mode": "direct", "privacy_level": "SELF_ONLY", "title": "t"}
    unverified.put_object("posts/pub/photos.json", json.dumps(manifest).encode())
    post = unverified.wait_for_post("pub", "posts/pub/photos.json", {"PUBLISH_COMPLETE", "FAILED"})
    assert post["status"] == "FAILED"
    assert post["fail_reason"] == "url_ownership_unverified"

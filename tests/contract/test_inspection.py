"""The /_sandbox/ inspection and control endpoints that tests and the demo rely on."""

from __future__ import annotations

import hashlib

from sandbox_client import Api
from sandbox_media import video

from local.sandbox import SandboxServer


def test_posts_describe_what_was_received(api: Api) -> None:
    data = video()
    token = api.token()
    publish_id = api.post_video(token, data, privacy="MUTUAL_FOLLOW_FRIENDS", is_aigc=True)
    api.wait_status(publish_id, "PUBLISH_COMPLETE")
    listing = api.http.get(api.base + "/_sandbox/posts").json()["posts"]
    assert [p["publish_id"] for p in listing] == [publish_id]
    post = listing[0]
    assert post["creator_username"] == "sandbox_public"
    assert post["mode"] == "direct" and post["media_type"] == "VIDEO" and post["source"] == "FILE_UPLOAD"
    assert post["post_info"] == {
        "title": "a #sandbox post",
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "is_aigc": True,
    }
    assert post["source_info"]["video_size"] == len(data)
    assert post["bytes_received"] == len(data)
    assert post["sha256"] == hashlib.sha256(data).hexdigest()
    assert post["status"] == "PUBLISH_COMPLETE" and post["fail_reason"] == ""
    assert post["history"][0]["status"] == "PROCESSING_UPLOAD"
    assert api.http.get(api.base + "/_sandbox/posts/v_pub_file~v2-1.0").status_code == 404


def test_calls_are_counted_per_token_and_endpoint(api: Api) -> None:
    first, second = api.token(), api.token("sandbox_private")
    api.creator_info(first)
    api.creator_info(first)
    api.creator_info(second)
    publish_id = api.post_video(first, video())
    api.status(first, publish_id)
    calls = api.http.get(api.base + "/_sandbox/calls").json()
    assert calls["by_token"][first] == {
        "/upload/": 1,
        "/v2/post/publish/creator_info/query/": 2,
        "/v2/post/publish/status/fetch/": 1,
        "/v2/post/publish/video/init/": 1,
    }
    assert calls["by_token"][second] == {"/v2/post/publish/creator_info/query/": 1}
    assert calls["by_token"]["client:contract-client-key"]["/v2/oauth/token/"] == 2


def test_reset_forgets_everything(api: Api, sandbox: SandboxServer) -> None:
    token = api.token()
    api.post_video(token, video())
    api.advance(100)
    assert api.http.post(api.base + "/_sandbox/reset").json() == {"reset": True}
    assert api.http.get(api.base + "/_sandbox/posts").json()["posts"] == []
    assert api.http.get(api.base + "/_sandbox/calls").json()["total"] == 0
    assert api.creator_info(token).status_code == 401
    assert sandbox.clock.offset == 0
    assert not list(sandbox.app.storage.iterdir())


def test_clock_control_and_in_process_clock_agree(api: Api, sandbox: SandboxServer) -> None:
    before = api.http.get(api.base + "/_sandbox/clock").json()
    sandbox.clock.advance(50)
    after = api.http.post(api.base + "/_sandbox/clock", json={"advance": 10}).json()
    assert after["offset"] == before["offset"] + 60
    assert api.http.post(api.base + "/_sandbox/clock", json={"advance": -1}).status_code == 400
    assert api.http.post(api.base + "/_sandbox/clock", json={"advance": "1"}).status_code == 400


def test_creators_can_be_listed_and_added(api: Api) -> None:
    names = [c["username"] for c in api.http.get(api.base + "/_sandbox/creators").json()["creators"]]
    assert names == [
        "sandbox_public",
        "sandbox_private",
        "sandbox_capped",
        "sandbox_banned",
        "sandbox_unaudited",
    ]
    bad = api.http.post(
        api.base + "/_sandbox/creators", json={"username": "x", "nickname": "X", "open_id": 5}
    )
    assert bad.status_code == 400
    clash = {"username": "copy", "nickname": "C", "open_id": "open-id-public-0001"}
    assert api.http.post(api.base + "/_sandbox/creators", json=clash).status_code == 400


def test_token_shortcut_and_health(api: Api) -> None:
    minted = api.http.post(
        api.base + "/_sandbox/tokens", json={"creator": "sandbox_private", "scopes": ["video.upload"]}
    )
    assert minted.status_code == 200 and minted.json()["scope"] == "video.upload"
    assert api.http.post(api.base + "/_sandbox/tokens", json={"creator": "nobody"}).status_code == 404
    assert api.http.get(api.base + "/_sandbox/health").json()["ok"] is True
    assert api.http.get(api.base + "/_sandbox/nothing").status_code == 404

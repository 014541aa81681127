"""The sandbox's field quirks (local/sandbox/quirks.py): each reported behaviour on its own, and the
documented behaviour when it is off."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_client import MB, Api, assert_envelope
from sandbox_media import padded_mp4, video

from local.sandbox import SandboxConfig, SandboxServer

Make = Callable[..., tuple[SandboxServer, Api]]


def test_an_unknown_quirk_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown quirk\\(s\\): chunky; known: content_range_count"):
        SandboxConfig(quirks=["chunky"])


@pytest.mark.parametrize(
    ("quirks", "ranges"),
    [([], ["bytes 0-5242879/", "bytes 0-"]), (["content_range_count"], ["bytes 0-5242880/", "bytes 0-"])],
)
def test_content_range_is_an_index_or_with_the_quirk_a_count(
    make: Make, quirks: list[str], ranges: list[str]
) -> None:
    _server, api = make(quirks=quirks)
    data = padded_mp4(11 * MB)
    token = api.token()
    init = api.init_video(token, len(data), chunk_size=5 * MB)
    url = init.json()["data"]["upload_url"]
    first = api.put(url, data[: 5 * MB], 0, len(data))
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"{ranges[0]}{len(data)}"
    last = api.put(url, data[5 * MB :], 5 * MB, len(data))
    assert last.status_code == 201
    held = len(data) if quirks else len(data) - 1
    assert last.headers["Content-Range"] == f"bytes 0-{held}/{len(data)}"


def test_multi_chunk_inits_are_refused_with_the_quirk(make: Make) -> None:
    _server, api = make(quirks=["multi_chunk_refused"])
    token = api.token()
    refused = api.init_video(token, 11 * MB, chunk_size=5 * MB)
    body = assert_envelope(refused, 400, "invalid_params")
    assert body["error"]["message"] == "The chunk size is invalid."
    assert api.init_video(token, 4 * MB).status_code == 200  # one chunk still goes


@pytest.mark.parametrize(("quirks", "status"), [([], 416), (["final_chunk_repeat_404"], 404)])
def test_a_final_chunk_sent_again(make: Make, quirks: list[str], status: int) -> None:
    _server, api = make(quirks=quirks)
    data = video()
    token = api.token()
    url = api.init_video(token, len(data)).json()["data"]["upload_url"]
    assert api.put(url, data, 0, len(data)).status_code == 201
    assert api.put(url, data, 0, len(data)).status_code == status


def test_no_public_post_id_with_the_quirk(make: Make) -> None:
    _server, api = make(quirks=["no_public_post_id"])
    token = api.token()
    publish_id = api.post_video(token, video(), privacy="PUBLIC_TO_EVERYONE")
    api.wait_for(publish_id, lambda p: p["publicly_available"])
    data = api.status(token, publish_id).json()["data"]
    assert data["status"] == "PUBLISH_COMPLETE" and data["publicaly_available_post_id"] == []
    deliveries = api.wait_deliveries(
        lambda d: any(x["event"] == "post.publish.publicly_available" for x in d)
    )
    (public,) = [d for d in deliveries if d["event"] == "post.publish.publicly_available"]
    assert "post_id" not in _content(public)


def test_an_unaudited_app_sees_public_options_with_the_quirk_and_is_still_refused(make: Make) -> None:
    _server, api = make(quirks=["unaudited_lists_public"], audited=False)
    token = api.token("sandbox_public")
    options = api.creator_info(token).json()["data"]["privacy_level_options"]
    assert "PUBLIC_TO_EVERYONE" in options
    refused = api.init_video(token, 4 * MB, privacy="PUBLIC_TO_EVERYONE")
    assert_envelope(refused, 403, "unaudited_client_can_only_post_to_private_accounts")


def _content(delivery: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(delivery["payload"]["content"]))


def _events(api: Api, publish_id: str) -> list[str]:
    return [d["event"] for d in api.deliveries() if _content(d).get("publish_id") == publish_id]


@pytest.mark.parametrize("quirks", [[], ["direct_complete_webhook"]])
def test_a_direct_post_ends_with_complete_only_with_the_quirk(make: Make, quirks: list[str]) -> None:
    _server, api = make(quirks=quirks)
    token = api.token()
    publish_id = api.post_video(token, video(), privacy="SELF_ONLY")
    api.wait_status(publish_id, "PUBLISH_COMPLETE")
    if quirks:
        api.wait_deliveries(lambda d: "post.publish.complete" in [x["event"] for x in d])
    assert ("post.publish.complete" in _events(api, publish_id)) is bool(quirks)


@pytest.fixture
def make(make_sandbox: Make) -> Make:
    def build(**overrides: Any) -> tuple[SandboxServer, Api]:
        return make_sandbox(**overrides)

    return build

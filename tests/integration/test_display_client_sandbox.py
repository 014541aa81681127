"""The Display API client against the sandbox: a creator's public videos page by page, videos by id, and the
creator's counts; a token without the scope is told so."""

from __future__ import annotations

import requests

from functions.tiktok.client import TikTokClient
from functions.tiktok.display import creator_stats, list_videos, query_videos
from functions.tiktok.errors import TikTokError
from local.sandbox import SandboxServer
from tests.support.world import CLIENT_KEY, CLIENT_SECRET

SCOPES = ["user.info.basic", "video.publish", "video.list", "user.info.stats"]


def _client(sandbox: SandboxServer, scopes: list[str]) -> tuple[TikTokClient, str]:
    token = requests.post(
        f"{sandbox.base_url}/_sandbox/tokens", timeout=5, json={"creator": "sandbox_public", "scopes": scopes}
    )
    client = TikTokClient(
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        api_base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        sleep=lambda _s: None,
    )
    return client, str(token.json()["access_token"])


def _posted_elsewhere(
    sandbox: SandboxServer, title: str, at: float, privacy: str = "PUBLIC_TO_EVERYONE"
) -> str:
    answer = requests.post(
        f"{sandbox.base_url}/_sandbox/creators/sandbox_public/videos",
        json={"title": title, "created_at": at, "privacy": privacy},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def test_public_videos_page_by_page_newest_first(fresh_sandbox: SandboxServer) -> None:
    client, token = _client(fresh_sandbox, SCOPES)
    now = fresh_sandbox.clock.now()
    ids = [_posted_elsewhere(fresh_sandbox, f"clip {n}", now - 3600 + n) for n in range(25)]
    hidden = _posted_elsewhere(fresh_sandbox, "just me", now - 10, privacy="SELF_ONLY")
    first = list_videos(client, token)
    assert [v.id for v in first.videos] == ids[::-1][:20] and first.has_more
    second = list_videos(client, token, cursor=first.cursor)
    assert [v.id for v in second.videos] == ids[::-1][20:] and not second.has_more
    assert hidden not in {v.id for v in first.videos + second.videos}
    assert first.videos[0].caption == "clip 24" and first.videos[0].share_url.endswith(ids[-1])

    found = query_videos(client, token, [ids[0], hidden, "1234"])
    assert [v.id for v in found] == [ids[0]]
    stats = creator_stats(client, token)
    assert stats["video_count"] == 25 and stats["follower_count"] > 0


def test_a_token_without_the_scope_is_refused_by_name(fresh_sandbox: SandboxServer) -> None:
    client, token = _client(fresh_sandbox, ["user.info.basic", "video.publish"])
    try:
        list_videos(client, token)
    except TikTokError as exc:
        assert exc.code == "scope_not_authorized" and "video.list" in str(exc)
    else:
        raise AssertionError("listing videos without video.list must be refused")

"""The Display API (docs/reference/tiktok-in-the-field.md §6, rate limits docs/reference/tiktok-api.md §7.1):
a
creator's public videos through /v2/video/list/ and /v2/video/query/, the profile and stats fields of
/v2/user/info/, and the control that posts videos "elsewhere"."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import requests
from sandbox_client import CLIENT_KEY, CLIENT_SECRET, REDIRECT_URI, Api, assert_envelope
from sandbox_media import photo, video
from sandbox_peers import MediaOrigin

from local.sandbox import SandboxConfig, SandboxServer
from local.sandbox.clock import SandboxClock

LIST = "/v2/video/list/"
QUERY = "/v2/video/query/"
USER_INFO = "/v2/user/info/"
PUBLIC = "PUBLIC_TO_EVERYONE"
READER = ("user.info.basic", "video.list")
PUBLISHER = ("user.info.basic", "video.publish", "video.list")
EVERY_FIELD = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_html,embed_link,like_count,comment_count,share_count,view_count"
)
COUNTS = ("view_count", "like_count", "comment_count", "share_count")
STATS = "follower_count,following_count,likes_count,video_count"
STILL_AT = 1_800_000_000


@pytest.fixture
def still() -> Iterator[Api]:
    """A sandbox whose clock moves only when advanced, so counts can be compared exactly."""
    config = SandboxConfig(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET, redirect_uris=[REDIRECT_URI])
    with SandboxServer(config, clock=SandboxClock(wall=lambda: float(STILL_AT))) as server:
        yield Api(server.base_url)


def videos(response: requests.Response) -> list[dict[str, Any]]:
    return list(assert_envelope(response, 200, "ok")["data"]["videos"])


def user(response: requests.Response) -> dict[str, Any]:
    return dict(assert_envelope(response, 200, "ok")["data"]["user"])


def ago(api: Api, seconds: int) -> int:
    """Whole unix seconds, `seconds` before the sandbox's now."""
    return int(api.now()) - seconds


def test_display_scopes_are_granted_through_the_consent_page(api: Api) -> None:
    scopes = ["user.info.basic", "user.info.profile", "user.info.stats", "video.list"]
    assert api.tokens(scopes=scopes)["scope"].split(",") == scopes


def test_video_list_holds_the_creators_public_videos_newest_first(api: Api) -> None:
    token = api.token(scopes=READER)
    older = api.post_elsewhere(title="older", created_at=ago(api, 300))
    api.post_elsewhere(title="only me", privacy="SELF_ONLY", created_at=ago(api, 200))
    api.post_elsewhere(title="friends", privacy="MUTUAL_FOLLOW_FRIENDS", created_at=ago(api, 150))
    newer = api.post_elsewhere(title="newer", created_at=ago(api, 100))
    api.add_creator(username="someone_else", nickname="Someone", open_id="open-someone")
    api.post_elsewhere("someone_else", title="not hers")
    data = assert_envelope(api.video_list(token, "id,title,create_time"), 200, "ok")["data"]
    assert data["videos"] == [
        {"id": newer["id"], "title": "newer", "create_time": newer["create_time"]},
        {"id": older["id"], "title": "older", "create_time": older["create_time"]},
    ]
    assert data["has_more"] is False
    assert data["cursor"] == older["create_time"] * 1000


def test_video_list_pages_with_cursor_and_has_more(api: Api) -> None:
    token = api.token(scopes=READER)
    start = ago(api, 10_000)
    public = []
    for n in range(27):
        public.append(api.post_elsewhere(title=f"v{n}", created_at=start + 60 * n)["id"])
        if n % 5 == 0:
            api.post_elsewhere(title=f"private {n}", privacy="SELF_ONLY", created_at=start + 60 * n + 30)
    seen: list[dict[str, Any]] = []
    sizes, more = [], []
    body: dict[str, Any] = {"max_count": 10}
    for _ in range(5):
        data = assert_envelope(api.video_list(token, "id,create_time", body), 200, "ok")["data"]
        seen += data["videos"]
        sizes.append(len(data["videos"]))
        more.append(data["has_more"])
        assert data["cursor"] == data["videos"][-1]["create_time"] * 1000
        body = {"max_count": 10, "cursor": data["cursor"]}
        if not data["has_more"]:
            break
    assert sizes == [10, 10, 7] and more == [True, True, False]
    assert [v["id"] for v in seen] == public[::-1]
    # Past the oldest video: an empty page, and the cursor stays put.
    last = assert_envelope(api.video_list(token, "id", body), 200, "ok")["data"]
    assert last == {"videos": [], "cursor": body["cursor"], "has_more": False}


def test_videos_posted_in_the_same_second_all_come_through_the_pages(api: Api) -> None:
    token = api.token(scopes=READER)
    at = ago(api, 600)
    posted = {api.post_elsewhere(title=f"v{n}", created_at=at)["id"] for n in range(3)}
    seen, body = [], {"max_count": 1}
    for _ in range(3):
        data = assert_envelope(api.video_list(token, "id,create_time", body), 200, "ok")["data"]
        seen += data["videos"]
        body = {"max_count": 1, "cursor": data["cursor"]}
    assert {v["id"] for v in seen} == posted and len(seen) == 3
    assert {v["create_time"] for v in seen} == {at}
    assert data["has_more"] is False


def test_video_list_max_count_defaults_to_10_and_must_be_1_to_20(api: Api) -> None:
    token = api.token(scopes=READER)
    for n in range(21):
        api.post_elsewhere(title=f"v{n}", created_at=ago(api, 1000 - n))
    assert len(videos(api.video_list(token))) == 10  # no body at all
    assert len(videos(api.video_list(token, body={}))) == 10
    assert len(videos(api.video_list(token, body={"max_count": 1}))) == 1
    assert len(videos(api.video_list(token, body={"max_count": 20}))) == 20
    for bad_count in (0, 21, -1, 2.5, "5", True):
        assert_envelope(api.video_list(token, body={"max_count": bad_count}), 400, "invalid_params")
    for bad_cursor in (-1, "1700000000000", 1.5):
        assert_envelope(api.video_list(token, body={"cursor": bad_cursor}), 400, "invalid_params")


def test_video_query_answers_the_creators_own_public_videos_only(api: Api) -> None:
    token = api.token(scopes=READER)
    first = api.post_elsewhere(title="first", created_at=ago(api, 60))["id"]
    second = api.post_elsewhere(title="second")["id"]
    private = api.post_elsewhere(title="private", privacy="SELF_ONLY")["id"]
    api.add_creator(username="someone_else", nickname="Someone", open_id="open-someone")
    foreign = api.post_elsewhere("someone_else", title="foreign")["id"]
    asked = [second, private, foreign, "7000000000000000001", first, second]
    found = videos(api.video_query(token, asked, "id,title"))
    assert found == [{"id": second, "title": "second"}, {"id": first, "title": "first"}]


def test_video_query_takes_1_to_20_ids_as_strings(api: Api) -> None:
    token = api.token(scopes=READER)
    own = api.post_elsewhere(title="mine")["id"]
    twenty = [own] + [str(7 * 10**18 + n) for n in range(19)]
    assert [v["id"] for v in videos(api.video_query(token, twenty))] == [own]
    assert_envelope(api.video_query(token, [*twenty, "7"]), 400, "invalid_params")
    assert_envelope(api.video_query(token, []), 400, "invalid_params")
    assert_envelope(api.video_query(token, [int(own)]), 400, "invalid_params")
    assert_envelope(api.call(f"{QUERY}?fields=id", token, {}), 400, "invalid_params")


@pytest.mark.parametrize("path", [LIST, QUERY])
def test_only_the_requested_fields_come_back_and_an_unknown_one_is_named(api: Api, path: str) -> None:
    token = api.token(scopes=READER)
    own = api.post_elsewhere(title="mine")["id"]
    body = {"filters": {"video_ids": [own]}} if path == QUERY else {}

    def ask(fields: str) -> requests.Response:
        return api.call(f"{path}?fields={fields}", token, body)

    assert set(videos(ask("id,view_count"))[0]) == {"id", "view_count"}
    assert set(videos(ask(EVERY_FIELD))[0]) == set(EVERY_FIELD.split(","))
    unknown = assert_envelope(ask("id,shoe_size"), 400, "invalid_params")
    assert "shoe_size" in unknown["error"]["message"]
    assert_envelope(ask(""), 400, "invalid_params")
    assert_envelope(api.call(path, token, body), 400, "invalid_params")  # no fields parameter at all


def test_a_video_carries_every_documented_field(api: Api) -> None:
    token = api.token(scopes=READER)
    created = ago(api, 3600)
    posted = api.post_elsewhere(
        title="T" * 160, description="A <b>bold</b> claim", created_at=created, duration=42
    )
    (found,) = videos(api.video_list(token, EVERY_FIELD))
    video_id = found["id"]
    assert video_id == posted["id"] and video_id.isdigit()
    assert found["create_time"] == created
    assert found["share_url"] == f"https://www.tiktok.com/@sandbox_public/video/{video_id}"
    assert found["embed_link"] == f"https://www.tiktok.com/embed/v2/{video_id}"
    assert f'cite="{found["share_url"]}"' in found["embed_html"]
    assert "A &lt;b&gt;bold&lt;/b&gt; claim" in found["embed_html"]
    assert found["title"] == "T" * 150  # TikTok's video object: at most 150 characters
    assert found["video_description"] == "A <b>bold</b> claim"
    assert (found["duration"], found["width"], found["height"]) == (42, 1080, 1920)
    assert all(isinstance(found[name], int) for name in COUNTS)
    assert found["view_count"] > 0  # an hour old
    cover = api.http.get(found["cover_image_url"])
    assert cover.status_code == 200 and cover.headers["Content-Type"] == "image/jpeg"
    api.advance(6 * 3600 + 1)
    assert api.http.get(found["cover_image_url"]).status_code == 403  # the link lives 6 hours


def test_video_list_and_query_need_the_video_list_scope(api: Api) -> None:
    token = api.token(scopes=["user.info.basic", "video.publish"])
    refused = assert_envelope(api.video_list(token), 401, "scope_not_authorized")
    assert "video.list" in refused["error"]["message"]
    assert_envelope(api.video_query(token, ["1"]), 401, "scope_not_authorized")
    assert_envelope(api.video_list("act.nonsense"), 401, "access_token_invalid")
    assert_envelope(api.video_query(None, ["1"]), 401, "access_token_invalid")


def test_user_info_profile_and_stats_fields_need_their_scopes(api: Api) -> None:
    with_profile = api.token(scopes=["user.info.basic", "user.info.profile"])
    profile = user(api.user_info(with_profile, "username,bio_description,is_verified,profile_deep_link"))
    assert profile == {
        "username": "sandbox_public",
        "bio_description": "Posts from the sandbox",
        "is_verified": True,
        "profile_deep_link": "https://www.tiktok.com/@sandbox_public",
    }
    refused = assert_envelope(
        api.user_info(with_profile, "display_name,follower_count"), 401, "scope_not_authorized"
    )
    assert "user.info.stats" in refused["error"]["message"]
    with_stats = api.token(scopes=["user.info.basic", "user.info.stats"])
    assert user(api.user_info(with_stats, "video_count")) == {"video_count": 0}
    assert_envelope(api.user_info(with_stats, "video_count,username"), 401, "scope_not_authorized")
    unknown = assert_envelope(api.user_info(with_stats, "shoe_size"), 400, "invalid_params")
    assert "shoe_size" in unknown["error"]["message"]


def test_user_stats_follow_the_public_videos(still: Api) -> None:
    api = still
    token = api.token(scopes=["user.info.basic", "user.info.stats", "video.list"])
    before = user(api.user_info(token, STATS))
    assert before == {"follower_count": 1200, "following_count": 85, "likes_count": 0, "video_count": 0}
    api.post_elsewhere(title="a", created_at=STILL_AT - 86400)
    api.post_elsewhere(title="b", created_at=STILL_AT - 3 * 86400)
    api.post_elsewhere(title="hidden", privacy="SELF_ONLY", created_at=STILL_AT - 86400)
    api.advance(3600)
    listed = videos(api.video_list(token, "view_count,like_count"))
    after = user(api.user_info(token, STATS))
    assert after["video_count"] == 2
    assert after["likes_count"] == sum(v["like_count"] for v in listed) > 0
    assert after["follower_count"] > before["follower_count"]
    assert after["following_count"] == 85


def test_counts_never_go_down_as_the_sandbox_clock_advances(still: Api) -> None:
    api = still
    api.post_elsewhere(title="new")
    api.post_elsewhere(title="a week old", created_at=STILL_AT - 7 * 86400)
    history = []
    for step in (0, 1, 59, 3600, 86400, 30 * 86400):
        api.advance(step)
        token = api.token(scopes=READER)  # the jumps outlive an access token
        history.append({v["id"]: v for v in videos(api.video_list(token, "id," + ",".join(COUNTS)))})
    for earlier, later in pairwise(history):
        for video_id, counts in later.items():
            assert all(counts[name] >= earlier[video_id][name] for name in COUNTS), (earlier, later)
    first, last = history[0], history[-1]
    for video_id, counts in last.items():
        assert counts["view_count"] > first[video_id]["view_count"]
        assert counts["like_count"] > first[video_id]["like_count"]
        assert counts["view_count"] >= counts["like_count"] >= counts["comment_count"]


def test_counts_are_the_same_for_the_same_video_and_time(still: Api) -> None:
    api = still
    token = api.token(scopes=READER)
    ids = [api.post_elsewhere(title=f"v{n}", created_at=STILL_AT - 3600 * (n + 1))["id"] for n in range(3)]
    api.advance(120)
    fields = "id," + ",".join(COUNTS)
    listed = videos(api.video_list(token, fields))
    assert [v["id"] for v in listed] == ids
    assert videos(api.video_list(token, fields)) == listed
    assert videos(api.video_query(token, ids, fields)) == listed


@pytest.mark.parametrize("path", [LIST, QUERY, USER_INFO])
def test_s7_1_display_paths_allow_600_per_minute_per_token(api: Api, path: str) -> None:
    token, other = api.token(scopes=READER), api.token(scopes=READER)

    def ask(bearer: str) -> requests.Response:
        if path == USER_INFO:
            return api.user_info(bearer, "open_id")
        if path == QUERY:
            return api.video_query(bearer, ["1"])
        return api.video_list(bearer)

    for _ in range(600):
        assert ask(token).status_code == 200
    assert_envelope(ask(token), 429, "rate_limit_exceeded")
    assert ask(other).status_code == 200  # per token
    api.advance(60)
    assert ask(token).status_code == 200


def test_faults_and_call_counts_cover_the_display_paths(api: Api) -> None:
    token = api.token(scopes=READER)
    injected = api.faults(error_rate={LIST: 1.0}, status_429_burst={QUERY: 1, USER_INFO: 1})
    assert injected.status_code == 200, injected.text
    assert_envelope(api.video_list(token), 500, "internal_error")
    assert_envelope(api.video_query(token, ["1"]), 429, "rate_limit_exceeded")
    assert_envelope(api.user_info(token, "open_id"), 429, "rate_limit_exceeded")
    assert api.video_query(token, ["1"]).status_code == 200
    calls = api.http.get(api.base + "/_sandbox/calls").json()
    assert calls["by_token"][token] == {LIST: 1, QUERY: 2, USER_INFO: 1}
    assert calls["statuses"][LIST] == {"500": 1}
    assert calls["statuses"][QUERY] == {"200": 1, "429": 1}


def test_a_published_public_post_is_listed_under_its_post_id(api: Api) -> None:
    token = api.token(scopes=PUBLISHER)
    publish_id = api.post_video(token, video(), privacy=PUBLIC, title="launch day")
    private_id = api.post_video(token, video(), privacy="SELF_ONLY")
    post = api.wait_for(publish_id, lambda p: p["publicly_available"])
    api.wait_status(private_id, "PUBLISH_COMPLETE")
    (post_id,) = post["post_ids"]
    status = assert_envelope(api.status(token, publish_id), 200, "ok")["data"]
    assert status["publicaly_available_post_id"] == [post_id]
    (listed,) = videos(api.video_list(token, "id,share_url,title,video_description,duration,width,height"))
    assert listed == {
        "id": str(post_id),
        "share_url": f"https://www.tiktok.com/@sandbox_public/video/{post_id}",
        "title": "launch day",
        "video_description": "launch day",
        "duration": round(post["probe"][0]["duration_sec"]),
        "width": 360,
        "height": 640,
    }
    assert videos(api.video_query(token, [str(post_id)])) == [{"id": str(post_id)}]


def test_a_public_photo_post_is_listed_with_its_title_and_description(api: Api, origin: MediaOrigin) -> None:
    token = api.token(scopes=PUBLISHER)
    urls = [origin.add("wide.jpg", photo("JPEG", 1920, 1080)), origin.add("tall.jpg", photo())]
    init = api.init_photos(
        token, urls, title="two shots", description="seen from the hill", privacy_level=PUBLIC
    )
    post = api.wait_for(
        assert_envelope(init, 200, "ok")["data"]["publish_id"], lambda p: p["publicly_available"]
    )
    (listed,) = videos(api.video_list(token, "id,title,video_description,duration,width,height"))
    assert listed == {
        "id": str(post["post_ids"][0]),
        "title": "two shots",
        "video_description": "seen from the hill",
        "duration": 0,
        "width": 1920,
        "height": 1080,
    }


def test_with_the_no_public_post_id_quirk_the_video_is_still_listed(api: Api) -> None:
    switched = api.http.post(api.base + "/_sandbox/quirks", json={"quirks": ["no_public_post_id"]})
    assert switched.status_code == 200
    token = api.token(scopes=PUBLISHER)
    publish_id = api.post_video(token, video(), privacy=PUBLIC, title="find me")
    post = api.wait_for(publish_id, lambda p: p["publicly_available"])
    status = assert_envelope(api.status(token, publish_id), 200, "ok")["data"]
    assert status["publicaly_available_post_id"] == []
    assert videos(api.video_list(token, "id,title")) == [{"id": str(post["post_ids"][0]), "title": "find me"}]


def test_a_post_taken_down_leaves_the_list(api: Api) -> None:
    token = api.token(scopes=PUBLISHER)
    publish_id = api.post_video(token, video(), privacy=PUBLIC)
    post = api.wait_for(publish_id, lambda p: p["publicly_available"])
    assert len(videos(api.video_list(token))) == 1
    assert api.http.post(f"{api.base}/_sandbox/posts/{publish_id}/take_down").status_code == 200
    assert videos(api.video_list(token)) == []
    assert videos(api.video_query(token, [str(post["post_ids"][0])])) == []


def test_an_inbox_draft_posted_publicly_twice_is_two_videos(api: Api) -> None:
    token = api.token(scopes=("user.info.basic", "video.upload", "video.list"))
    publish_id = api.post_video(token, video(), inbox=True)
    api.wait_status(publish_id, "SEND_TO_USER_INBOX")
    complete = f"{api.base}/_sandbox/posts/{publish_id}/complete"
    assert api.http.post(complete, json={"public": True}).status_code == 200
    api.wait_for(publish_id, lambda p: p["publicly_available"])
    assert api.http.post(complete, json={"public": True}).status_code == 200
    post = api.wait_for(publish_id, lambda p: len(p["post_ids"]) == 2 and p["publicly_available"])
    listed = [v["id"] for v in videos(api.video_list(token))]
    assert listed == [str(post_id) for post_id in reversed(post["post_ids"])]


def test_posting_elsewhere_checks_its_body(api: Api) -> None:
    hidden = api.post_elsewhere(title="t", privacy="SELF_ONLY")
    assert hidden["privacy_level"] == "SELF_ONLY" and hidden["listed"] is False
    assert hidden["id"].isdigit()
    url = f"{api.base}/_sandbox/creators/sandbox_public/videos"
    for bad in (
        {"privacy": "EVERYONE"},
        {"duration": 0},
        {"created_at": api.now() + 3600},
        {"title": 5},
        {"colour": "red"},
    ):
        refused = api.http.post(url, json=bad)
        assert refused.status_code == 400 and "error" in refused.json(), bad
    private_account = f"{api.base}/_sandbox/creators/sandbox_private/videos"
    assert api.http.post(private_account, json={"privacy": PUBLIC}).status_code == 400
    assert api.http.post(f"{api.base}/_sandbox/creators/nobody/videos", json={}).status_code == 404


def test_reset_forgets_videos_posted_elsewhere(api: Api, sandbox: SandboxServer) -> None:
    api.post_elsewhere(title="before the reset")
    sandbox.reset()
    assert videos(api.video_list(api.token(scopes=READER))) == []


def test_videos_posted_elsewhere_count_towards_the_daily_cap_whatever_their_privacy(api: Api) -> None:
    token = api.token(scopes=PUBLISHER)
    for n in range(14):
        api.post_elsewhere(title=f"v{n}", privacy=PUBLIC if n % 2 else "SELF_ONLY", created_at=ago(api, 60))
    api.post_elsewhere(title="yesterday", created_at=ago(api, 25 * 3600))  # outside the 24 hours
    assert assert_envelope(api.init_video(token, 1000), 200, "ok")  # the 15th post of the day
    assert_envelope(api.init_video(token, 1000), 403, "spam_risk_too_many_posts")
    assert_envelope(api.creator_info(token), 200, "spam_risk_too_many_posts")

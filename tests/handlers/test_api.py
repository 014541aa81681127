"""The management API (IAM auth): posts and accounts. Bad input is a 4xx naming the problem, never a 500;
responses never carry a token, a task token or an upload URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.handlers.api import handler
from functions.settings import Env
from functions.store.accounts import Account
from tests.support.events import load_event
from tests.support.lambda_context import FakeContext
from tests.support.world import World

NOW = 1_795_629_600


@pytest.fixture
def api_world(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    sfn = world.client("stepfunctions")
    definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    arn = sfn.create_state_machine(
        name="publish", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    monkeypatch.setenv(Env.STATE_MACHINE_ARN, arn)
    world.wiring.accounts.put(
        Account(
            "pub",
            "open-pub",
            "sandbox_public",
            "Public",
            ["video.publish"],
            "connected",
            preferences={"mode": "inbox"},
            created_at=NOW,
            updated_at=NOW,
        )
    )
    world.wiring.tokens.save(
        "pub",
        access_token="act.secret-access",
        refresh_token="rft.secret-refresh",
        open_id="open-pub",
        scopes=[],
        access_expires_at=NOW + 7200,
        refresh_expires_at=NOW + 86_400,
        now=NOW,
    )
    yield world


# What Prepare records for a video sent by FILE_UPLOAD (functions/posting/prepared.py).
PREPARED_UPLOAD = {
    "source": "FILE_UPLOAD",
    "video": {"key": "posts/pub/c.mp4", "version_id": None, "size": 1000, "content_type": "video/mp4"},
}


def _call(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> tuple[int, Any]:
    route = path
    for name, value in (path_params or {}).items():
        route = route.replace(value, "{" + name + "}")
    event = load_event(
        "http/post_posts",
        routeKey=f"{method} {route}",
        rawPath=path,
        body=raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        queryStringParameters=query,
        pathParameters=path_params,
        deep={
            "requestContext.http.method": method,
            "requestContext.http.path": path,
            "requestContext.routeKey": f"{method} {route}",
        },
    )
    response = handler(event, FakeContext(function_name="api"))
    payload = response.get("body") or "null"
    assert "secret-access" not in payload and "secret-refresh" not in payload
    return response["statusCode"], json.loads(payload)


def test_post_posts_records_and_starts_one_execution(api_world: World) -> None:
    manifest = {"account": "pub", "video": "clip.mp4", "privacy_level": "SELF_ONLY", "caption": "hi"}
    status, post = _call("POST", "/posts", body=manifest)
    assert status == 202 and post["status"] == "RECEIVED"
    assert post["media"]["keys"] == ["posts/pub/clip.mp4"]
    again_status, again = _call("POST", "/posts", body=manifest)  # a retried request: the same post
    assert again["post_id"] == post["post_id"] and again_status == 200
    executions = api_world.client("stepfunctions").list_executions(
        stateMachineArn=api_world.client("stepfunctions").list_state_machines()["stateMachines"][0][
            "stateMachineArn"
        ]
    )["executions"]
    assert [e["name"] for e in executions] == [post["post_id"]]


@pytest.mark.parametrize(
    ("body", "raw", "expected"),
    [
        (None, "not json", "not valid JSON"),
        (None, "[1]", "JSON object"),
        ({"video": "a.mp4", "privacy_level": "SELF_ONLY"}, None, "account: required"),
        (
            {"account": "pub", "video": "a.mp4", "mode": "inbox", "privacy_level": "SELF_ONLY"},
            None,
            "privacy_level applies to direct posts only",
        ),
        (
            {"account": "pub", "video": "../other/a.mp4", "privacy_level": "SELF_ONLY"},
            None,
            "outside posts/pub/",
        ),
        ({"account": "pub", "photos": ["a.jpg"] * 40, "privacy_level": "SELF_ONLY"}, None, "1 to 35 photos"),
    ],
)
def test_a_bad_post_is_a_400_naming_the_problem(
    api_world: World, body: Any, raw: str | None, expected: str
) -> None:
    status, answer = _call("POST", "/posts", body=body, raw_body=raw)
    assert status == 400
    assert expected in json.dumps(answer)


def test_a_post_for_an_unknown_account_is_recorded_as_failed(api_world: World) -> None:
    status, post = _call(
        "POST", "/posts", body={"account": "nobody", "video": "a.mp4", "privacy_level": "SELF_ONLY"}
    )
    assert status == 422 and post["status"] == "FAILED" and post["fail_reason"] == "account_not_connected"
    assert "connect it at /connect?alias=nobody" in post["fail_detail"]


def test_get_and_list_posts_hide_private_fields(api_world: World) -> None:
    _status, post = _call(
        "POST", "/posts", body={"account": "pub", "video": "b.mp4", "privacy_level": "SELF_ONLY"}
    )
    api_world.wiring.posts.update_fields(
        post["post_id"], {"task_token": "tt", "upload_url": "https://u/x"}, NOW
    )
    status, got = _call("GET", f"/posts/{post['post_id']}", path_params={"post_id": post["post_id"]})
    assert status == 200 and "task_token" not in got and "upload_url" not in got
    status, listed = _call("GET", "/posts", query={"account": "pub", "status": "RECEIVED"})
    assert status == 200 and [p["post_id"] for p in listed["posts"]] == [post["post_id"]]
    assert _call("GET", "/posts")[0] == 400  # account is required
    assert _call("GET", "/posts", query={"account": "pub", "status": "DONE"})[0] == 400
    assert _call("GET", "/posts/nope", path_params={"post_id": "nope"})[0] == 404


def _created(api_world: World, **fields: Any) -> dict[str, Any]:
    """A post made through POST /posts, then moved to where a test needs it (as the workflow would)."""
    body = {"account": "pub", "video": "c.mp4", "privacy_level": "SELF_ONLY", "caption": str(fields)}
    _status, post = _call("POST", "/posts", body=body)  # one post per distinct request
    if fields:
        status = fields.pop("status", None)
        if status:
            api_world.wiring.posts.transition(post["post_id"], status, now=NOW, allow_same_rank=True)
        publish_id = fields.pop("publish_id", None)
        if publish_id:
            api_world.wiring.posts.set_publish_id(post["post_id"], publish_id, NOW)
        api_world.wiring.posts.update_fields(post["post_id"], fields, NOW)
    return post


def _delete(post: dict[str, Any]) -> tuple[int, Any]:
    return _call("DELETE", f"/posts/{post['post_id']}", path_params={"post_id": post["post_id"]})


def test_a_post_tiktok_never_saw_is_cancelled_once_then_409(api_world: World) -> None:
    post = _created(api_world)
    status, cancelled = _delete(post)
    assert status == 200 and cancelled["status"] == "CANCELLED"
    status, again = _delete(post)
    assert status == 409 and again["message"] == "the post already ended (CANCELLED)"
    assert len(again["post"]["history"]) == len(cancelled["history"])


def test_a_cancel_gives_back_the_slot_the_post_held(api_world: World) -> None:
    from functions.posting.quota import quota_left
    from functions.posting.reserve import reserve_quota

    post = _created(api_world)
    assert reserve_quota(api_world.wiring, post["post_id"]) == {"reserved": True}
    w = api_world.wiring
    left = quota_left(w.quota, account_id="pub", daily_cap=15, now=w.now())["direct_posts_left"]
    status, _ = _delete(post)
    assert status == 200
    after = quota_left(w.quota, account_id="pub", daily_cap=15, now=w.now() + 1)["direct_posts_left"]
    assert after == left + 1


def test_an_upload_is_cancelled_only_before_its_final_chunk(api_world: World) -> None:
    prepared = {"prepared": PREPARED_UPLOAD}
    before = _created(api_world, status="UPLOADING", publish_id="p-before", **prepared)
    status, cancelled = _delete(before)
    assert status == 200 and cancelled["status"] == "CANCELLED"
    # The upload step asks before the final chunk, and now hears no:
    assert api_world.wiring.posts.mark_final_chunk(before["post_id"], "p-before", NOW) is False

    after = _created(api_world, status="UPLOADING", publish_id="p-after", **prepared)
    assert api_world.wiring.posts.mark_final_chunk(after["post_id"], "p-after", NOW) is True
    status, refused = _delete(after)
    assert status == 409 and "every byte was handed to TikTok" in refused["message"]
    assert refused["post"]["status"] == "UPLOADING"  # it keeps following TikTok


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("SEND_TO_USER_INBOX", {"publish_id": "p-inbox"}, "the draft is in the creator's TikTok inbox"),
        ("INITIALIZING", {"init_started_at": NOW}, "TikTok is being asked to create this post right now"),
        ("PROCESSING", {"publish_id": "p-done"}, "every byte was handed to TikTok"),
    ],
)
def test_what_reached_tiktok_is_not_cancelled(
    api_world: World, status: str, fields: dict[str, Any], expected: str
) -> None:
    prepared = {"prepared": PREPARED_UPLOAD}
    post = _created(api_world, status=status, **fields, **prepared)
    code, refused = _delete(post)
    assert code == 409 and expected in refused["message"], refused
    assert refused["post"]["status"] == status


def test_a_post_whose_record_cannot_be_read_is_refused_with_the_field_named(api_world: World) -> None:
    post = _created(api_world, status="UPLOADING", publish_id="p-odd", prepared={"source": "EMAIL"})
    code, refused = _delete(post)
    assert code == 409, refused
    assert "prepared.source must be FILE_UPLOAD or PULL_FROM_URL" in refused["message"]
    assert refused["post"]["status"] == "UPLOADING"


def test_accounts_show_state_and_quota_but_no_tokens(api_world: World) -> None:
    status, listed = _call("GET", "/accounts")
    assert status == 200 and [a["account_id"] for a in listed["accounts"]] == ["pub"]
    status, account = _call("GET", "/accounts/pub", path_params={"account_id": "pub"})
    assert status == 200 and account["status"] == "connected"
    assert account["quota"]["direct_posts_left"] == 15 and account["quota"]["inbox_shares_left"] == 5
    assert _call("GET", "/accounts/nope", path_params={"account_id": "nope"})[0] == 404


def test_preferences_are_validated_like_a_manifest(api_world: World) -> None:
    path = "/accounts/pub/preferences"
    params = {"account_id": "pub"}
    status, account = _call(
        "PUT",
        path,
        path_params=params,
        body={"mode": "direct", "privacy_level": "SELF_ONLY", "daily_post_cap": 3},
    )
    assert (
        status == 200
        and account["preferences"]["privacy_level"] == "SELF_ONLY"
        and account["daily_post_cap"] == 3
    )
    for bad, expected in (
        ({"mode": "inbox", "privacy_level": "SELF_ONLY"}, "privacy_level applies to direct posts only"),
        ({"video": "x.mp4"}, "not a posting"),
        ({"mode": "inbox", "daily_post_cap": 0}, "daily_post_cap"),
    ):
        status, answer = _call("PUT", path, path_params=params, body=bad)
        assert status == 400 and expected in json.dumps(answer), answer


def test_quota_says_what_each_limit_has_left_and_when_waiting_posts_go(api_world: World) -> None:
    from functions.posting.reserve import reserve_quota

    w = api_world.wiring
    w.accounts.set_daily_post_cap("pub", 1, NOW)
    first = _created(api_world)
    assert reserve_quota(w, first["post_id"]) == {"reserved": True}
    second = _created(api_world, note="second")
    held = reserve_quota(w, second["post_id"])
    assert held["reserved"] is False  # the cap of 1 is taken: it waits
    w.rate_budget.take("pub", "status")

    status, report = _call("GET", "/accounts/pub/quota", path_params={"account_id": "pub"})
    assert status == 200 and report["account_id"] == "pub"
    by_name = {limit["name"]: limit for limit in report["limits"]}
    direct = by_name["direct_posts"]
    assert (direct["limit"], direct["used"], direct["left"], direct["window_seconds"]) == (1, 1, 0, 86_400)
    assert direct["next_free_at"] is not None and direct["next_free_at"] > w.now()
    assert by_name["inbox_pending"]["left"] == 5 and by_name["inbox_pending"]["next_free_at"] is None
    assert (by_name["requests:status"]["used"], by_name["requests:status"]["limit"]) == (1, 30)
    assert by_name["requests:init"]["used"] == 0
    queued = {p["post_id"]: p for p in report["queued"]}
    assert queued[second["post_id"]]["status"] == "WAITING_QUOTA"
    assert queued[second["post_id"]]["expected_at"] == direct["next_free_at"]
    assert first["post_id"] not in queued or queued[first["post_id"]]["status"] != "WAITING_QUOTA"
    assert _call("GET", "/accounts/nope/quota", path_params={"account_id": "nope"})[0] == 404


def test_metrics_say_why_a_post_has_none_yet(api_world: World) -> None:
    post = _created(api_world)
    status, metrics = _call(
        "GET", f"/posts/{post['post_id']}/metrics", path_params={"post_id": post["post_id"]}
    )
    assert status == 200 and metrics["post_id"] == post["post_id"]
    assert metrics["latest"] is None and metrics["history"] == [] and metrics["video_id"] is None
    assert _call("GET", "/posts/nope/metrics", path_params={"post_id": "nope"})[0] == 404


def test_metrics_of_a_post_whose_plan_cannot_be_read_are_refused_with_the_field_named(
    api_world: World,
) -> None:
    post = _created(api_world, after_publish={"planned_at": NOW, "snapshots_due": "tomorrow"})
    path = f"/posts/{post['post_id']}/metrics"
    status, refused = _call("GET", path, path_params={"post_id": post["post_id"]})
    assert status == 409, refused
    assert "after_publish.snapshots_due must be a list of times" in refused["message"]


def test_an_account_without_the_display_scopes_says_which_and_how_to_add_them(api_world: World) -> None:
    status, account = _call("GET", "/accounts/pub", path_params={"account_id": "pub"})
    assert status == 200
    assert account["missing_scopes"] == ["user.info.basic", "video.upload", "video.list", "user.info.stats"]
    assert account["upgrade_url"] == "https://api.example.com/connect?alias=pub"


def test_every_error_body_has_one_shape(api_world: World) -> None:
    """`message` says what is wrong, alone; `problems` lists them when there are several. Powertools' own
    answers (an unknown route, a ServiceError) carry no `statusCode` of their own."""
    assert _call("GET", "/posts/nope", path_params={"post_id": "nope"}) == (
        404,
        {"message": "no post 'nope'"},
    )
    assert _call("PATCH", "/posts") == (404, {"message": "no route PATCH /posts"})
    assert _call("GET", "/posts") == (400, {"message": "the query parameter 'account' is required"})
    assert _call("POST", "/posts", raw_body="not json") == (400, {"message": "the body is not valid JSON"})
    status, one = _call("POST", "/posts", body={"video": "a.mp4", "privacy_level": "SELF_ONLY"})
    assert status == 400 and set(one) == {"message"}
    assert one["message"].startswith("the post is not valid: account: required")
    several = {"account": "pub", "video": "a.mp4", "privacy_level": "NOBODY", "caption": 5}
    status, many = _call("POST", "/posts", body=several)
    assert status == 400 and set(many) == {"message", "problems"}, many
    assert many["message"] == f"the post is not valid ({len(many['problems'])} problems)"
    assert len(many["problems"]) > 1 and all(isinstance(p, str) and p for p in many["problems"])
    status, failed = _call("POST", "/posts", body={"account": "nobody", "video": "a.mp4"})
    assert status == 422 and failed["message"] == failed["fail_detail"]


def test_preferences_errors_speak_of_preferences(api_world: World) -> None:
    path, params = "/accounts/pub/preferences", {"account_id": "pub"}
    status, answer = _call("PUT", path, path_params=params, body={"mode": "sideways"})
    assert status == 400 and set(answer) == {"message"}
    assert answer["message"].startswith("the preferences are not valid: mode")
    status, answer = _call("PUT", path, path_params=params, body={"video": "x.mp4", "photos": ["y.jpg"]})
    assert status == 400 and answer["message"] == "the preferences are not valid (2 problems)"
    assert sorted(answer["problems"]) == [
        "photos: is not a posting preference",
        "video: is not a posting preference",
    ]
    status, answer = _call("PUT", path, path_params=params, raw_body="[]")
    assert status == 400 and answer == {"message": "the body must be a JSON object"}
    assert _call("PUT", "/accounts/nope/preferences", path_params={"account_id": "nope"}, body={}) == (
        404,
        {"message": "no account 'nope'"},
    )
    for bad in ({"mode": "sideways"}, {"video": "x.mp4"}, {"daily_post_cap": 0, "mode": "inbox"}):
        assert "not a valid post" not in _call("PUT", path, path_params=params, body=bad)[1]["message"]


def test_the_same_content_again_is_the_existing_post_and_says_how_to_post_it_again(api_world: World) -> None:
    manifest = {"account": "pub", "video": "same.mp4", "privacy_level": "SELF_ONLY", "caption": "again"}
    status, first = _call("POST", "/posts", body=manifest)
    assert status == 202 and "message" not in first
    status, again = _call("POST", "/posts", body=manifest)
    assert status == 200 and again["post_id"] == first["post_id"]
    assert "already has a post made from this same request" in again["message"]
    assert '"client_token"' in again["message"]
    status, other = _call("POST", "/posts", body={**manifest, "client_token": "second time"})
    assert status == 202 and other["post_id"] != first["post_id"] and "message" not in other
    # A request that failed (its account was not connected) says so again, with the same advice.
    missing = {"account": "nobody", "video": "a.mp4", "privacy_level": "SELF_ONLY"}
    assert _call("POST", "/posts", body=missing)[0] == 422
    status, failed_again = _call("POST", "/posts", body=missing)
    assert status == 422 and failed_again["status"] == "FAILED" and "client_token" in failed_again["message"]

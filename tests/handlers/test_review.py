"""The review page's handlers (GET/POST /review/{token}) and the AwaitReview step, against moto with real
task-token resumes. Every rule of TikTok's checklist is kept by the server: a crafted POST that tries to
bypass one is refused with the rule named, and the post stays waiting, its workflow untouched."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from functions import wiring
from functions.handlers.register_review import handler as register_handler
from functions.handlers.review import handler as review_handler
from functions.review.links import sign
from functions.settings import Env, Settings
from functions.store.accounts import Account
from functions.store.events import EventBus
from functions.tiktok.errors import TikTokQuotaError
from functions.tiktok.models import CreatorInfo
from tests.support.events import load_event
from tests.support.executions import parked_execution
from tests.support.lambda_context import FakeContext
from tests.support.world import BUCKET, World

NOW = int(time.time())
BASE = "https://api.example.com/review"
PUBLIC = CreatorInfo(
    creator_avatar_url="https://p16.tiktokcdn.example/avatar.jpeg",
    creator_username="sandbox_public",
    creator_nickname="Sandbox Public",
    privacy_level_options=["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    max_video_post_duration_sec=600,
)
PRIVATE = CreatorInfo(
    creator_username="sandbox_private",
    creator_nickname="Sandbox Private",
    privacy_level_options=["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    comment_disabled=True,
    duet_disabled=True,
    stitch_disabled=True,
    max_video_post_duration_sec=600,
)


@dataclass
class FakeTikTok:
    """creator_info as TikTok answers it now; counts every call (the page must ask on every load)."""

    creator: CreatorInfo = PUBLIC
    error: Exception | None = None
    calls: int = 0

    def creator_info(self, _token: str) -> CreatorInfo:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.creator


class FakeAccessTokens:
    def for_account(self, _account_id: str) -> str:
        return "act.review-test"


@dataclass
class Events:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.sent.extend(Entries)
        return {"FailedEntryCount": 0}


class MovableClock:
    """The functions' clock, which a test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Review:
    world: World
    tiktok: FakeTikTok
    events: Events
    monkeypatch: pytest.MonkeyPatch
    clock: MovableClock

    @property
    def w(self) -> wiring.Wiring:
        return wiring.for_settings(Settings.from_env())

    def set_env(self, **values: str) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, value)
        wiring.for_settings.cache_clear()


@pytest.fixture
def review(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Review]:
    key_arn = world.client("secretsmanager").create_secret(
        Name=f"review-link-key-{secrets.token_hex(4)}", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    for name, value in {
        Env.REVIEW_LINK_KEY_ARN: key_arn,
        Env.REVIEW_BASE_URL: BASE,
        Env.REVIEW_EXPIRY_SECONDS: "3600",
        Env.APP_STATUS: "audited",
    }.items():
        monkeypatch.setenv(name, value)
    tiktok, events = FakeTikTok(), Events()
    clock = MovableClock()
    ports = {
        "tiktok": tiktok,
        "access_tokens": FakeAccessTokens(),
        "event_bus": EventBus(client=events),  # type: ignore[arg-type]
        "clock": clock,
    }
    world = replace(world, wiring=wiring.Wiring(world.settings, **ports))
    world.wiring.accounts.put(
        Account("pub", "open-pub", "sandbox_public", "Sandbox Public", ["video.publish"], "connected")
    )
    with wiring.overrides(**ports):
        yield Review(world, tiktok, events, monkeypatch, clock)


def _post(r: Review, post_id: str, *, kind: str = "video", duration: float = 12.5, **settings: Any) -> None:
    media: dict[str, Any]
    if kind == "video":
        base = {"video": "posts/pub/a.mp4", "mode": "direct", "caption": "from the author #tag", **settings}
        media = {
            "video": {
                "key": "posts/pub/a.mp4",
                "version_id": "v1",
                "size": 1000,
                "content_type": "video/mp4",
                "probe": {"container": "mp4", "duration_seconds": duration},
            }
        }
        keys = ["posts/pub/a.mp4"]
    else:
        keys = ["posts/pub/p0.jpg", "posts/pub/p1.jpg"]
        base = {"photos": keys, "mode": "direct", "title": "two photos", **settings}
        photo = {"version_id": None, "size": 1000, "format": "jpeg", "width": 1080, "height": 1350}
        media = {"photos": [{"key": k, **photo} for k in keys]}
    r.world.wiring.posts.create(
        {
            "post_id": post_id,
            "account_id": "pub",
            "created_at": NOW,
            "status": "RECEIVED",
            "kind": kind,
            "mode": "direct",
            "settings": base,
            "media": {"bucket": BUCKET, "keys": keys},
            "prepared": {
                **media,
                "source": "FILE_UPLOAD",
                "disable_comment": True,
                "disable_duet": True,
                "disable_stitch": True,
                "notes": [],
                "creator": {"username": "sandbox_public", "nickname": "Sandbox Public"},
            },
            "review": {"reason": "its author chose no privacy level"},
        },
        NOW,
    )


def _parked_execution(r: Review, post_id: str) -> tuple[str, str]:
    """A real execution waiting on a task token (moto runs it): (execution ARN, token)."""
    return parked_execution(r.world, post_id)


def _execution(r: Review, arn: str, *, settle: bool = True) -> dict[str, Any]:
    sfn = r.world.client("stepfunctions")
    for _ in range(250 if settle else 1):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.02)
    return sfn.describe_execution(executionArn=arn)  # type: ignore[no-any-return]


def _waiting(r: Review, post_id: str = "p1", **post: Any) -> tuple[str, str]:
    """A post parked in AWAITING_REVIEW by the real step handler: (execution ARN, review URL)."""
    _post(r, post_id, **post)
    arn, token = _parked_execution(r, post_id)
    register_handler({"post_id": post_id, "task_token": token}, FakeContext(function_name="register_review"))
    stored = r.w.posts.get(post_id)
    assert stored is not None and stored["status"] == "AWAITING_REVIEW"
    return arn, str(stored["review"]["url"])


def _http(method: str, url: str, form: Any = None, *, base64_body: bool = True) -> dict[str, Any]:
    split = urlsplit(url)
    token = split.path.rsplit("/", 1)[1]
    query = dict(q.split("=", 1) for q in split.query.split("&") if q) if split.query else None
    body = None
    if form is not None:
        encoded = form if isinstance(form, str) else urlencode(form, doseq=True)
        body = base64.b64encode(encoded.encode()).decode() if base64_body else encoded
    event = load_event(
        "http/get_connect",
        routeKey=f"{method} /review/{{token}}",
        rawPath=split.path,
        rawQueryString=split.query,
        queryStringParameters=query,
        pathParameters={"token": token},
        body=body,
        isBase64Encoded=bool(body) and base64_body,
        deep={
            "requestContext.http.method": method,
            "requestContext.http.path": split.path,
            "requestContext.routeKey": f"{method} /review/{{token}}",
            "headers.content-type": "application/x-www-form-urlencoded",
        },
    )
    return review_handler(event, FakeContext(function_name="review"))  # type: ignore[no-any-return]


def _form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "caption": "edited caption",
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "consent": "on",
        "action": "post",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _text(response: dict[str, Any]) -> str:
    return str(response.get("body") or "").replace("&#x27;", "'")


# ------------------------------------------------------------------------------------ AwaitReview step


def test_the_step_parks_the_post_with_a_signed_expiring_link_and_announces_it(review: Review) -> None:
    _arn, url = _waiting(review)
    post = review.w.posts.get("p1")
    assert post is not None
    assert url.startswith(f"{BASE}/p1.") and post["task_token"] not in url
    assert review.w.settings.review_link_key_arn not in url
    assert post["review"]["expires_at"] == post["review"]["issued_at"] + 3600
    assert post["history"][-1]["note"].startswith("waits for review: its author chose no privacy level")
    (event,) = review.events.sent
    assert event["DetailType"] == "Post Awaiting Review"
    detail = json.loads(event["Detail"])
    assert detail["review_url"] == url and "task_token" not in detail


def test_a_retried_step_keeps_its_link_and_takes_the_new_token(review: Review) -> None:
    _arn, url = _waiting(review)
    register_handler({"post_id": "p1", "task_token": "token-2"}, FakeContext())
    post = review.w.posts.get("p1")
    assert post is not None and post["task_token"] == "token-2" and post["review"]["url"] == url
    assert len(review.events.sent) == 1


def test_a_post_cancelled_before_its_review_ends_the_wait_at_once(review: Review) -> None:
    _post(review, "p1")
    arn, token = _parked_execution(review, "p1")
    review.w.posts.transition("p1", "CANCELLED", now=NOW, note="cancelled through the API")
    register_handler({"post_id": "p1", "task_token": token}, FakeContext())
    assert _execution(review, arn)["status"] == "FAILED"
    assert review.events.sent == []


# ------------------------------------------------------------------------------------------------- GET


def test_the_page_asks_creator_info_on_every_load_and_starts_with_no_choice(review: Review) -> None:
    _arn, url = _waiting(review)
    first = _http("GET", url)
    assert first["statusCode"] == 200 and review.tiktok.calls == 1
    _http("GET", url)
    assert review.tiktok.calls == 2  # never a cached copy
    html = _text(first)
    assert "Sandbox Public" in html and "@sandbox_public" in html
    assert '<option value="" selected>Select…</option>' in html
    assert " checked" not in html  # interactions, disclosure and consent all start unticked
    assert ">from the author #tag</textarea>" in html  # the author's caption, editable
    headers = first["headers"]
    assert headers["Cache-Control"] == "no-store"
    assert "https://p16.tiktokcdn.example" in headers["Content-Security-Policy"]
    media_src = headers["Content-Security-Policy"].split("media-src ")[1].split(";")[0]
    assert "s3" in media_src and "amazonaws.com" in media_src  # the operator's own bucket


def test_a_post_whose_record_cannot_be_read_gets_a_page_naming_the_field(review: Review) -> None:
    _arn, url = _waiting(review)
    review.world.wiring.posts.update_fields(
        "p1", {"prepared": {"source": "FILE_UPLOAD", "video": "a.mp4"}}, NOW
    )
    for answer in (_http("GET", url), _http("POST", url, _form())):
        assert answer["statusCode"] == 409
        page = _text(answer)
        assert "This post cannot be reviewed:" in page and "prepared.video must be an object" in page


def test_a_link_to_a_review_the_record_cannot_say_is_not_valid(review: Review) -> None:
    _arn, url = _waiting(review)
    review.world.wiring.posts.update_fields("p1", {"review": {"url": url, "expires_at": "soon"}}, NOW)
    for answer in (_http("GET", url), _http("POST", url, _form())):
        assert answer["statusCode"] == 404 and "not valid" in _text(answer)
    assert review.w.posts.get("p1")["status"] == "AWAITING_REVIEW"  # type: ignore[index]


def test_creator_info_errors_disable_post_and_say_try_again(review: Review) -> None:
    _arn, url = _waiting(review)
    review.tiktok.error = TikTokQuotaError("spam_risk_too_many_posts")
    response = _http("GET", url)
    assert response["statusCode"] == 503
    html = _text(response)
    assert "TikTok says this account cannot post right now" in html and "Try again later" in html
    assert 'value="post" disabled' in html
    assert "Sandbox Public" in html  # still names the account, from what Prepare saw


def test_a_video_longer_than_the_creators_limit_disables_post(review: Review) -> None:
    review.tiktok.creator = CreatorInfo(**{**PUBLIC.model_dump(), "max_video_post_duration_sec": 10})
    _arn, url = _waiting(review)
    html = _text(_http("GET", url))
    assert "The video lasts 12.5 seconds; this account may post videos of at most 10 seconds." in html
    assert 'value="post" disabled' in html


def test_an_unaudited_app_offers_only_me_and_refuses_public_accounts(review: Review) -> None:
    review.set_env(APP_STATUS="unaudited")
    review.tiktok.creator = PRIVATE
    _arn, url = _waiting(review)
    html = _text(_http("GET", url))
    assert 'value="SELF_ONLY"' in html and "FOLLOWER_OF_CREATOR" not in html
    assert "Only me is the only audience this account can post to now" in html
    review.tiktok.creator = PUBLIC
    html = _text(_http("GET", url))
    assert "it can post only to private accounts" in html and 'value="post" disabled' in html


def test_photo_posts_show_every_photo_and_comment_only(review: Review) -> None:
    _arn, url = _waiting(review, kind="photo")
    html = _text(_http("GET", url))
    assert html.count('alt="Photo ') == 2
    assert 'id="allow_comment"' in html and 'id="allow_duet"' not in html and 'id="allow_stitch"' not in html


# ------------------------------------------------------------------------------------------------ POST


def test_posting_stores_the_choices_and_resumes_the_workflow(review: Review) -> None:
    arn, url = _waiting(review)
    response = _http(
        "POST",
        url,
        _form(allow_comment="on", allow_stitch="on", disclose="on", brand_organic="on", branded_content="on"),
    )
    assert response["statusCode"] == 303 and response["headers"]["Location"] == f"{url}?posted=1"
    described = _execution(review, arn)
    assert described["status"] == "SUCCEEDED", described
    post = review.w.posts.get("p1")
    assert post is not None and post["status"] == "SCHEDULED" and "task_token" not in post
    settings = post["settings"]
    assert settings["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS" and settings["caption"] == "edited caption"
    assert (settings["allow_comment"], settings["allow_duet"], settings["allow_stitch"]) == (
        True,
        False,
        True,
    )
    assert settings["brand_organic"] is True and settings["branded_content"] is True
    prepared = post["prepared"]
    assert (prepared["disable_comment"], prepared["disable_duet"], prepared["disable_stitch"]) == (
        False,
        True,
        False,
    )
    decision = post["review"]["decision"]
    assert decision["declaration"] == (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
    )
    assert decision["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS" and decision["decided_at"] >= NOW
    assert review.tiktok.calls == 1  # fresh creator_info at the moment of posting
    after = _http("GET", response["headers"]["Location"])
    assert after["statusCode"] == 200
    html = _text(after)
    assert "your choices are saved" in html and "Approved. It is being sent to TikTok." in html
    assert "may take a few minutes" in html and 'http-equiv="refresh"' in html
    assert review.tiktok.calls == 1  # the status view does not spend creator_info


def test_a_plain_text_form_body_works_too(review: Review) -> None:
    arn, url = _waiting(review)
    response = _http("POST", url, _form(), base64_body=False)
    assert response["statusCode"] == 303
    assert _execution(review, arn)["status"] == "SUCCEEDED"


CRAFTED = [
    pytest.param(_form(privacy_level=None), "Choose who can view this post.", id="no-privacy"),
    pytest.param(_form(privacy_level=""), "Choose who can view this post.", id="empty-privacy"),
    pytest.param(
        _form(privacy_level="FOLLOWER_OF_CREATOR"), "not an audience TikTok offers", id="privacy-not-offered"
    ),
    pytest.param(_form(privacy_level="EVERYONE"), "not an audience TikTok offers", id="privacy-unknown"),
    pytest.param(
        _form(privacy_level="SELF_ONLY", disclose="on", branded_content="on"),
        "Branded content visibility cannot be set to private.",
        id="branded-only-me",
    ),
    pytest.param(
        _form(disclose="on"),
        "You need to indicate if your content promotes yourself, a third party, or both.",
        id="disclosure-without-box",
    ),
    pytest.param(_form(branded_content="on"), "disclosure is off", id="branded-without-disclosure"),
    pytest.param(_form(brand_organic="on"), "disclosure is off", id="brand-without-disclosure"),
    pytest.param(_form(consent=None), "Tick the declaration", id="no-consent"),
    pytest.param(_form(consent="yes"), "'consent' must be ticked", id="odd-consent-value"),
    pytest.param(
        _form(caption="x" * 2201), "2201 characters long; TikTok allows 2200", id="caption-too-long"
    ),
    pytest.param(_form(title="t"), "'title' is not a field of a video post", id="photo-field-on-video"),
    pytest.param(_form(disable_comment="false"), "'disable_comment' is not a field", id="unknown-field"),
    pytest.param(
        _form(privacy_level=["SELF_ONLY", "PUBLIC_TO_EVERYONE"]), "sent 2 times", id="repeated-privacy"
    ),
    pytest.param(_form(allow_comment="true"), "'allow_comment' must be ticked", id="odd-checkbox-value"),
    pytest.param(_form(action=None), "Choose Post or Discard.", id="no-action"),
    pytest.param(_form(action="publish"), "Choose Post or Discard.", id="unknown-action"),
    pytest.param("privacy_level=%ZZ&&&", "could not be read", id="malformed-body"),
]


@pytest.mark.parametrize(("form", "expected"), CRAFTED)
def test_a_crafted_post_that_breaks_a_rule_is_refused_and_nothing_moves(
    review: Review, form: Any, expected: str
) -> None:
    arn, url = _waiting(review)
    response = _http("POST", url, form)
    assert response["statusCode"] == 422, _text(response)[:300]
    html = _text(response)
    assert expected in html
    assert "The post was not sent" in html
    consent = re.search(r'<input[^>]*id="consent"[^>]*>', html)
    assert consent is not None and "checked" not in consent.group(0)  # they agree again to what they post
    post = review.w.posts.get("p1")
    assert post is not None and post["status"] == "AWAITING_REVIEW" and post["task_token"]
    assert post["settings"].get("privacy_level") is None
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


@pytest.mark.parametrize("name", ["allow_comment", "allow_duet", "allow_stitch"])
def test_interactions_the_creator_turned_off_cannot_be_forced_on(review: Review, name: str) -> None:
    review.tiktok.creator = PRIVATE
    arn, url = _waiting(review)
    response = _http("POST", url, _form(privacy_level="SELF_ONLY", **{name: "on"}))
    assert response["statusCode"] == 422
    assert "turned off for this account in TikTok, so they cannot be allowed" in _text(response)
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


@pytest.mark.parametrize("name", ["allow_duet", "allow_stitch"])
def test_duet_and_stitch_cannot_be_forced_onto_a_photo_post(review: Review, name: str) -> None:
    arn, url = _waiting(review, kind="photo")
    form = _form(caption=None, title="photos", **{name: "on"})
    response = _http("POST", url, form)
    assert response["statusCode"] == 422
    assert "do not apply to photo posts" in _text(response)
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


def test_a_photo_post_with_comment_allowed_is_accepted(review: Review) -> None:
    arn, url = _waiting(review, kind="photo")
    response = _http("POST", url, _form(caption=None, title="new title", description="d", allow_comment="on"))
    assert response["statusCode"] == 303
    assert _execution(review, arn)["status"] == "SUCCEEDED"
    post = review.w.posts.get("p1")
    assert post is not None and post["settings"]["title"] == "new title"
    assert "allow_duet" not in post["settings"] and post["prepared"]["disable_comment"] is False


def test_an_unaudited_app_refuses_anything_but_only_me(review: Review) -> None:
    review.set_env(APP_STATUS="unaudited")
    review.tiktok.creator = PRIVATE
    arn, url = _waiting(review)
    response = _http("POST", url, _form(privacy_level="FOLLOWER_OF_CREATOR"))
    assert response["statusCode"] == 422
    assert "not audited by TikTok, so it can post only as Only me, not Followers" in _text(response)
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"
    assert _http("POST", url, _form(privacy_level="SELF_ONLY"))["statusCode"] == 303
    assert _execution(review, arn)["status"] == "SUCCEEDED"


def test_an_over_length_video_is_refused_at_posting_time(review: Review) -> None:
    arn, url = _waiting(review)
    # The creator's limit changed between page load and click: the server asks again and refuses.
    review.tiktok.creator = CreatorInfo(**{**PUBLIC.model_dump(), "max_video_post_duration_sec": 10})
    response = _http("POST", url, _form())
    assert response["statusCode"] == 422 and "at most 10 seconds" in _text(response)
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


def test_an_option_withdrawn_since_the_page_loaded_is_refused(review: Review) -> None:
    arn, url = _waiting(review)
    review.tiktok.creator = PRIVATE  # the creator made the account private meanwhile
    response = _http("POST", url, _form(privacy_level="PUBLIC_TO_EVERYONE"))
    assert response["statusCode"] == 422 and "not an audience TikTok offers" in _text(response)
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


def test_when_tiktok_cannot_confirm_at_posting_time_nothing_is_sent(review: Review) -> None:
    arn, url = _waiting(review)
    review.tiktok.error = TikTokQuotaError("spam_risk_too_many_posts")
    response = _http("POST", url, _form())
    assert response["statusCode"] == 503 and "cannot post right now" in _text(response)
    post = review.w.posts.get("p1")
    assert post is not None and post["status"] == "AWAITING_REVIEW"
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"


def test_a_double_click_or_replay_decides_once(review: Review) -> None:
    arn, url = _waiting(review)
    assert _http("POST", url, _form())["statusCode"] == 303
    again = _http("POST", url, _form(privacy_level="PUBLIC_TO_EVERYONE"))
    assert again["statusCode"] == 303 and again["headers"]["Location"] == f"{url}?decided=1"
    assert _execution(review, arn)["status"] == "SUCCEEDED"
    post = review.w.posts.get("p1")
    assert post is not None and post["settings"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    history = review.world.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    assert sum(1 for e in history if e["type"] == "TaskSucceeded") == 1
    discard = _http("POST", url, {"action": "discard"})
    assert discard["statusCode"] == 303
    assert review.w.posts.get("p1")["status"] == "SCHEDULED"  # type: ignore[index]


def test_discard_cancels_the_post_and_ends_its_workflow(review: Review) -> None:
    arn, url = _waiting(review)
    response = _http("POST", url, {"action": "discard"})
    assert response["statusCode"] == 303 and response["headers"]["Location"] == f"{url}?discarded=1"
    described = _execution(review, arn)
    assert described["status"] == "FAILED" and described.get("error") == "PostCancelled"
    post = review.w.posts.get("p1")
    assert post is not None and post["status"] == "CANCELLED" and "task_token" not in post
    assert post["review"]["decision"]["decision"] == "discarded"
    assert review.tiktok.calls == 0  # discarding asks TikTok nothing
    html = _text(_http("GET", response["headers"]["Location"]))
    assert "The post was discarded. Nothing was sent to TikTok." in html and "http-equiv" not in html
    assert _http("POST", url, _form())["statusCode"] == 303  # too late to post it
    assert review.w.posts.get("p1")["status"] == "CANCELLED"  # type: ignore[index]


# ----------------------------------------------------------------------------------------------- links


def test_an_expired_link_is_gone(review: Review) -> None:
    _arn, url = _waiting(review)
    review.clock.offset = 7200
    for method, form in (("GET", None), ("POST", _form())):
        response = _http(method, url, form)
        assert response["statusCode"] == 410 and "expired" in _text(response)
    assert review.w.posts.get("p1")["status"] == "AWAITING_REVIEW"  # type: ignore[index]
    assert review.tiktok.calls == 0


def test_forged_and_foreign_links_show_nothing(review: Review) -> None:
    arn, url = _waiting(review)
    _waiting(review, "p2")
    token = url.rsplit("/", 1)[1]
    post_id, expires, signature = token.split(".")
    forged = [
        f"{BASE}/p2.{expires}.{signature}",  # this link's signature on another post
        f"{BASE}/{post_id}.{int(expires) + 3600}.{signature}",  # a later expiry
        f"{BASE}/{post_id}.{expires}.{'A' * 43}",
        f"{BASE}/{post_id}",
        f"{BASE}/{token}x",
    ]
    for link in forged:
        for method, form in (("GET", None), ("POST", _form())):
            response = _http(method, link, form)
            assert response["statusCode"] == 404, (link, response["statusCode"])
            assert "not valid" in _text(response) and "Sandbox" not in _text(response)
    # A genuinely signed link from an earlier review of the same post (another expiry) is refused too.
    key = review.w.settings.review_link_key_arn
    secret = review.world.client("secretsmanager").get_secret_value(SecretId=key)["SecretString"]
    earlier = sign(secret.encode(), "p1", int(expires) - 60)
    assert _http("GET", f"{BASE}/{earlier.token}")["statusCode"] == 404
    for post_id_ in ("p1", "p2"):
        assert review.w.posts.get(post_id_)["status"] == "AWAITING_REVIEW"  # type: ignore[index]
    assert _execution(review, arn, settle=False)["status"] == "RUNNING"

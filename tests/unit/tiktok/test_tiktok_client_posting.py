"""Content Posting calls against a loopback server: shapes, envelope errors, retries and unknown outcomes."""

from __future__ import annotations

import json
import logging
import random
import socket
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from tiktok_fakes import FakeApiServer, RecordingSleep, Reply, closed_port_url, err, ok
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from functions.tiktok.chunks import plan_chunks
from functions.tiktok.client import (
    CANCEL_PATH,
    CONTENT_INIT_PATH,
    CREATOR_INFO_PATH,
    INBOX_VIDEO_INIT_PATH,
    STATUS_PATH,
    USER_INFO_PATH,
    VIDEO_INIT_PATH,
    TikTokClient,
    user_info_fields,
)
from functions.tiktok.error_codes import ErrorKind
from functions.tiktok.errors import (
    TikTokQuotaError,
    TikTokReauthError,
    TikTokRetryableError,
    TikTokTerminalError,
    UnknownOutcomeError,
)
from functions.tiktok.http import never_sent
from functions.tiktok.models import (
    PhotoPostInfo,
    PhotoPostMode,
    PhotoSourceInfo,
    PrivacyLevel,
    VideoPostInfo,
    VideoSourceInfo,
)
from functions.tiktok.retry import Backoff

TOKEN = "act.ACCESS_TOKEN_VALUE"
NO_POOL: Any = None  # urllib3 exceptions name their pool/connection; these tests need none
CREATOR = {
    "creator_avatar_url": "https://p16.example/a.jpg",
    "creator_username": "creator",
    "creator_nickname": "Creator",
    "privacy_level_options": ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": True,
    "stitch_disabled": True,
    "max_video_post_duration_sec": 600,
}
PLAN = plan_chunks(50_000_123, 10_000_000)
FILE_SOURCE = VideoSourceInfo.file_upload(PLAN)
POST = VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="hello #fyp", is_aigc=True)
INIT_OK = ok(
    {
        "publish_id": "v_pub_file~v2-1.123",
        "upload_url": "https://open-upload.tiktokapis.com/video/?upload_id=1",
    }
)


def make_client(
    url: str,
    sleeps: RecordingSleep,
    *,
    timeout: tuple[float, float] = (1.0, 2.0),
    session: requests.Session | None = None,
) -> TikTokClient:
    return TikTokClient(
        client_key="ck",
        client_secret="cs_SECRET",
        api_base_url=url,
        timeout=timeout,
        session=session,
        clock=lambda: 1_764_000_000.0,
        sleep=sleeps,
        rng=random.Random(3),
        backoff=Backoff(max_attempts=4, base_delay=0.5, max_delay=4.0, max_retry_after=20.0),
    )


@pytest.fixture
def client(api_server: FakeApiServer, sleeps: RecordingSleep) -> TikTokClient:
    return make_client(api_server.base_url, sleeps)


@pytest.fixture
def fast_timeout_client(api_server: FakeApiServer, sleeps: RecordingSleep) -> TikTokClient:
    return make_client(api_server.base_url, sleeps, timeout=(1.0, 0.3))


# -------------------------------------------------------------------------------------- reads


def test_creator_info_request_and_parse(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(CREATOR_INFO_PATH, ok(CREATOR))
    info = client.creator_info(TOKEN)
    assert info.privacy_level_options == [
        PrivacyLevel.FOLLOWER_OF_CREATOR,
        PrivacyLevel.MUTUAL_FOLLOW_FRIENDS,
        PrivacyLevel.SELF_ONLY,
    ]
    assert info.max_video_post_duration_sec == 600
    [request] = api_server.calls(CREATOR_INFO_PATH)
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.json() == {}
    assert TOKEN not in request.query


@pytest.mark.parametrize("code", ["spam_risk_too_many_posts", "reached_active_user_cap"])
def test_creator_info_cant_post_now_is_a_quota_wait_not_retried(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep, code: str
) -> None:
    api_server.script(CREATOR_INFO_PATH, err(200, code), ok(CREATOR))
    with pytest.raises(TikTokQuotaError) as info:
        client.creator_info(TOKEN)
    assert info.value.code == code and info.value.http_status == 200
    assert len(api_server.calls(CREATOR_INFO_PATH)) == 1 and sleeps.calls == []


def test_banned_creator_is_terminal(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(CREATOR_INFO_PATH, err(200, "spam_risk_user_banned_from_posting"))
    with pytest.raises(TikTokTerminalError):
        client.creator_info(TOKEN)


def test_invalid_token_needs_reauthorisation_without_retry(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    api_server.script(CREATOR_INFO_PATH, err(401, "access_token_invalid"), ok(CREATOR))
    with pytest.raises(TikTokReauthError):
        client.creator_info(TOKEN)
    assert len(api_server.calls(CREATOR_INFO_PATH)) == 1


def test_429_with_retry_after_is_waited_then_retried(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(CREATOR_INFO_PATH, err(429, "rate_limit_exceeded", **{"Retry-After": "2"}), ok(CREATOR))
    assert client.creator_info(TOKEN).creator_username == "creator"
    assert sleeps.calls == [2.0]


def test_429_with_a_long_retry_after_goes_back_to_the_caller(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(CREATOR_INFO_PATH, err(429, "rate_limit_exceeded", **{"Retry-After": "120"}))
    with pytest.raises(TikTokQuotaError) as info:
        client.creator_info(TOKEN)
    assert info.value.retry_after == 120 and sleeps.calls == []


def test_429_without_retry_after_uses_jittered_backoff(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(CREATOR_INFO_PATH, err(429, "rate_limit_exceeded"), ok(CREATOR))
    client.creator_info(TOKEN)
    assert len(sleeps.calls) == 1 and 0 <= sleeps.calls[0] <= 0.5


def test_5xx_is_retried_with_bounded_full_jitter(
    client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    api_server.script(
        STATUS_PATH,
        *[err(500, "internal_error")] * 3,
        Reply(503, raw=b"gateway"),
        ok({"status": "PUBLISH_COMPLETE"}),
    )
    with pytest.raises(TikTokRetryableError) as info:
        client.fetch_status(TOKEN, "p1")
    assert info.value.code == "http_503"
    assert len(api_server.calls(STATUS_PATH)) == 4  # the bound
    assert len(sleeps.calls) == 3
    for n, wait in enumerate(sleeps.calls):
        assert 0 <= wait <= min(4.0, 0.5 * 2**n)
    assert len(set(sleeps.calls)) == 3  # jittered, not a fixed schedule


def test_jitter_spreads_waits_over_the_whole_window() -> None:
    backoff = Backoff(base_delay=1.0, max_delay=8.0)
    rng = random.Random(0)
    waits = [backoff.delay(3, rng) for _ in range(2000)]
    assert min(waits) < 0.5 and max(waits) > 7.5 and all(0 <= w <= 8.0 for w in waits)
    assert max(backoff.delay(40, rng) for _ in range(100)) <= 8.0


@pytest.mark.parametrize(
    "first",
    [Reply(drop=True), Reply(200, ok({"status": "X"}).json_body, delay=0.6), Reply(200, raw=b"<html>")],
)
def test_reads_retry_resets_timeouts_and_garbage(
    fast_timeout_client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep, first: Reply
) -> None:
    api_server.script(STATUS_PATH, first, ok({"status": "PROCESSING_UPLOAD", "uploaded_bytes": 10}))
    status = fast_timeout_client.fetch_status(TOKEN, "v_pub_file~v2-1.123")
    assert (status.status, status.uploaded_bytes) == ("PROCESSING_UPLOAD", 10)
    assert len(sleeps.calls) == 1
    assert [r.json() for r in api_server.calls(STATUS_PATH)] == [{"publish_id": "v_pub_file~v2-1.123"}] * 2


def test_fetch_status_with_the_misspelled_field(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(
        STATUS_PATH,
        ok({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7_300_000_000_000_000_001]}),
    )
    assert client.fetch_status(TOKEN, "p").publicly_available_post_ids == ["7300000000000000001"]


def test_a_read_answer_missing_fields_is_retryable(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(STATUS_PATH, *[ok({"uploaded_bytes": 3})] * 4)
    with pytest.raises(TikTokRetryableError, match="status"):
        client.fetch_status(TOKEN, "p")


@pytest.mark.parametrize("code", ["invalid_publish_id", "token_not_authorized_for_specified_publish_id"])
def test_status_terminal_errors(client: TikTokClient, api_server: FakeApiServer, code: str) -> None:
    api_server.script(STATUS_PATH, err(400, code))
    with pytest.raises(TikTokTerminalError) as info:
        client.fetch_status(TOKEN, "p")
    assert info.value.code == code


def test_cancel(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(CANCEL_PATH, Reply(200, {"error": {"code": "ok", "message": "", "log_id": "L"}}))
    client.cancel(TOKEN, "v_pub_url~v2.1")
    assert api_server.calls(CANCEL_PATH)[0].json() == {"publish_id": "v_pub_url~v2.1"}
    api_server.script(CANCEL_PATH, err(400, "publish_not_cancellable"))
    with pytest.raises(TikTokTerminalError):
        client.cancel(TOKEN, "v_pub_url~v2.1")


def test_user_info(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(USER_INFO_PATH, ok({"user": {"open_id": "o", "display_name": "D", "username": "u"}}))
    user = client.user_info(TOKEN, fields=user_info_fields(["user.info.basic", "user.info.profile"]))
    assert user == {"open_id": "o", "display_name": "D", "username": "u"}
    [request] = api_server.calls(USER_INFO_PATH)
    assert request.method == "GET"
    assert request.query == "fields=open_id%2Cunion_id%2Cavatar_url%2Cdisplay_name%2Cusername"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_user_info_fields_follow_granted_scopes() -> None:
    assert "username" not in user_info_fields(["user.info.basic"])
    assert user_info_fields(["user.info.profile"])[-1] == "username"


def test_reads_that_cannot_connect_give_up_after_the_bound(sleeps: RecordingSleep) -> None:
    client = make_client(closed_port_url(), sleeps)
    with pytest.raises(TikTokRetryableError) as info:
        client.creator_info(TOKEN)
    assert info.value.code == "connection_failed" and info.value.kind is ErrorKind.RETRYABLE
    assert len(sleeps.calls) == 3


# ----------------------------------------------------------------------------------------- init


def test_init_video_direct_body(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(VIDEO_INIT_PATH, INIT_OK)
    result = client.init_video_direct(TOKEN, POST, FILE_SOURCE)
    assert result.publish_id == "v_pub_file~v2-1.123" and result.upload_url
    [request] = api_server.calls(VIDEO_INIT_PATH)
    assert request.json() == {
        "post_info": {
            "privacy_level": "SELF_ONLY",
            "title": "hello #fyp",
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            "is_aigc": True,
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": 50_000_123,
            "chunk_size": 10_000_000,
            "total_chunk_count": 5,
        },
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_init_sends_captions_as_utf8(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(VIDEO_INIT_PATH, INIT_OK)
    post = VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY, title="café \U0001f600")
    client.init_video_direct(TOKEN, post, FILE_SOURCE)
    body = api_server.calls(VIDEO_INIT_PATH)[0].body
    assert "café \U0001f600".encode() in body
    assert json.loads(body)["post_info"]["title"] == "café \U0001f600"


def test_init_video_inbox_sends_only_source_info(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(INBOX_VIDEO_INIT_PATH, INIT_OK)
    client.init_video_inbox(TOKEN, FILE_SOURCE)
    assert list(api_server.calls(INBOX_VIDEO_INIT_PATH)[0].json()) == ["source_info"]


def test_init_pull_from_url_has_no_upload_url(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(VIDEO_INIT_PATH, ok({"publish_id": "v_pub_url~v2.1"}))
    result = client.init_video_direct(
        TOKEN, POST, VideoSourceInfo.pull_from_url("https://media.example.com/v.mp4")
    )
    assert (result.publish_id, result.upload_url) == ("v_pub_url~v2.1", None)


def test_init_photo_body(client: TikTokClient, api_server: FakeApiServer) -> None:
    api_server.script(CONTENT_INIT_PATH, ok({"publish_id": "p_pub_url~v2.1"}))
    source = PhotoSourceInfo(
        photo_images=["https://m.example.com/1.jpg", "https://m.example.com/2.jpg"], photo_cover_index=1
    )
    post = PhotoPostInfo(
        title="t", description="d", privacy_level=PrivacyLevel.SELF_ONLY, auto_add_music=True
    )
    assert (
        client.init_photo(TOKEN, mode="DIRECT_POST", post_info=post, source=source, is_aigc=True).publish_id
        == "p_pub_url~v2.1"
    )
    assert api_server.calls(CONTENT_INIT_PATH)[0].json() == {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"title": "t", "description": "d", "privacy_level": "SELF_ONLY", "auto_add_music": True},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": ["https://m.example.com/1.jpg", "https://m.example.com/2.jpg"],
            "photo_cover_index": 1,
        },
        "is_aigc": True,
    }


def test_init_photo_refuses_fields_its_mode_does_not_take_before_sending(
    client: TikTokClient, api_server: FakeApiServer
) -> None:
    source = PhotoSourceInfo(photo_images=["https://m.example.com/1.jpg"], photo_cover_index=0)
    post = PhotoPostInfo(title="t", privacy_level=PrivacyLevel.SELF_ONLY)
    with pytest.raises(ValueError, match="MEDIA_UPLOAD"):
        client.init_photo(
            TOKEN, mode=PhotoPostMode.MEDIA_UPLOAD, post_info=post, source=source, is_aigc=False
        )
    with pytest.raises(ValueError):
        client.init_photo(TOKEN, mode="DRAFT", post_info=post, source=source, is_aigc=False)
    assert api_server.requests == []


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        (err(403, "spam_risk_too_many_posts"), TikTokQuotaError, "spam_risk_too_many_posts"),
        (err(403, "spam_risk_too_many_pending_share"), TikTokQuotaError, "spam_risk_too_many_pending_share"),
        (
            err(403, "unaudited_client_can_only_post_to_private_accounts"),
            TikTokTerminalError,
            "unaudited_client_can_only_post_to_private_accounts",
        ),
        (err(403, "privacy_level_option_mismatch"), TikTokTerminalError, "privacy_level_option_mismatch"),
        (err(400, "invalid_params", "The chunk size is invalid"), TikTokTerminalError, "invalid_params"),
        (err(401, "scope_not_authorized"), TikTokReauthError, "scope_not_authorized"),
        (err(429, "rate_limit_exceeded"), TikTokQuotaError, "rate_limit_exceeded"),
        (err(500, "internal_error"), TikTokRetryableError, "internal_error"),
    ],
)
def test_init_errors_are_typed_and_never_retried_inside(
    *,
    client: TikTokClient,
    api_server: FakeApiServer,
    sleeps: RecordingSleep,
    reply: Reply,
    error: type[Exception],
    code: str,
) -> None:
    api_server.script(VIDEO_INIT_PATH, reply, INIT_OK)
    with pytest.raises(error) as info:
        client.init_video_direct(TOKEN, POST, FILE_SOURCE)
    assert getattr(info.value, "code", None) == code
    assert len(api_server.calls(VIDEO_INIT_PATH)) == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, INIT_OK.json_body, delay=0.6),
        Reply(drop=True),
        Reply(504, raw=b"Gateway Timeout"),
        Reply(502, {"message": "bad gateway"}),
        Reply(200, raw=b""),
        ok({"upload_url": "https://u"}),  # "ok" without a publish_id
        ok({"publish_id": "v_pub_file~v2-1.9"}),  # FILE_UPLOAD without an upload_url
    ],
    ids=[
        "read-timeout",
        "reset-after-send",
        "gateway-504",
        "gateway-502-json",
        "empty-200",
        "no-publish-id",
        "no-upload-url",
    ],
)
def test_init_with_an_ambiguous_answer_is_an_unknown_outcome_sent_once(
    fast_timeout_client: TikTokClient, api_server: FakeApiServer, sleeps: RecordingSleep, reply: Reply
) -> None:
    api_server.script(VIDEO_INIT_PATH, reply, INIT_OK)
    with pytest.raises(UnknownOutcomeError) as info:
        fast_timeout_client.init_video_direct(TOKEN, POST, FILE_SOURCE)
    assert info.value.operation == "init_video_direct"
    assert len(api_server.calls(VIDEO_INIT_PATH)) == 1 and sleeps.calls == []
    assert TOKEN not in str(info.value)


class RefuseFirstConnects(HTTPAdapter):
    """Fails the first `n` sends the way urllib3 reports a refused connection, then sends for real."""

    def __init__(self, failures: list[BaseException]) -> None:
        super().__init__()
        self.failures = failures
        self.sends = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sends += 1
        if self.failures:
            raise self.failures.pop(0)
        return super().send(request, *args, **kwargs)


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(
        NO_POOL, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    return requests.ConnectionError(MaxRetryError(NO_POOL, "/v2/post/publish/video/init/", reason))


def test_init_retries_a_connection_that_never_opened(
    api_server: FakeApiServer, sleeps: RecordingSleep
) -> None:
    session = requests.Session()
    adapter = RefuseFirstConnects([_refused(), requests.ConnectTimeout("connect timed out")])
    session.mount("http://", adapter)
    client = make_client(api_server.base_url, sleeps, session=session)
    api_server.script(VIDEO_INIT_PATH, INIT_OK)
    assert client.init_video_direct(TOKEN, POST, FILE_SOURCE).publish_id == "v_pub_file~v2-1.123"
    assert adapter.sends == 3 and len(sleeps.calls) == 2
    assert len(api_server.calls(VIDEO_INIT_PATH)) == 1  # exactly one request reached "TikTok"


def test_init_against_a_closed_port_gives_up_as_retryable(sleeps: RecordingSleep) -> None:
    client = make_client(closed_port_url(), sleeps)
    with pytest.raises(TikTokRetryableError, match="connection_failed"):
        client.init_video_inbox(TOKEN, FILE_SOURCE)
    assert len(sleeps.calls) == 3


@pytest.mark.parametrize(
    ("exc", "unsent"),
    [
        (_refused(), True),
        (requests.ConnectTimeout("x"), True),
        (requests.ConnectionError(MaxRetryError(NO_POOL, "/", ConnectTimeoutError("t"))), True),
        (
            requests.ConnectionError(
                MaxRetryError(NO_POOL, "/", NameResolutionError("h", NO_POOL, socket.gaierror("x")))
            ),
            True,
        ),
        (
            requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "r"))),
            False,
        ),
        (requests.ReadTimeout(ReadTimeoutError(NO_POOL, "/", "read timed out")), False),
        (requests.ConnectionError("anything else"), False),
        (requests.exceptions.ChunkedEncodingError("cut"), False),
    ],
)
def test_never_sent_only_for_failures_to_connect(exc: BaseException, unsent: bool) -> None:
    assert never_sent(exc) is unsent


def test_retries_log_without_tokens(
    client: TikTokClient, api_server: FakeApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api_server.script(CREATOR_INFO_PATH, err(500, "internal_error"), ok(CREATOR))
    client.creator_info(TOKEN)
    assert caplog.records
    assert all(TOKEN not in r.getMessage() + repr(r.__dict__) for r in caplog.records)

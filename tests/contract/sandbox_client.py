"""A thin HTTP client for driving the sandbox the way a TikTok client would, plus assertions on
TikTok's response shapes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from local.sandbox import SandboxServer
from local.sandbox.consent import authorize

CLIENT_KEY = "contract-client-key"
CLIENT_SECRET = "contract-client-secret"
REDIRECT_URI = "https://publisher.example.com/oauth/callback"
ALL_SCOPES = ("user.info.basic", "video.upload", "video.publish")
MB = 1024 * 1024
# The make_sandbox fixture: SandboxConfig overrides in, a started server and its client out.
MakeSandbox = Callable[..., tuple[SandboxServer, "Api"]]


def assert_envelope(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """TikTok's v2 envelope (docs/reference/tiktok-api.md §2.1) with the given HTTP status and error.code."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str)
    assert isinstance(error["log_id"], str) and error["log_id"]
    assert isinstance(body.get("data", {}), dict)
    return body


def assert_oauth_error(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    """The flat OAuth error (§1.3): error, error_description, log_id; never the v2 envelope."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str)
    assert isinstance(body["log_id"], str) and body["log_id"]
    assert "data" not in body
    return body


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Api:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.http.trust_env = False

    # --- Login Kit -------------------------------------------------------------------------
    def consent(self, creator: str = "sandbox_public", scopes: Sequence[str] = ALL_SCOPES, **kw: Any) -> str:
        return authorize(
            self.base,
            client_key=CLIENT_KEY,
            redirect_uri=kw.pop("redirect_uri", REDIRECT_URI),
            scopes=scopes,
            state=kw.pop("state", "state-123"),
            creator=creator,
            session=self.http,
            **kw,
        )

    def token_form(self, fields: dict[str, str], path: str = "/v2/oauth/token/") -> requests.Response:
        return self.http.post(
            self.base + path,
            data=fields,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"},
        )

    def exchange(self, code: str, redirect_uri: str = REDIRECT_URI, **extra: str) -> requests.Response:
        fields = {
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            **extra,
        }
        return self.token_form(fields)

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.token_form(
            {
                "client_key": CLIENT_KEY,
                "client_secret": CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }
        )

    def revoke(self, token: str) -> requests.Response:
        fields = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "token": token}
        return self.token_form(fields, "/v2/oauth/revoke/")

    def tokens(self, creator: str = "sandbox_public", scopes: Sequence[str] = ALL_SCOPES) -> dict[str, Any]:
        """Tokens through the real consent + code exchange."""
        location = self.consent(creator, scopes)
        response = self.exchange(query_of(location)["code"])
        assert response.status_code == 200, response.text
        return dict(response.json())

    def token(self, creator: str = "sandbox_public", scopes: Sequence[str] = ALL_SCOPES) -> str:
        return str(self.tokens(creator, scopes)["access_token"])

    # --- Content Posting API ---------------------------------------------------------------
    def call(self, path: str, token: str | None, body: Any = None, **kw: Any) -> requests.Response:
        headers = {"Content-Type": "application/json; charset=UTF-8", **kw.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.post(self.base + path, json=body, headers=headers, **kw)

    def creator_info(self, token: str) -> requests.Response:
        return self.call("/v2/post/publish/creator_info/query/", token)

    def init_video(
        self,
        token: str,
        size: int,
        *,
        chunk_size: int | None = None,
        count: int | None = None,
        privacy: str | None = "SELF_ONLY",
        inbox: bool = False,
        **post_info: Any,
    ) -> requests.Response:
        chunk = chunk_size or size
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count if count is not None else max(1, size // chunk),
        }
        if inbox:
            return self.call("/v2/post/publish/inbox/video/init/", token, {"source_info": source})
        info = {"title": "a #sandbox post", **post_info}
        if privacy is not None:
            info["privacy_level"] = privacy
        return self.call("/v2/post/publish/video/init/", token, {"post_info": info, "source_info": source})

    def init_pull(
        self, token: str, url: str, *, privacy: str = "SELF_ONLY", inbox: bool = False
    ) -> requests.Response:
        source = {"source": "PULL_FROM_URL", "video_url": url}
        if inbox:
            return self.call("/v2/post/publish/inbox/video/init/", token, {"source_info": source})
        body = {"post_info": {"privacy_level": privacy, "title": "pulled"}, "source_info": source}
        return self.call("/v2/post/publish/video/init/", token, body)

    def init_photos(
        self, token: str, urls: list[str], *, mode: str = "DIRECT_POST", cover: int = 0, **post_info: Any
    ) -> requests.Response:
        info = {"title": "photos", "description": "a carousel", **post_info}
        if mode == "DIRECT_POST":
            info.setdefault("privacy_level", "SELF_ONLY")
        body = {
            "media_type": "PHOTO",
            "post_mode": mode,
            "post_info": info,
            "source_info": {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": cover},
        }
        return self.call("/v2/post/publish/content/init/", token, body)

    def status(self, token: str, publish_id: str) -> requests.Response:
        return self.call("/v2/post/publish/status/fetch/", token, {"publish_id": publish_id})

    def cancel(self, token: str, publish_id: str) -> requests.Response:
        return self.call("/v2/post/publish/cancel/", token, {"publish_id": publish_id})

    def put(
        self, url: str, data: bytes, first: int, total: int, content_type: str = "video/mp4", **headers: str
    ) -> requests.Response:
        sent = {
            "Content-Type": content_type,
            "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
            **headers,
        }
        return self.http.put(url, data=data, headers=sent)

    def upload(self, url: str, data: bytes, chunk_size: int) -> list[requests.Response]:
        """All chunks in order, the last absorbing the trailing bytes (§3.1)."""
        count = max(1, len(data) // chunk_size)
        answers = []
        for index in range(count):
            first = index * chunk_size
            last = len(data) if index == count - 1 else first + chunk_size
            answers.append(self.put(url, data[first:last], first, len(data)))
        return answers

    def post_video(self, token: str, data: bytes, **kw: Any) -> str:
        """Init + upload in one piece; returns the publish_id."""
        init = self.init_video(token, len(data), **kw)
        assert init.status_code == 200, init.text
        answer = self.put(init.json()["data"]["upload_url"], data, 0, len(data))
        assert answer.status_code == 201, answer.text
        return str(init.json()["data"]["publish_id"])

    # --- Display API -----------------------------------------------------------------------
    def video_list(self, token: str | None, fields: str = "id", body: Any = None) -> requests.Response:
        return self.call(f"/v2/video/list/?fields={fields}", token, body)

    def video_query(self, token: str | None, video_ids: Any, fields: str = "id") -> requests.Response:
        return self.call(f"/v2/video/query/?fields={fields}", token, {"filters": {"video_ids": video_ids}})

    def user_info(self, token: str, fields: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.get(f"{self.base}/v2/user/info/?fields={fields}", headers=headers)

    # --- /_sandbox/ --------------------------------------------------------------------------
    def post_elsewhere(self, creator: str = "sandbox_public", **video: Any) -> dict[str, Any]:
        """A video the creator posts without this client; the answer describes it (its `id`)."""
        response = self.http.post(f"{self.base}/_sandbox/creators/{creator}/videos", json=video)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def now(self) -> float:
        return float(self.http.get(f"{self.base}/_sandbox/clock").json()["now"])

    def inspect(self, publish_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/_sandbox/posts/{publish_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_for(
        self, publish_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            post = self.inspect(publish_id)
            if predicate(post):
                return post
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"post never reached the expected state: {post['status']} {post['history']}"
                )
            time.sleep(0.01)

    def wait_status(self, publish_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        return self.wait_for(publish_id, lambda p: p["status"] in statuses, timeout)

    def advance(self, seconds: float) -> None:
        response = self.http.post(f"{self.base}/_sandbox/clock", json={"advance": seconds})
        assert response.status_code == 200, response.text

    def faults(self, **faults: Any) -> requests.Response:
        return self.http.post(f"{self.base}/_sandbox/faults", json=faults)

    def add_creator(self, **fields: Any) -> None:
        response = self.http.post(f"{self.base}/_sandbox/creators", json=fields)
        assert response.status_code == 200, response.text

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.base}/_sandbox/webhooks").json()["deliveries"])

    def wait_deliveries(
        self, predicate: Callable[[list[dict[str, Any]]], Any], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            deliveries = self.deliveries()
            if predicate(deliveries):
                return deliveries
            if time.monotonic() > deadline:
                raise AssertionError(f"webhook deliveries never matched: {deliveries}")
            time.sleep(0.01)

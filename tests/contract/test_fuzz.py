"""Bad requests always get TikTok's error shapes and never a 5xx (docs/reference/tiktok-api.md §1.3, §2.1):
garbage JSON and form bodies, odd headers, wrong methods and paths, malformed HTTP."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_client import MB, Api, assert_envelope

from local.sandbox import SandboxServer

POSTING = [
    "/v2/post/publish/creator_info/query/",
    "/v2/post/publish/video/init/",
    "/v2/post/publish/inbox/video/init/",
    "/v2/post/publish/content/init/",
    "/v2/post/publish/status/fetch/",
    "/v2/post/publish/cancel/",
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Printable header values requests will send as they are.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.lstrip)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Bodies shaped like the real ones, with any value in any slot: the validators' hardest case.
field_names = st.sampled_from(
    [
        "post_info",
        "source_info",
        "privacy_level",
        "title",
        "source",
        "video_size",
        "chunk_size",
        "total_chunk_count",
        "video_url",
        "photo_images",
        "photo_cover_index",
        "media_type",
        "post_mode",
        "publish_id",
        "description",
        "is_aigc",
        "brand_content_toggle",
    ]
)
shaped = st.recursive(
    json_values, lambda inner: st.dictionaries(field_names, inner, max_size=6), max_leaves=20
)


def assert_api_envelope(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body["error"]) == {"code", "message", "log_id"}
    if response.status_code != 200:
        assert body["error"]["code"] != "ok" and body["data"] == {}


def fresh_minute(api: Api) -> None:
    # Rate limits and daily caps would otherwise answer later examples with 429/403 and hide the
    # validators: every example starts from a clean sandbox.
    assert api.http.post(api.base + "/_sandbox/reset").status_code == 200


@FUZZ
@given(path=st.sampled_from(POSTING), body=shaped)
def test_shaped_json_bodies_get_the_envelope(sandbox: SandboxServer, path: str, body: Any) -> None:
    api = Api(sandbox.base_url)
    fresh_minute(api)
    token = api.http.post(api.base + "/_sandbox/tokens", json={"creator": "sandbox_public"}).json()[
        "access_token"
    ]
    assert_api_envelope(api.call(path, token, body))


@FUZZ
@given(path=st.sampled_from(POSTING), raw=st.binary(max_size=200), content_type=header_text)
def test_garbage_bytes_and_content_types_get_the_envelope(
    sandbox: SandboxServer, path: str, raw: bytes, content_type: str
) -> None:
    api = Api(sandbox.base_url)
    fresh_minute(api)
    token = api.http.post(api.base + "/_sandbox/tokens", json={"creator": "sandbox_private"}).json()[
        "access_token"
    ]
    response = api.http.post(
        api.base + path, data=raw, headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}
    )
    assert_api_envelope(response)


@FUZZ
@given(path=st.sampled_from(POSTING), authorization=header_text)
def test_any_authorization_header_gets_access_token_invalid(
    sandbox: SandboxServer, path: str, authorization: str
) -> None:
    api = Api(sandbox.base_url)
    response = api.http.post(api.base + path, json={}, headers={"Authorization": authorization})
    assert_envelope(response, 401, "access_token_invalid")


@FUZZ
@given(
    path=st.sampled_from(["/v2/oauth/token/", "/v2/oauth/revoke/"]),
    fields=st.dictionaries(
        st.sampled_from(
            ["client_key", "client_secret", "grant_type", "code", "redirect_uri", "refresh_token", "token"]
        )
        | st.text(max_size=8),
        st.text(max_size=30),
        max_size=6,
    ),
    raw=st.one_of(st.none(), st.binary(max_size=100)),
)
def test_garbage_forms_get_the_flat_oauth_error(
    sandbox: SandboxServer, path: str, fields: dict[str, str], raw: bytes | None
) -> None:
    api = Api(sandbox.base_url)
    response = api.http.post(
        api.base + path,
        data=raw if raw is not None else fields,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if path == "/v2/oauth/revoke/" and response.status_code == 200:
        assert response.json() == {}  # the right client revoking an unknown token
        return
    assert response.status_code in (400, 401), response.text
    body = response.json()
    assert set(body) == {"error", "error_description", "log_id"}


@FUZZ
@given(
    content_range=header_text,
    content_type=st.sampled_from(["video/mp4", "video/webm", "text/plain", ""]),
    data=st.binary(max_size=64),
)
def test_odd_upload_headers_get_the_envelope(
    sandbox: SandboxServer, content_range: str, content_type: str, data: bytes
) -> None:
    api = Api(sandbox.base_url)
    fresh_minute(api)
    token = api.http.post(api.base + "/_sandbox/tokens", json={"creator": "sandbox_public"}).json()[
        "access_token"
    ]
    url = api.init_video(token, 64).json()["data"]["upload_url"]
    response = api.http.put(
        url, data=data, headers={"Content-Range": content_range, "Content-Type": content_type}
    )
    if response.status_code in (201, 206):
        return
    assert response.status_code in (400, 416), response.text
    assert_api_envelope(response)


@FUZZ
@given(
    suffix=st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%"), max_size=30)
)
def test_unknown_paths_get_404_in_the_envelope(sandbox: SandboxServer, suffix: str) -> None:
    api = Api(sandbox.base_url)
    response = api.http.post(api.base + "/v2/x/" + suffix, data=b"{}")
    assert_envelope(response, 404, "not_found")


def test_wrong_method_on_a_known_path_gets_the_envelope(api: Api) -> None:
    assert_envelope(api.http.get(api.base + "/v2/post/publish/video/init/"), 405, "method_not_allowed")
    assert_envelope(api.http.delete(api.base + "/v2/post/publish/status/fetch/"), 405, "method_not_allowed")


def test_trailing_slash_is_part_of_the_path(api: Api) -> None:
    assert_envelope(api.call("/v2/post/publish/creator_info/query", api.token()), 404, "not_found")


def test_oversized_and_chunked_json_bodies_are_refused_in_the_envelope(api: Api) -> None:
    token = api.token()
    huge = api.http.post(
        api.base + "/v2/post/publish/video/init/",
        data=b"{" + b" " * (2 * MB) + b"}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert_envelope(huge, 400, "invalid_params")
    chunked = api.http.post(
        api.base + "/v2/post/publish/status/fetch/",
        data=iter([b'{"publish_id": "x"}']),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert_envelope(chunked, 400, "invalid_params")


def test_deep_and_non_standard_json_is_invalid_params(api: Api) -> None:
    token = api.token()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for raw in (b"[" * 100_000, b'{"publish_id": NaN}', b'{"publish_id": "\xff"}', json.dumps([1]).encode()):
        response = api.http.post(api.base + "/v2/post/publish/status/fetch/", data=raw, headers=headers)
        assert_envelope(response, 400, "invalid_params")


def test_lone_surrogates_in_captions_survive_inspection(api: Api) -> None:
    raw = b'{"post_info": {"privacy_level": "SELF_ONLY", "title": "\\ud800 x"}, "source_info": '
    raw += b'{"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1}}'
    headers = {"Authorization": f"Bearer {api.token()}", "Content-Type": "application/json"}
    init = api.http.post(api.base + "/v2/post/publish/video/init/", data=raw, headers=headers)
    publish_id = assert_envelope(init, 200, "ok")["data"]["publish_id"]
    assert api.inspect(publish_id)["post_info"]["title"] == "\ud800 x"


def test_malformed_http_gets_the_envelope(sandbox: SandboxServer) -> None:
    parts = urlsplit(sandbox.base_url)
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"BREW /v2/oauth/token/ HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
            conn.sendall(raw)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split()[1] in (b"400", b"501", b"505"), head
        assert json.loads(body)["error"]["code"] in ("invalid_params", "internal_error")

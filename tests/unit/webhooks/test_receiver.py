"""POST /webhooks/tiktok's verdict: only a genuine, fresh, signed event of our app is accepted; no input
makes it raise (a raise would be a 500)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.handlers.webhook import request_parts
from functions.tiktok.signature import sign
from functions.webhooks.receiver import MAX_BODY_BYTES, judge
from tests.support.events import load_event

KEY, SECRET, NOW, TOLERANCE = "sandbox-client-key", "sandbox-client-secret", 1_795_629_600, 259_200
BODY = json.dumps(
    {
        "client_key": KEY,
        "event": "post.publish.complete",
        "create_time": NOW,
        "user_openid": "u1",
        "content": json.dumps({"publish_id": "v_pub_file~v2-1.1", "publish_type": "DIRECT_PUBLISH"}),
    }
)


def _event(body: str | bytes, header: str | None, *, b64: bool = False) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["tiktok-signature"] = header
    return load_event(
        "http/post_webhook",
        headers=headers,
        body=base64.b64encode(raw).decode() if b64 else raw.decode("utf-8", "replace"),
        isBase64Encoded=b64,
    )


def _judge(event: dict[str, Any], now: int = NOW) -> Any:
    body, signature = request_parts(event)
    return judge(body, signature, client_key=KEY, client_secret=SECRET, now=now, tolerance_seconds=TOLERANCE)


def test_known_answer_signature_in_tiktoks_format() -> None:
    # HMAC-SHA256 of "<t>.<raw body>" keyed with the client secret, hex: computed independently here.
    expected = hmac.new(SECRET.encode(), f"{NOW}.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY.encode(), NOW) == f"t={NOW},s={expected}"
    verdict = _judge(_event(BODY, f"t={NOW},s={expected}"))
    assert verdict.status == 200 and verdict.body == BODY


def test_a_base64_body_is_verified_on_its_decoded_bytes() -> None:
    verdict = _judge(_event(BODY, sign(SECRET, BODY.encode(), NOW), b64=True))
    assert verdict.status == 200 and verdict.body == BODY


def test_rejections_are_401_and_name_why() -> None:
    good = sign(SECRET, BODY.encode(), NOW)
    assert _judge(_event(BODY, None)).status == 401
    assert _judge(_event(BODY, "garbage")).status == 401
    assert _judge(_event(BODY, sign("another-secret", BODY.encode(), NOW))).status == 401
    assert _judge(_event(BODY + " ", good)).status == 401  # tampered body
    assert _judge(_event(BODY, good), now=NOW + TOLERANCE + 1).status == 401  # too old
    assert _judge(_event(BODY, good), now=NOW - TOLERANCE - 1).status == 401  # from the future
    foreign = BODY.replace(KEY, "other-app")
    assert _judge(_event(foreign, sign(SECRET, foreign.encode(), NOW))).status == 401


def test_tiktoks_genuine_retries_within_72_hours_are_accepted() -> None:
    assert _judge(_event(BODY, sign(SECRET, BODY.encode(), NOW)), now=NOW + 72 * 3600).status == 200


def test_bad_bodies_are_4xx() -> None:
    assert _judge(_event("not json", sign(SECRET, b"not json", NOW))).status == 400
    huge = "x" * (MAX_BODY_BYTES + 1)
    assert _judge(_event(huge, sign(SECRET, huge.encode(), NOW))).status == 413
    assert _judge({**_event(BODY, "t=1,s=2"), "body": "%%%", "isBase64Encoded": True}).status == 400


_HEADER_PART = st.one_of(
    st.tuples(
        st.sampled_from(["t", "s", "v1", "", " t", "T"]),
        st.one_of(
            st.integers(-(10**12), 10**12).map(str),
            st.text(alphabet="0123456789abcdefABCDEF\x80é", max_size=70),
            st.text(max_size=10),
        ),
    ).map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(header=st.lists(_HEADER_PART, max_size=5).map(",".join) | st.none(), body=st.binary(max_size=300))
def test_no_header_or_body_raises_or_is_accepted_unsigned(header: str | None, body: bytes) -> None:
    verdict = _judge(_event(body, header, b64=True))
    assert verdict.status in (400, 401, 413)


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, len(BODY) - 1), byte=st.integers(0, 255))
def test_any_changed_byte_is_rejected(position: int, byte: int) -> None:
    raw = bytearray(BODY.encode())
    if raw[position] == byte:
        byte = (byte + 1) % 256
    raw[position] = byte
    verdict = _judge(_event(bytes(raw), sign(SECRET, BODY.encode(), NOW), b64=True))
    assert verdict.status == 401

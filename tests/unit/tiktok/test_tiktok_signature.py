"""Webhook signature: known answers, tolerance, and a verifier that never raises (checklist WH-1..WH-3)."""

from __future__ import annotations

import hmac
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.tiktok.signature import SignatureCheck, sign, verify

SECRET = "It's a Secret to Everybody"
BODY = b'{"client_key":"ck","event":"post.publish.complete"}'
T = 1633174587
# Computed independently: printf '%s' '1633174587.<BODY>' | openssl dgst -sha256 -hmac "<SECRET>"
KNOWN = "eb1a50aa8c169149d7ae577c1c9990e7fe5fc897ecd3f2dfd14dfee5baba821b"
TOL = 300


def check(
    header: Any,
    body: bytes | bytearray | memoryview = BODY,
    *,
    now: int = T,
    tolerance: int = TOL,
    secret: str = SECRET,
) -> SignatureCheck:
    return verify(secret, header, body, now=now, tolerance_seconds=tolerance)


def test_sign_matches_an_independent_hmac() -> None:
    assert sign(SECRET, BODY, T) == f"t={T},s={KNOWN}"


def test_the_known_header_verifies() -> None:
    result = check(f"t={T},s={KNOWN}")
    assert result == SignatureCheck(True, "ok", T)
    assert bool(result) is True


def test_uppercase_hex_spaces_and_unknown_elements_are_accepted() -> None:
    assert check(f" t = {T} , s = {KNOWN.upper()} , v0=whatever").ok
    assert check(f"s={KNOWN},t={T}").ok
    assert check(f"T={T},S={KNOWN}").ok


@pytest.mark.parametrize("skew", [-300, TOL, 0])
def test_timestamps_within_tolerance_or_a_little_ahead_are_accepted(skew: int) -> None:
    assert check(sign(SECRET, BODY, T), now=T + skew).ok


@pytest.mark.parametrize("skew", [TOL + 1, 10**6])
def test_stale_timestamps_are_rejected_after_the_signature_matches(skew: int) -> None:
    result = check(sign(SECRET, BODY, T), now=T + skew)
    assert (result.ok, result.reason, result.timestamp) == (False, "timestamp outside tolerance", T)


@pytest.mark.parametrize("tolerance", [TOL, 259_200])
def test_a_timestamp_more_than_five_minutes_ahead_is_refused_whatever_the_tolerance(tolerance: int) -> None:
    assert check(sign(SECRET, BODY, T), now=T - 300, tolerance=tolerance).ok
    result = check(sign(SECRET, BODY, T), now=T - 301, tolerance=tolerance)
    assert (result.ok, result.reason, result.timestamp) == (False, "timestamp in the future", T)


def test_72_hour_tolerance_accepts_a_genuine_late_retry() -> None:
    assert check(sign(SECRET, BODY, T), now=T + 72 * 3600, tolerance=259_200).ok


def test_wrong_secret_and_changed_body_are_rejected() -> None:
    assert check(sign("other", BODY, T)).reason == "signature mismatch"
    assert check(sign(SECRET, BODY, T), BODY + b" ").reason == "signature mismatch"
    assert check(sign(SECRET, BODY, T + 1), now=T + 1).ok
    # The timestamp is part of what is signed: moving it breaks the signature.
    assert check(f"t={T + 1},s={KNOWN}", now=T + 1).reason == "signature mismatch"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing header"),
        ("", "missing header"),
        ("   ", "missing header"),
        (b"t=1,s=2", "missing header"),
        (12345, "missing header"),
        (f"s={KNOWN}", "missing element"),
        (f"t={T}", "missing element"),
        ("garbage", "missing element"),
        (f"t={T},t={T},s={KNOWN}", "duplicate element"),
        (f"t={T},s={KNOWN},s={KNOWN}", "duplicate element"),
        (f"t=-{T},s={KNOWN}", "malformed timestamp"),
        (f"t=+{T},s={KNOWN}", "malformed timestamp"),
        (f"t=1e9,s={KNOWN}", "malformed timestamp"),
        (f"t=,s={KNOWN}", "malformed timestamp"),
        (f"t=1234567890123,s={KNOWN}", "malformed timestamp"),
        (f"t=١٢٣,s={KNOWN}", "malformed timestamp"),  # non-ASCII digits
        (f"t={T},s=\x80", "malformed signature"),  # the crash found by hypothesis in a naive verifier
        (f"t={T},s={'é' * 64}", "malformed signature"),
        (f"t={T},s={KNOWN[:-1]}", "malformed signature"),
        (f"t={T},s={KNOWN}0", "malformed signature"),
        (f"t={T},s={'g' * 64}", "malformed signature"),
        (f"t={T},s={KNOWN[:-1]}\x00", "malformed signature"),
        ("t=1," + "x" * 2000, "header too long"),
    ],
)
def test_malformed_headers_are_rejected_with_a_reason(header: Any, reason: str) -> None:
    result = check(header)
    assert not result.ok
    assert result.reason == reason


def test_an_unconfigured_secret_rejects_everything() -> None:
    assert check(sign("", BODY, T), secret="").reason == "no secret configured"


def test_a_body_that_is_not_bytes_is_rejected() -> None:
    assert check(sign(SECRET, BODY, T), BODY.decode()).reason == "body is not bytes"  # type: ignore[arg-type]
    assert check(sign(SECRET, BODY, T), bytearray(BODY)).ok
    assert check(sign(SECRET, BODY, T), memoryview(BODY)).ok


def test_negative_tolerance_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        check(sign(SECRET, BODY, T), tolerance=-1)


def test_sign_refuses_negative_timestamps() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        sign(SECRET, BODY, -1)


def test_the_comparison_is_constant_time_on_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module the verifier calls through
    assert check(sign(SECRET, BODY, T)).ok
    assert not check(sign("wrong", BODY, T)).ok
    assert len(calls) == 2
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


# ------------------------------------------------------------------------------------------ properties


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=512), t=st.integers(0, 4_000_000_000), secret=st.text(min_size=1, max_size=40))
def test_sign_then_verify_roundtrips(body: bytes, t: int, secret: str) -> None:
    assert verify(secret, sign(secret, body, t), body, now=t, tolerance_seconds=0).ok


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=256), extra=st.binary(min_size=1, max_size=8), flip=st.integers(0, 10_000))
def test_any_byte_change_is_rejected(body: bytes, extra: bytes, flip: int) -> None:
    header = sign(SECRET, body, T)
    assert not check(header, body + extra).ok
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        assert not check(header, changed).ok


_hexish = st.text(alphabet="0123456789abcdefABCDEFgxz\x80é\x00 ", min_size=0, max_size=70)
_values = st.one_of(
    st.integers(-10, 10**13).map(str),
    _hexish,
    st.just(KNOWN),
    st.text(max_size=20),
)
_elements = st.tuples(
    st.sampled_from(["t", "s", "T", "S", " t", "s ", "v1", "", "t=s"]),
    st.sampled_from(["=", "", "=="]),
    _values,
)
_headers = st.one_of(
    st.lists(_elements, max_size=6).map(lambda parts: ",".join(k + sep + v for k, sep, v in parts)),
    st.text(max_size=200),
    st.none(),
    st.binary(max_size=40),
    st.integers(),
)


@settings(max_examples=1500, deadline=None)
@given(header=_headers, body=st.binary(max_size=64), now=st.integers(-(10**12), 10**12))
def test_the_verifier_never_raises(header: Any, body: bytes, now: int) -> None:
    result = verify(SECRET, header, body, now=now, tolerance_seconds=TOL)
    assert isinstance(result, SignatureCheck)
    assert isinstance(result.reason, str) and result.reason
    if result.ok:  # only a genuine signature can pass
        assert isinstance(header, str)
        assert (
            header.replace(" ", "").lower().find(f"s={sign(SECRET, body, result.timestamp or 0)[-64:]}") >= 0
        )


def test_signature_and_chunks_import_without_requests_or_pydantic() -> None:
    code = (
        "import sys; import functions.tiktok.signature, functions.tiktok.chunks, functions.tiktok;"
        "heavy = [m for m in ('requests', 'pydantic', 'urllib3', 'boto3') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=_root()
    )
    assert out.stdout.strip() == ""


def _root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[3])

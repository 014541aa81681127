"""Every documented TikTok error code maps to a typed error with the right kind and a readable reason."""

from __future__ import annotations

import json

import pytest

from functions.tiktok.error_codes import ERROR_CODES, OAUTH_ERROR_CODES, ErrorKind
from functions.tiktok.errors import (
    OAuthError,
    OAuthReauthError,
    OAuthRetryableError,
    OAuthTerminalError,
    TikTokError,
    TikTokQuotaError,
    TikTokReauthError,
    TikTokRetryableError,
    TikTokTerminalError,
    UnknownOutcomeError,
    UploadError,
    UploadOffsetMismatchError,
    UploadRejectedError,
    UploadRetriesExhaustedError,
    UploadSourceError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
    error_from_code,
    error_from_envelope,
    oauth_error,
    oauth_error_from_body,
)
from functions.tiktok.fail_reasons import FAIL_REASONS, describe_fail_reason

R, A, Q, X = ErrorKind.RETRYABLE, ErrorKind.REAUTH, ErrorKind.QUOTA_WAIT, ErrorKind.TERMINAL
CLASS = {R: TikTokRetryableError, A: TikTokReauthError, Q: TikTokQuotaError, X: TikTokTerminalError}

# (code, HTTP status TikTok documents for it, expected kind): written out here, not read from the module.
DOCUMENTED = [
    ("access_token_invalid", 401, A),
    ("scope_not_authorized", 401, A),
    ("scope_permission_missed", 400, X),
    ("internal_error", 500, R),
    ("rate_limit_exceeded", 429, Q),
    ("invalid_params", 400, X),
    ("invalid_param", 400, X),
    ("invalid_file_upload", 400, X),
    ("spam_risk_too_many_posts", 403, Q),
    ("spam_risk_too_many_pending_share", 403, Q),
    ("reached_active_user_cap", 403, Q),
    ("spam_risk_user_banned_from_posting", 403, X),
    ("unaudited_client_can_only_post_to_private_accounts", 403, X),
    ("url_ownership_unverified", 403, X),
    ("privacy_level_option_mismatch", 403, X),
    ("app_version_check_failed", 400, X),
    ("invalid_publish_id", 400, X),
    ("token_not_authorized_for_specified_publish_id", 400, X),
    ("publish_not_cancellable", 400, X),
]


def envelope(
    code: str, message: str = "m", log_id: str = "202210112248442CB9319E1FB30C1073F3"
) -> dict[str, object]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": log_id}}


def test_the_table_covers_exactly_the_documented_codes() -> None:
    assert set(ERROR_CODES) == {code for code, _, _ in DOCUMENTED}


@pytest.mark.parametrize(("code", "status", "kind"), DOCUMENTED)
def test_documented_code_maps_to_its_kind(code: str, status: int, kind: ErrorKind) -> None:
    error = error_from_envelope(status, envelope(code, "TikTok's words"))
    assert type(error) is CLASS[kind]
    assert error.kind is kind
    assert (error.code, error.message, error.http_status) == (code, "TikTok's words", status)
    assert error.log_id == "202210112248442CB9319E1FB30C1073F3"
    assert error.reason.endswith(".") and len(error.reason) > 30 and code not in error.reason
    assert code in str(error) and "log_id" in str(error)


@pytest.mark.parametrize(
    "code", ["spam_risk_too_many_posts", "spam_risk_user_banned_from_posting", "reached_active_user_cap"]
)
def test_creator_info_cant_post_now_comes_with_http_200(code: str) -> None:
    error = error_from_envelope(200, envelope(code))
    assert error.kind is (X if code == "spam_risk_user_banned_from_posting" else Q)


def test_rate_limit_defaults_to_a_one_minute_wait_and_keeps_retry_after() -> None:
    assert error_from_envelope(429, envelope("rate_limit_exceeded")).retry_after == 60.0
    assert error_from_envelope(429, envelope("rate_limit_exceeded"), retry_after=7).retry_after == 7
    assert error_from_envelope(403, envelope("spam_risk_too_many_posts")).retry_after is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, R),
        (502, R),
        (503, R),
        (504, R),
        (429, R),
        (408, R),
        (401, A),
        (400, X),
        (403, X),
        (404, X),
        (None, R),
    ],
)
def test_unknown_codes_are_judged_by_http_status(status: int | None, kind: ErrorKind) -> None:
    error = error_from_envelope(status, envelope("brand_new_code", "new"))
    assert error.kind is kind and error.code == "brand_new_code"
    assert "brand_new_code" in error.reason


@pytest.mark.parametrize(
    "body", [None, [], "text", {"data": {}}, {"error": "flat"}, {"error": {"message": "no code"}}]
)
def test_a_missing_or_malformed_envelope_is_judged_by_status(body: object) -> None:
    error = error_from_envelope(503, body)
    assert error.kind is R and error.code == "http_503"
    assert error_from_envelope(400, body).kind is X


def test_logid_spelling_from_the_field_tables_is_read_too() -> None:
    body = {"error": {"code": "invalid_params", "message": "", "logid": "LOG2"}}
    assert error_from_envelope(400, body).log_id == "LOG2"


def test_a_success_envelope_is_not_an_error() -> None:
    with pytest.raises(ValueError, match="success"):
        error_from_envelope(200, envelope("ok"))
    # "ok" with an error status is still an error, judged by the status.
    assert error_from_envelope(500, envelope("ok")).code == "http_500"


def test_errors_serialise_for_post_records() -> None:
    error = error_from_code("internal_error", "boom", http_status=500, log_id="L")
    assert json.loads(json.dumps(error.as_dict())) == {
        "code": "internal_error",
        "kind": "retryable",
        "reason": error.reason,
        "message": "boom",
        "http_status": 500,
        "log_id": "L",
        "retry_after": None,
    }
    assert error.retryable and not error_from_code("invalid_params").retryable
    assert ErrorKind.QUOTA_WAIT.value == str(ErrorKind.QUOTA_WAIT) == "quota_wait"


def test_an_error_can_be_caught_by_its_kind_class_or_the_base() -> None:
    with pytest.raises(TikTokError):
        raise error_from_code("access_token_invalid", http_status=401)
    with pytest.raises(TikTokReauthError):
        raise error_from_code("access_token_invalid", http_status=401)


# ------------------------------------------------------------------------------------------ OAuth

OAUTH_DOCUMENTED = [
    ("invalid_grant", A),
    ("access_denied", A),
    ("invalid_client", X),
    ("unauthorized_client", X),
    ("invalid_request", X),
    ("invalid_scope", X),
    ("unsupported_grant_type", X),
    ("unsupported_response_type", X),
    ("server_error", R),
    ("temporarily_unavailable", R),
]


def test_oauth_table_covers_exactly_the_documented_codes() -> None:
    assert set(OAUTH_ERROR_CODES) == {code for code, _ in OAUTH_DOCUMENTED}


@pytest.mark.parametrize(("code", "kind"), OAUTH_DOCUMENTED)
def test_oauth_error_codes_map_to_kinds(code: str, kind: ErrorKind) -> None:
    body = {"error": code, "error_description": "described", "log_id": "LOG"}
    error = oauth_error_from_body(400, body)
    assert isinstance(error, OAuthError) and isinstance(error, CLASS[kind])
    assert (error.kind, error.code, error.description, error.log_id) == (kind, code, "described", "LOG")
    assert error.reason and code not in error.reason
    # Building one directly classifies it the same way.
    assert OAuthError(code, "d").kind is kind


def test_oauth_specific_classes() -> None:
    assert type(oauth_error("invalid_grant")) is OAuthReauthError
    assert type(oauth_error("server_error")) is OAuthRetryableError
    assert type(oauth_error("invalid_client")) is OAuthTerminalError


def test_unknown_oauth_errors_follow_the_status() -> None:
    assert oauth_error_from_body(503, {"error": "new_thing"}).kind is R
    assert oauth_error_from_body(400, {"error": "new_thing"}).kind is X
    assert oauth_error_from_body(401, {"error": "new_thing"}).kind is A
    assert OAuthError("new_thing", http_status=503).kind is R


@pytest.mark.parametrize("body", [None, "x", {}, {"error": ""}, {"error_description": "only"}])
def test_oauth_bodies_without_an_error_code(body: object) -> None:
    error = oauth_error_from_body(502, body)
    assert error.code == "http_502" and error.kind is R


def test_oauth_error_in_envelope_shape() -> None:
    error = oauth_error_from_body(500, {"error": {"code": "internal_error", "message": "m", "log_id": "L"}})
    assert (error.code, error.description, error.log_id) == ("internal_error", "m", "L")


# ------------------------------------------------------------------------------------ other errors


def test_unknown_outcome_is_not_a_retryable_tiktok_error() -> None:
    error = UnknownOutcomeError("init_video_direct", "read timeout")
    assert not isinstance(error, TikTokError)
    assert "unknown" in str(error) and "reconciled" in str(error)
    assert (error.operation, error.detail) == ("init_video_direct", "read timeout")


@pytest.mark.parametrize(
    ("cls", "code", "kind"),
    [
        (UploadUrlExpiredError, "upload_url_expired", X),
        (UploadTaskMissingError, "upload_task_missing", X),
        (UploadRejectedError, "upload_rejected", X),
        (UploadOffsetMismatchError, "upload_offset_mismatch", X),
        (UploadSourceError, "upload_source_mismatch", X),
        (UploadRetriesExhaustedError, "upload_interrupted", R),
    ],
)
def test_upload_errors(cls: type[UploadError], code: str, kind: ErrorKind) -> None:
    error = cls("detail", http_status=403, acknowledged_bytes=1234)
    assert isinstance(error, UploadError) and isinstance(error, CLASS[kind])
    assert (error.code, error.kind, error.acknowledged_bytes, error.message) == (code, kind, 1234, "detail")
    assert error.reason.endswith(".")


FAIL_DOCUMENTED = {
    "file_format_check_failed": X,
    "duration_check_failed": X,
    "frame_rate_check_failed": X,
    "picture_size_check_failed": X,
    "internal": R,
    "video_pull_failed": R,  # TikTok's guidance: retry once the URL is reachable
    "photo_pull_failed": R,
    "publish_cancelled": X,
    "auth_removed": A,
    "spam_risk_too_many_posts": Q,
    "spam_risk_user_banned_from_posting": X,
    "spam_risk_text": X,
    "spam_risk": X,
}


def test_fail_reasons_cover_the_documented_values() -> None:
    assert set(FAIL_REASONS) == set(FAIL_DOCUMENTED)


@pytest.mark.parametrize(("reason", "kind"), FAIL_DOCUMENTED.items())
def test_fail_reason_kinds(reason: str, kind: ErrorKind) -> None:
    described = describe_fail_reason(reason)
    assert (described.code, described.kind) == (reason, kind)
    assert (
        described.sentence.endswith(".") and f"({reason})" not in described.sentence
    )  # a sentence, not a code


@pytest.mark.parametrize(
    ("reason", "code"), [(None, "unknown"), ("", "unknown"), ("new_reason", "new_reason")]
)
def test_unknown_fail_reasons_are_terminal_and_named(reason: str | None, code: str) -> None:
    described = describe_fail_reason(reason)
    assert described.kind is X and described.code == code and code in described.sentence

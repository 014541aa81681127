"""Typed TikTok errors: every documented error code mapped to what the caller should do about it.

`ErrorKind` is the decision a caller makes: retry soon, ask the creator to reconnect, wait for a quota
window, or give up with a reason a person understands. Classes mirror the kinds so a caller can
`except TikTokQuotaError`, and every error also carries `.kind` for code that switches on it.

The codes themselves are in error_codes.py. Sources: docs/reference/tiktok-api.md §3.3 (chunk PUT
statuses), §7 (limits). Pure stdlib: the webhook and handlers import it without requests/pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from functions.tiktok.error_codes import ERROR_CODES, OAUTH_ERROR_CODES, ErrorKind

# How long a per-minute rate limit takes to clear when TikTok sends no Retry-After (sliding 60 s window).
RATE_LIMIT_WINDOW_SECONDS = 60.0


def kind_for_status(http_status: int | None) -> ErrorKind:
    """The kind of an error whose code we do not know, judged by its HTTP status alone."""
    if http_status is None or http_status >= 500 or http_status in (408, 429):
        return ErrorKind.RETRYABLE
    if http_status == 401:
        return ErrorKind.REAUTH
    return ErrorKind.TERMINAL


class TikTokError(Exception):
    """A failure reported by TikTok (or on the way to it), with what to do about it in `.kind`."""

    default_kind: ClassVar[ErrorKind] = ErrorKind.TERMINAL

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        http_status: int | None = None,
        log_id: str | None = None,
        kind: ErrorKind | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        self.log_id = log_id
        self.kind = kind if kind is not None else self.default_kind
        self.reason = reason or _generic_reason(code, message, http_status)
        # Seconds after which trying again can help, when known (Retry-After, or a rate-limit window).
        self.retry_after = retry_after
        super().__init__(self._summary())

    def _summary(self) -> str:
        parts = [f"{self.code}: {self.reason}"]
        if self.message and self.message not in self.reason:
            parts.append(f"TikTok says: {self.message}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.log_id:
            parts.append(f"log_id {self.log_id}")
        return " | ".join(parts)

    @property
    def retryable(self) -> bool:
        return self.kind is ErrorKind.RETRYABLE

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe summary for post records and logs (TikTok's messages carry no secrets)."""
        return {
            "code": self.code,
            "kind": self.kind.value,
            "reason": self.reason,
            "message": self.message,
            "http_status": self.http_status,
            "log_id": self.log_id,
            "retry_after": self.retry_after,
        }


class TikTokRetryableError(TikTokError):
    default_kind = ErrorKind.RETRYABLE


class TikTokReauthError(TikTokError):
    default_kind = ErrorKind.REAUTH


class TikTokQuotaError(TikTokError):
    default_kind = ErrorKind.QUOTA_WAIT


class TikTokTerminalError(TikTokError):
    default_kind = ErrorKind.TERMINAL


_CLASS_BY_KIND: Mapping[ErrorKind, type[TikTokError]] = {
    ErrorKind.RETRYABLE: TikTokRetryableError,
    ErrorKind.REAUTH: TikTokReauthError,
    ErrorKind.QUOTA_WAIT: TikTokQuotaError,
    ErrorKind.TERMINAL: TikTokTerminalError,
}


class UnknownOutcomeError(Exception):
    """A non-idempotent call (init, code exchange, refresh) was sent but its answer never arrived.

    Deliberately not a TikTokError: no `kind` fits, and code that retries "retryable" errors must never
    catch this. TikTok may have acted on the request; the caller must reconcile (status fetch, webhook,
    or the stored token) before anything is sent again.
    """

    def __init__(self, operation: str, detail: str) -> None:
        self.operation = operation
        self.detail = detail
        super().__init__(
            f"{operation}: the request may have reached TikTok but no answer arrived ({detail}); "
            "the outcome is unknown and must be reconciled, not retried blindly"
        )


class OAuthError(TikTokError):
    """An error from the OAuth token or revoke endpoint: `code` is TikTok's `error` field."""

    def __init__(
        self,
        code: str,
        description: str = "",
        *,
        http_status: int | None = None,
        log_id: str | None = None,
        kind: ErrorKind | None = None,
    ) -> None:
        known = OAUTH_ERROR_CODES.get(code)
        if kind is None:
            kind = known[0] if known else _oauth_default_kind(self, http_status)
        self.description = description
        super().__init__(
            code,
            description,
            http_status=http_status,
            log_id=log_id,
            kind=kind,
            reason=known[1] if known else None,
        )


def _oauth_default_kind(error: OAuthError, http_status: int | None) -> ErrorKind:
    # A kind-specific subclass decides; a bare OAuthError with an unknown code falls back to the status.
    if type(error) is not OAuthError:
        return type(error).default_kind
    return kind_for_status(http_status)


class OAuthRetryableError(OAuthError, TikTokRetryableError):
    pass


class OAuthReauthError(OAuthError, TikTokReauthError):
    pass


class OAuthQuotaError(OAuthError, TikTokQuotaError):
    pass


class OAuthTerminalError(OAuthError, TikTokTerminalError):
    pass


_OAUTH_CLASS_BY_KIND: Mapping[ErrorKind, type[OAuthError]] = {
    ErrorKind.RETRYABLE: OAuthRetryableError,
    ErrorKind.REAUTH: OAuthReauthError,
    ErrorKind.QUOTA_WAIT: OAuthQuotaError,
    ErrorKind.TERMINAL: OAuthTerminalError,
}


class UploadError(TikTokError):
    """A chunk PUT outcome that ends this upload attempt; `acknowledged_bytes` is what TikTok confirmed."""

    code_name: ClassVar[str] = "upload_failed"
    default_reason: ClassVar[str] = "The upload to TikTok failed."

    def __init__(
        self,
        message: str = "",
        *,
        http_status: int | None = None,
        acknowledged_bytes: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.acknowledged_bytes = acknowledged_bytes
        super().__init__(
            self.code_name,
            message,
            http_status=http_status,
            reason=reason or self.default_reason,
            retry_after=retry_after,
        )


class UploadUrlExpiredError(UploadError, TikTokTerminalError):
    code_name = "upload_url_expired"
    default_reason = (
        "TikTok's upload link expired (it lasts one hour from the init call); the post must be started "
        "again with a new init."
    )


class UploadTaskMissingError(UploadError, TikTokTerminalError):
    code_name = "upload_task_missing"
    default_reason = "TikTok has no upload waiting at this link (cancelled, finished or never created)."


class UploadRejectedError(UploadError, TikTokTerminalError):
    code_name = "upload_rejected"
    default_reason = "TikTok rejected an upload request (bad headers or a size that does not match)."


class UploadOffsetMismatchError(UploadError, TikTokTerminalError):
    code_name = "upload_offset_mismatch"
    default_reason = (
        "TikTok's record of the bytes received does not line up with this upload's chunks, so the upload "
        "cannot continue."
    )


class UploadSourceError(UploadError, TikTokTerminalError):
    code_name = "upload_source_mismatch"
    default_reason = "The media file in storage does not match the size declared to TikTok at init."


class UploadRetriesExhaustedError(UploadError, TikTokRetryableError):
    code_name = "upload_interrupted"
    default_reason = (
        "The upload to TikTok kept failing with transient errors; it can resume later from the bytes "
        "TikTok acknowledged."
    )


def _generic_reason(code: str, message: str, http_status: int | None) -> str:
    status = f" (HTTP {http_status})" if http_status is not None else ""
    detail = f": {message}" if message else ""
    return f"TikTok answered with error {code}{status}{detail}."


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_from_code(
    code: str,
    message: str = "",
    *,
    http_status: int | None = None,
    log_id: str | None = None,
    retry_after: float | None = None,
) -> TikTokError:
    """The typed error for an envelope error code; unknown codes are judged by the HTTP status."""
    known = ERROR_CODES.get(code)
    kind = known[0] if known else kind_for_status(http_status)
    if retry_after is None and code == "rate_limit_exceeded":
        retry_after = RATE_LIMIT_WINDOW_SECONDS
    return _CLASS_BY_KIND[kind](
        code,
        message,
        http_status=http_status,
        log_id=log_id,
        reason=known[1] if known else None,
        retry_after=retry_after,
    )


def error_from_envelope(
    http_status: int | None, body_json: object, *, retry_after: float | None = None
) -> TikTokError:
    """The error in a `{"data": ..., "error": {"code", "message", "log_id"}}` response.

    Accepts any decoded body (or None when it was not JSON): a missing or malformed envelope is judged
    by the HTTP status. Raises ValueError when the response is in fact a success (2xx with code "ok").
    """
    error = body_json.get("error") if isinstance(body_json, Mapping) else None
    code = message = log_id = None
    if isinstance(error, Mapping):
        code = _str_or_none(error.get("code"))
        message = error.get("message")
        log_id = _str_or_none(error.get("log_id")) or _str_or_none(error.get("logid"))
    ok_status = http_status is not None and 200 <= http_status < 300
    if code == "ok" and ok_status:
        raise ValueError("the envelope reports success; there is no error to build")
    if code is None or code == "ok":
        code = f"http_{http_status}" if http_status is not None else "invalid_response"
    return error_from_code(
        code,
        message if isinstance(message, str) else "",
        http_status=http_status,
        log_id=log_id,
        retry_after=retry_after,
    )


def oauth_error(
    code: str, description: str = "", *, http_status: int | None = None, log_id: str | None = None
) -> OAuthError:
    """The kind-specific OAuthError subclass for an OAuth `error` value."""
    known = OAUTH_ERROR_CODES.get(code)
    kind = known[0] if known else kind_for_status(http_status)
    return _OAUTH_CLASS_BY_KIND[kind](code, description, http_status=http_status, log_id=log_id, kind=kind)


def oauth_error_from_body(http_status: int | None, body_json: object) -> OAuthError:
    """The error in a flat OAuth error body `{"error", "error_description", "log_id"}` (any shape tolerated)."""
    body = body_json if isinstance(body_json, Mapping) else {}
    error = body.get("error")
    if isinstance(error, Mapping):
        # Some gateway failures come back in the API envelope shape instead of the flat OAuth one.
        code = _str_or_none(error.get("code"))
        description = error.get("message")
        log_id = _str_or_none(error.get("log_id"))
    else:
        code = _str_or_none(error)
        description = body.get("error_description")
        log_id = _str_or_none(body.get("log_id"))
    if code is None or code == "ok":
        code = f"http_{http_status}" if http_status is not None else "invalid_response"
    return oauth_error(
        code,
        description if isinstance(description, str) else "",
        http_status=http_status,
        log_id=log_id,
    )

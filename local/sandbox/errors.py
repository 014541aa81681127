"""The two error shapes TikTok answers with (docs/reference/tiktok-api.md §1.3 flat OAuth errors, §2.1 the v2
envelope)."""

from __future__ import annotations

from typing import Any

from local.sandbox.ids import new_log_id


class ApiError(Exception):
    """A Content Posting API (or upload URL) rejection: HTTP status plus `error.code` in the envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class OAuthError(Exception):
    """A token/revoke endpoint rejection: flat `{"error", "error_description", "log_id"}`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def envelope(data: dict[str, Any] | None, *, code: str = "ok", message: str = "") -> dict[str, Any]:
    """The v2 response body. `data` is None only where TikTok documents an `error`-only body (cancel)."""
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["error"] = {"code": code, "message": message, "log_id": new_log_id()}
    return body


def error_envelope(err: ApiError) -> dict[str, Any]:
    # Whether TikTok sends `data` with an error is not documented; an empty object is the form that
    # neither a client reading `data` nor one ignoring it can trip over.
    return envelope({}, code=err.code, message=err.message)


def oauth_error_body(err: OAuthError) -> dict[str, Any]:
    return {"error": err.error, "error_description": err.description, "log_id": new_log_id()}


# Shorthands for the generic v2 codes (docs/reference/tiktok-api.md §2.1). `invalid_params` is the spelling
# real traffic uses, not the `invalid_param` of the Content Posting pages.
def invalid_params(message: str) -> ApiError:
    return ApiError(400, "invalid_params", message)


def token_invalid(message: str = "The access token is invalid or not found in the request.") -> ApiError:
    return ApiError(401, "access_token_invalid", message)


def scope_not_authorized(scope: str) -> ApiError:
    return ApiError(401, "scope_not_authorized", f"The user did not authorize the scope required: {scope}")


def rate_limited() -> ApiError:
    return ApiError(429, "rate_limit_exceeded", "Too many requests for this access token; retry later.")


def internal_error(status: int = 500) -> ApiError:
    return ApiError(status, "internal_error", "Something went wrong. Please try again later.")

"""What TikTok answers, read into data or our errors: the v2 envelope {"data", "error"} (docs/reference/
tiktok-api.md §2), and the OAuth endpoints' token set or flat {"error", "error_description"} (§1.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from functions.tiktok.errors import (
    TikTokRetryableError,
    UnknownOutcomeError,
    error_from_envelope,
    oauth_error_from_body,
)
from functions.tiktok.http import is_2xx, json_or_none
from functions.tiktok.retry import parse_retry_after

if TYPE_CHECKING:
    import requests

M = TypeVar("M", bound=BaseModel)


def token_body(response: requests.Response, operation: str) -> Mapping[str, Any]:
    """The token endpoint's answer as a mapping, or the error it says (UnknownOutcomeError when it cannot
    be read: the code may be consumed or the refresh token rotated)."""
    status = response.status_code
    body = json_or_none(response)
    if isinstance(body, Mapping):
        if body.get("error"):
            raise oauth_error_from_body(status, body)
        if is_2xx(status):
            return body
    if status >= 500 or is_2xx(status):
        # Sent, and no readable answer: the code may be consumed or the refresh token rotated.
        raise UnknownOutcomeError(operation, f"HTTP {status} without a readable token answer")
    raise oauth_error_from_body(status, body)


def revoke_answer(response: requests.Response) -> None:
    # Success is an empty body (older docs) or {} (newer docs); an error is the flat OAuth shape.
    status = response.status_code
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping) and error.get("code") == "ok":
        error = None
    if is_2xx(status) and not error:
        return
    raise oauth_error_from_body(status, body)


def envelope_data(
    response: requests.Response, operation: str, *, unknown_on_gateway: bool, now: float
) -> dict[str, Any]:
    """`data` of a v2 answer whose envelope says ok; otherwise the error it names (UnknownOutcomeError
    when a call with effects got no envelope at all: TikTok may have acted)."""
    status = response.status_code
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    if isinstance(error, Mapping):
        if error.get("code") == "ok" and is_2xx(status):
            data = body.get("data") if isinstance(body, Mapping) else None
            return dict(data) if isinstance(data, Mapping) else {}
        raise error_from_envelope(status, body, retry_after=retry_after)
    # No TikTok envelope: a gateway or proxy answered, or the body was cut short.
    if unknown_on_gateway and (status >= 500 or is_2xx(status)):
        raise UnknownOutcomeError(operation, f"HTTP {status} without TikTok's JSON answer")
    if is_2xx(status):
        raise TikTokRetryableError(
            "invalid_response",
            reason=f"TikTok's answer to {operation} was not the expected JSON.",
            http_status=status,
        )
    raise error_from_envelope(status, body, retry_after=retry_after)


def parsed(model: type[M], data: Mapping[str, Any], operation: str) -> M:
    """`data` as `model`; a retryable error naming the fields TikTok's answer lacked."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise TikTokRetryableError(
            "invalid_response",
            reason=f"TikTok's answer to {operation} lacked expected fields: {', '.join(fields)}.",
        ) from None

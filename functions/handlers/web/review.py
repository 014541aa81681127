"""HTTP for the review page: the submitted form read from the request, and each result of the review flow
(functions.review.results) answered with a status code, headers and a page or a redirect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, assert_never
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response

from functions.review.choices import Problem
from functions.review.page import POSTED_NOTE, form_page, refused_page, status_page
from functions.review.results import Decided, Refused, ReviewResult, Shown, Tracked

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50
STATUS_OF_FORM = {"open": 200, "refused": 422, "unavailable": 503}


def read_form(event: APIGatewayProxyEventV2) -> tuple[dict[str, list[str]], list[Problem]]:
    """The submitted fields, or none and the problem that kept them from being read (shown on the form)."""
    try:
        text = event.decoded_body or ""
    except ValueError:  # not base64, or not UTF-8
        return {}, [Problem("form", "The form could not be read.")]
    if len(text.encode()) > MAX_FORM_BYTES:
        return {}, [Problem("form", f"The form is larger than {MAX_FORM_BYTES} bytes.")]
    try:
        fields = parse_qs(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:
        return {}, [Problem("form", "The form could not be read.")]
    return fields, []


def respond(result: ReviewResult, *, posted: bool = False) -> Response[str]:
    """The answer to a result; `posted`: the browser comes back from its own Post (`?posted=1`), thanked
    on the status page."""
    match result:
        case Shown(page=page, reason=reason):
            return _page(STATUS_OF_FORM[reason], form_page(page))
        case Tracked(post=post):
            # The status line says where the post is now (it may be published already); the note only
            # acknowledges the decision just made. A discard needs none: its status says it all.
            return _page(200, status_page(post, note=POSTED_NOTE if posted else ""))
        case Decided(review_url=url, outcome=outcome):
            headers = {"Location": f"{url}?{outcome}=1", "Cache-Control": "no-store"}
            return Response(status_code=303, headers=headers, body="")
        case Refused(expired=expired):
            return _page(410 if expired else 404, refused_page(expired=expired))
        case _:
            assert_never(result)


def unreadable_post(post: Mapping[str, Any], why: str) -> Response[str]:
    """A post whose record the review cannot read (post_record_invalid): its status, and why no form."""
    return _page(409, status_page(post, note=f"This post cannot be reviewed: {why}"))


def _page(status: int, rendered: tuple[str, dict[str, str]]) -> Response[str]:
    body, headers = rendered
    return Response(status_code=status, headers=headers, body=body)

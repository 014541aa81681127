"""The management API's post routes: create, list, show, numbers after publishing, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.handlers.api_routes.common import current_wiring, json_body, json_response
from functions.post_status import STATUS_RANK
from functions.posting.cancel import cancel_post
from functions.posting.records import metrics_view, public_view

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

# Said with the post a request names again (post_id_for_request: one post per account and request).
SAME_REQUEST = (
    "this account already has a post made from this same request (same content and settings), so nothing "
    "new was started: this is that post. To post the same content again on purpose, send it with a new "
    '"client_token".'
)


def _post(post_id: str) -> dict[str, Any]:
    post = current_wiring().posts.get(post_id)
    if post is None:
        raise NotFoundError(f"no post {post_id!r}")
    return post


@router.post("/posts")
def create_post() -> Response[dict[str, Any]]:
    w = current_wiring()
    bucket = w.settings.require("media_bucket")
    result = w.post_intake.from_request(bucket=bucket, body=json_body(router), now=w.now())
    post = public_view(result.post or {})
    failed = post.get("status") == "FAILED"  # recorded, but it cannot go (an account not connected...)
    if result.duplicate:
        return json_response(422 if failed else 200, {**post, "message": SAME_REQUEST})
    if failed:
        return json_response(422, {**post, "message": str(post.get("fail_detail") or "the post cannot go")})
    return json_response(202, post)


@router.get("/posts")
def list_posts() -> dict[str, Any]:
    account_id = router.current_event.get_query_string_value("account")
    if not account_id:
        raise BadRequestError("the query parameter 'account' is required")
    status = router.current_event.get_query_string_value("status") or None
    if status is not None and status not in STATUS_RANK:
        raise BadRequestError(f"unknown status {status!r}; known: {', '.join(STATUS_RANK)}")
    posts = current_wiring().posts.list_by_account(account_id, status=status)
    return {"posts": [public_view(p) for p in posts]}


@router.get("/posts/<post_id>")
def get_post(post_id: str) -> dict[str, Any]:
    return public_view(_post(post_id))


@router.get("/posts/<post_id>/metrics")
def get_post_metrics(post_id: str) -> dict[str, Any]:
    return metrics_view(_post(post_id))


@router.delete("/posts/<post_id>")
def delete_post(post_id: str) -> Response[dict[str, Any]]:
    answer = cancel_post(current_wiring(), post_id)
    if answer is None:
        raise NotFoundError(f"no post {post_id!r}")
    if answer.cancelled:
        return json_response(200, public_view(answer.post))
    return json_response(409, {"message": answer.reason, "post": public_view(answer.post)})

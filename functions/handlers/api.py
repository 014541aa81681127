"""The management API (IAM auth): posts and accounts. Thin: parse, call, map errors to 4xx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.logging import correlation_paths

from functions import wiring
from functions.accounts.management import account_view, disconnect, save_preferences
from functions.observability import logger, metrics, tracer
from functions.post_status import STATUS_RANK
from functions.posting.cancel import cancel_post
from functions.posting.finish import emit
from functions.posting.intake import PostIntake
from functions.posting.manifest import ManifestError
from functions.posting.quota_report import quota_report
from functions.posting.records import public_view
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.store.accounts import Account

app = APIGatewayHttpResolver()


def _w() -> wiring.Wiring:
    return wiring.for_settings(settings())


def _json_body() -> dict[str, Any]:
    try:
        body = app.current_event.json_body
    except ValueError:
        raise BadRequestError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    return body


def _account(account_id: str) -> Account:
    account = _w().accounts.get(account_id)
    if account is None:
        raise NotFoundError(f"no account {account_id!r}")
    return account


@app.exception_handler(ManifestError)  # type: ignore[untyped-decorator]
def _bad_manifest(exc: ManifestError) -> Response[dict[str, Any]]:
    return Response(
        status_code=400,
        content_type=content_types.APPLICATION_JSON,
        body={"message": "the request is not a valid post", "problems": exc.problems},
    )


@app.get("/accounts")
def list_accounts() -> dict[str, Any]:
    w = _w()
    return {"accounts": [account_view(w, a) for a in w.accounts.list()]}


@app.get("/accounts/<account_id>")
def get_account(account_id: str) -> dict[str, Any]:
    return account_view(_w(), _account(account_id))


@app.get("/accounts/<account_id>/quota")
def get_quota(account_id: str) -> dict[str, Any]:
    w = _w()
    return quota_report(w, _account(account_id))


@app.put("/accounts/<account_id>/preferences")
def put_preferences(account_id: str) -> dict[str, Any]:
    w = _w()
    return account_view(w, save_preferences(w, _account(account_id), _json_body()))


@app.delete("/accounts/<account_id>")
def delete_account(account_id: str) -> dict[str, Any]:
    w = _w()
    return account_view(w, disconnect(w, _account(account_id), "disconnected through the API"))


@app.post("/posts")
def create_post() -> Response[dict[str, Any]]:
    w = _w()
    intake = PostIntake(
        posts=w.posts,
        accounts=w.accounts,
        media=w.media,
        start_execution=w.workflow.start,
        post_failed=lambda post: emit(w, post),
    )
    result = intake.from_request(bucket=w.settings.require("media_bucket"), body=_json_body(), now=w.now())
    post = public_view(result.post or {})
    status = 202 if result.started else (422 if post.get("status") == "FAILED" else 200)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=post)


@app.get("/posts")
def list_posts() -> dict[str, Any]:
    account_id = app.current_event.get_query_string_value("account")
    if not account_id:
        raise BadRequestError("the query parameter 'account' is required")
    status = app.current_event.get_query_string_value("status") or None
    if status is not None and status not in STATUS_RANK:
        raise BadRequestError(f"unknown status {status!r}; known: {', '.join(STATUS_RANK)}")
    posts = _w().posts.list_by_account(account_id, status=status)
    return {"posts": [public_view(p) for p in posts]}


@app.get("/posts/<post_id>")
def get_post(post_id: str) -> dict[str, Any]:
    post = _w().posts.get(post_id)
    if post is None:
        raise NotFoundError(f"no post {post_id!r}")
    return public_view(post)


@app.delete("/posts/<post_id>")
def delete_post(post_id: str) -> Response[dict[str, Any]]:
    answer = cancel_post(_w(), post_id)
    if answer is None:
        raise NotFoundError(f"no post {post_id!r}")
    if answer.cancelled:
        return Response(
            status_code=200, content_type=content_types.APPLICATION_JSON, body=public_view(answer.post)
        )
    body = {"message": answer.reason, "post": public_view(answer.post)}
    return Response(status_code=409, content_type=content_types.APPLICATION_JSON, body=body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

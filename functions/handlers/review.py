"""GET and POST /review/{token}: the review page (functions.review). No IAM auth: the signed link is the
credential, for one post, until it expires. Thin: resolve the link, let the flow show or decide, and
answer its result (web.review)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from functions import wiring
from functions.handlers.web.review import read_form, respond, unreadable_post
from functions.observability import logger, metrics, tracer
from functions.posting.errors import PostRejectedError
from functions.review.flow import open_link, show, submit
from functions.review.results import Opened, Refused
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()


def _open(token: str) -> tuple[wiring.Wiring, Opened | Refused]:
    w = wiring.for_settings(settings())
    opened = open_link(w, token)
    if isinstance(opened, Opened):
        logger.append_keys(post_id=opened.link.post_id)
    return w, opened


@app.get("/review/<token>")
def get_review(token: str) -> Response[str]:
    w, opened = _open(token)
    if isinstance(opened, Refused):
        return respond(opened)
    posted = bool(app.current_event.get_query_string_value("posted"))
    try:
        return respond(show(w, opened), posted=posted)
    except PostRejectedError as exc:
        return unreadable_post(opened.post, exc.detail)


@app.post("/review/<token>")
def post_review(token: str) -> Response[str]:
    w, opened = _open(token)
    if isinstance(opened, Refused):
        return respond(opened)
    fields, unreadable = read_form(app.current_event)
    try:
        response = respond(submit(w, opened, fields, unreadable))
    except PostRejectedError as exc:
        return unreadable_post(opened.post, exc.detail)
    logger.info("review submitted", extra={"status": response.status_code})
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

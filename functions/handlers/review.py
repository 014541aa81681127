"""GET and POST /review/{token}: the review page (functions.review). No IAM auth: the signed link is the
credential, for one post, until it expires. Thin: resolve the link, then show or decide."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.review.flow import Answer, Refused, open_link, show, submit
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()
FLAGS = ("posted", "discarded", "decided")


def _response(answer: Answer) -> Response[str]:
    return Response(status_code=answer.status, headers=dict(answer.headers), body=answer.body)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return b"\xff"  # not a form: the flow answers that it could not be read


@app.get("/review/<token>")
def get_review(token: str) -> Response[str]:
    w = wiring.for_settings(settings())
    try:
        opened = open_link(w, token)
    except Refused as exc:
        return _response(exc.answer)
    logger.append_keys(post_id=opened.link.post_id)
    flags = [f for f in FLAGS if app.current_event.get_query_string_value(f)]
    return _response(show(w, opened, flags=flags))


@app.post("/review/<token>")
def post_review(token: str) -> Response[str]:
    w = wiring.for_settings(settings())
    try:
        opened = open_link(w, token)
    except Refused as exc:
        return _response(exc.answer)
    logger.append_keys(post_id=opened.link.post_id)
    answer = submit(w, opened, _raw_body())
    logger.info("review submitted", extra={"status": answer.status})
    return _response(answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

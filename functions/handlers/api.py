"""The management API (IAM auth): posts and accounts (api_routes/). Thin: parse, call, map errors to 4xx.
Every error body has one shape (api_routes/common.py): Powertools' own answers are given it here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.logging import correlation_paths

from functions.handlers.api_routes import accounts, posts
from functions.handlers.api_routes.common import error_response
from functions.observability import logger, metrics, tracer
from functions.posting.errors import PostRejectedError
from functions.posting.manifest import ManifestError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()
app.include_router(accounts.router)
app.include_router(posts.router)

_NO_ROUTE = NotFoundError().msg  # what Powertools raises when no route matches


@app.exception_handler(ManifestError)  # type: ignore[untyped-decorator]
def _bad_manifest(exc: ManifestError) -> Response[dict[str, Any]]:
    return error_response(400, "the post is not valid", exc.problems)


@app.exception_handler(PostRejectedError)  # type: ignore[untyped-decorator]
def _unreadable_record(exc: PostRejectedError) -> Response[dict[str, Any]]:
    """A post record a route cannot read (post_record_invalid): the field named, not a 500."""
    return error_response(409, exc.detail)


@app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
def _service_error(exc: ServiceError) -> Response[dict[str, Any]]:
    """Powertools answers `{"statusCode": ..., "message": ...}`; ours carry the message alone."""
    message = str(exc.msg)
    if isinstance(exc, NotFoundError) and message == _NO_ROUTE:
        event = app.current_event
        message = f"no route {event.http_method} {event.path}"
    return error_response(exc.status_code, message)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

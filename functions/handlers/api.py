"""The management API (IAM auth): posts and accounts (api_routes/). Thin: parse, call,
map errors to 4xx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from functions.handlers.api_routes import accounts, posts
from functions.observability import logger, metrics, tracer
from functions.posting.manifest import ManifestError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()
app.include_router(accounts.router)
app.include_router(posts.router)


@app.exception_handler(ManifestError)  # type: ignore[untyped-decorator]
def _bad_manifest(exc: ManifestError) -> Response[dict[str, Any]]:
    return Response(
        status_code=400,
        content_type=content_types.APPLICATION_JSON,
        body={"message": "the request is not a valid post", "problems": exc.problems},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

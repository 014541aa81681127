"""GET /connect and GET /oauth/callback: thin wiring over functions.accounts.connect, answered by
web.connect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from functions import wiring
from functions.accounts.connect import NotConnected
from functions.handlers.web.connect import connected, not_connected, to_tiktok
from functions.handlers.web.state_cookie import cookie_from, secure_cookie
from functions.observability import logger, metrics, tracer
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()


@app.get("/connect")
def connect() -> Response[str]:
    alias = app.current_event.get_query_string_value("alias") or None
    # /connect?another=1: a second TikTok account from the same browser (TikTok shows its account chooser).
    another = app.current_event.get_query_string_value("another") in ("1", "true", "yes")
    s = settings()
    w = wiring.for_settings(s)
    start = w.connect_flow.start(alias=alias, now=w.now(), another_account=another)
    if isinstance(start, NotConnected):
        return not_connected(start)
    return to_tiktok(start, secure=secure_cookie(s.oauth_redirect_uri))


@app.get("/oauth/callback")
def callback() -> Response[str]:
    params = {
        k: v for k, v in (app.current_event.query_string_parameters or {}).items() if isinstance(v, str)
    }
    cookie = cookie_from(app.current_event.cookies or [])
    s = settings()
    w = wiring.for_settings(s)
    result = w.connect_flow.finish(params=params, cookie=cookie, now=w.now())
    secure = secure_cookie(s.oauth_redirect_uri)
    if isinstance(result, NotConnected):
        metrics.add_metric(name="ConnectFailed", unit="Count", value=1)
        logger.info("connect refused", extra={"why": result.message})
        return not_connected(result, cleared=True, secure=secure)
    metrics.add_metric(name="AccountConnected", unit="Count", value=1)
    logger.info("account connected", extra={"account_id": result.account.account_id})
    return connected(result, secure=secure)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""GET /connect and GET /oauth/callback: thin wiring over functions.accounts.connect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from functions import wiring
from functions.accounts.connect import COOKIE_NAME, STATE_TTL_SECONDS, ConnectError
from functions.accounts.pages import PAGE_HEADERS, connected_page, error_page
from functions.observability import logger, metrics, tracer
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()


def _cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        COOKIE_NAME,
        value,
        path="/",
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def _html(status: int, body: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(status_code=status, headers=dict(PAGE_HEADERS), body=body, cookies=cookies or [])


@app.get("/connect")
def connect() -> Response[str]:
    alias = app.current_event.get_query_string_value("alias") or None
    # /connect?another=1: a second TikTok account from the same browser (TikTok shows its account chooser).
    another = app.current_event.get_query_string_value("another") in ("1", "true", "yes")
    try:
        w = wiring.for_settings(settings())
        start = w.connect_flow.start(alias=alias, now=w.now(), another_account=another)
    except ConnectError as exc:
        return _html(exc.status, error_page(exc.message))
    headers = {**PAGE_HEADERS, "Location": start.authorize_url}
    return Response(
        status_code=302, headers=headers, body="", cookies=[_cookie(start.cookie_value, STATE_TTL_SECONDS)]
    )


@app.get("/oauth/callback")
def callback() -> Response[str]:
    params = {
        k: v for k, v in (app.current_event.query_string_parameters or {}).items() if isinstance(v, str)
    }
    cookie = _cookie_from(app.current_event.cookies or [])
    clear = [_cookie("", 0)]
    try:
        w = wiring.for_settings(settings())
        account = w.connect_flow.finish(params=params, cookie=cookie, now=w.now())
    except ConnectError as exc:
        metrics.add_metric(name="ConnectFailed", unit="Count", value=1)
        logger.info("connect refused", extra={"why": exc.message})
        return _html(exc.status, error_page(exc.message), clear)
    metrics.add_metric(name="AccountConnected", unit="Count", value=1)
    logger.info("account connected", extra={"account_id": account.account_id})
    page = connected_page(
        display_name=account.display_name,
        username=account.username,
        account_id=account.account_id,
        posting_paused=account.posting_paused,
    )
    return _html(200, page, clear)


def _cookie_from(cookies: list[str]) -> str | None:
    for item in cookies:
        name, _, value = item.strip().partition("=")
        if name == COOKIE_NAME and value:
            return value
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""What the management API's routes share: the Wiring, the JSON body, the account a path names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError

from functions import wiring
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from functions.store.accounts import Account


def current_wiring() -> wiring.Wiring:
    return wiring.for_settings(settings())


def json_body(router: APIGatewayHttpRouter) -> dict[str, Any]:
    try:
        body = router.current_event.json_body
    except ValueError:
        raise BadRequestError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    return body


def account_named(account_id: str) -> Account:
    account = current_wiring().accounts.get(account_id)
    if account is None:
        raise NotFoundError(f"no account {account_id!r}")
    return account

"""What the management API's routes share: the Wiring, the JSON body, the account a path names, and the
one shape of every error body: `{"message": ...}`, plus `"problems": [...]` when there are several."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
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


def error_body(message: str, problems: Sequence[str] = ()) -> dict[str, Any]:
    """`message` alone says what is wrong: a single problem is part of it; several are listed besides."""
    if len(problems) == 1:
        return {"message": f"{message}: {problems[0]}"}
    if problems:
        return {"message": f"{message} ({len(problems)} problems)", "problems": list(problems)}
    return {"message": message}


def json_response(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def error_response(status: int, message: str, problems: Sequence[str] = ()) -> Response[dict[str, Any]]:
    return json_response(status, error_body(message, problems))

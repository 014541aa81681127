"""The management API's account routes: state, quota, preferences, disconnect."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.accounts.management import account_view, disconnect, save_preferences
from functions.handlers.api_routes.common import account_named, current_wiring, json_body
from functions.posting.quota_report import quota_report

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/accounts")
def list_accounts() -> dict[str, Any]:
    w = current_wiring()
    return {"accounts": [account_view(w, a) for a in w.accounts.list()]}


@router.get("/accounts/<account_id>")
def get_account(account_id: str) -> dict[str, Any]:
    return account_view(current_wiring(), account_named(account_id))


@router.get("/accounts/<account_id>/quota")
def get_quota(account_id: str) -> dict[str, Any]:
    return quota_report(current_wiring(), account_named(account_id))


@router.put("/accounts/<account_id>/preferences")
def put_preferences(account_id: str) -> dict[str, Any]:
    w = current_wiring()
    return account_view(w, save_preferences(w, account_named(account_id), json_body(router)))


@router.delete("/accounts/<account_id>")
def delete_account(account_id: str) -> dict[str, Any]:
    w = current_wiring()
    return account_view(w, disconnect(w, account_named(account_id), "disconnected through the API"))

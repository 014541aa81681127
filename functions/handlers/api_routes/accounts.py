"""The management API's account routes: state, quota, preferences, disconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.accounts.management import account_view, disconnect, save_preferences
from functions.handlers.api_routes.common import account_named, current_wiring, error_response, json_body
from functions.posting.manifest import ManifestError
from functions.posting.quota_report import quota_report

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response

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
def put_preferences(account_id: str) -> dict[str, Any] | Response[dict[str, Any]]:
    w = current_wiring()
    account = account_named(account_id)
    try:
        saved = save_preferences(w, account, json_body(router))
    except ManifestError as exc:  # checked by the manifest's rules, but these are not a post
        return error_response(400, "the preferences are not valid", exc.problems)
    return account_view(w, saved)


@router.delete("/accounts/<account_id>")
def delete_account(account_id: str) -> dict[str, Any]:
    w = current_wiring()
    return account_view(w, disconnect(w, account_named(account_id), "disconnected through the API"))

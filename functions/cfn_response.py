"""The answer a Lambda-backed CloudFormation custom resource sends: a PUT of a JSON document to the
pre-signed `ResponseURL` of the request (CloudFormation's custom resource protocol). Pure stdlib."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 30


def respond(
    event: dict[str, Any], *, ok: bool, physical_id: str, reason: str = "", data: dict[str, str] | None = None
) -> None:
    """Tell CloudFormation how the request went. `data` becomes the resource's attributes (Fn::GetAtt):
    never put a secret in it, CloudFormation shows them."""
    body = json.dumps(
        {
            "Status": "SUCCESS" if ok else "FAILED",
            "Reason": reason or ("done" if ok else "failed"),
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode()
    url = str(event["ResponseURL"])
    if not url.startswith(("https://", "http://")):
        raise ValueError("ResponseURL must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310  # nosec B310
        answer.read()

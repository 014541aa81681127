"""POST /webhooks/tiktok (functions.webhooks.receiver): 200 fast, the work goes through SQS."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.settings import settings
from functions.webhooks.receiver import judge

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def request_parts(event: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """(the raw body, the TikTok-Signature header). The signature covers the exact bytes TikTok sent, so
    the body is base64-decoded here rather than through `decoded_body`, which would also decode it as text."""
    request = APIGatewayProxyEventV2(event)
    body = request.body or ""
    if not isinstance(body, str):
        return None, None
    if not request.is_base64_encoded:
        return body.encode("utf-8"), request.headers.get("tiktok-signature")
    try:
        return base64.b64decode(body, validate=True), request.headers.get("tiktok-signature")
    except (binascii.Error, ValueError):
        return None, None


def _answer(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": message}),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    s = settings()
    w = wiring.for_settings(s)
    client_key, client_secret = w.app_credentials()
    verdict = judge(
        *request_parts(event),
        client_key=client_key,
        client_secret=client_secret,
        now=w.now(),
        tolerance_seconds=s.webhook_tolerance_seconds,
    )
    if verdict.status != 200 or verdict.body is None:
        metrics.add_metric(name="WebhookRejected", unit="Count", value=1)
        logger.info("webhook rejected", extra={"status": verdict.status, "why": verdict.message})
        return _answer(verdict.status, verdict.message)
    w.sqs.send_message(QueueUrl=s.require("webhook_queue_url"), MessageBody=verdict.body)
    metrics.add_metric(name="WebhookAccepted", unit="Count", value=1)
    return _answer(200, "ok")

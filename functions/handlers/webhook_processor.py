"""The webhook queue's consumer (functions.webhooks.processor); failed messages are retried by SQS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.settings import settings
from functions.webhooks.processor import process

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    applied = process(wiring.for_settings(settings()), record.body)
    metrics.add_metric(name="WebhookProcessed", unit="Count", value=1)
    logger.info("webhook processed", extra={"event": applied.event, "effect": applied.effect})


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

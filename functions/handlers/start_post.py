"""S3 objects under posts/ (via SQS) -> post records and workflow executions (functions.posting.intake).

Each SQS message holds one S3 notification; a message whose processing raises is reported as a batch item
failure, so SQS retries it and, after repeated failures, moves it to the DLQ (with an alarm).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

import functions.posting.intake  # noqa: F401 - the manifest's models, which every call needs, load at init
from functions import wiring
from functions.observability import logger, metrics, tracer
from functions.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.posting.intake import PostIntake

processor = BatchProcessor(event_type=EventType.SQS)


def _intake() -> PostIntake:
    return wiring.for_settings(settings()).post_intake


def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    for s3_record in body.get("Records", []):  # s3:TestEvent and other notices carry no Records
        if not str(s3_record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        bucket = s3_record["s3"]["bucket"]["name"]
        obj = s3_record["s3"]["object"]
        key = unquote_plus(obj["key"])
        now = wiring.for_settings(settings()).now()
        result = _intake().from_object(bucket=bucket, key=key, version_id=obj.get("versionId"), now=now)
        post = result.post or {}
        logger.info(
            "object received",
            extra={
                "key": key,
                "post_id": post.get("post_id"),
                "status": post.get("status"),
                "note": result.note,
            },
        )


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

"""The template's SQS event source mappings, delivered by the runtime rather than by moto (which would
invoke the function inside SendMessage and delete the whole batch on success), so that batch item
failures, visibility and redrive behave as on AWS. Kept apart from `LocalAws`: it is the one part that
polls, on the caller's thread or on a background one.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from local.runtime.deployment import Deployment
from local.runtime.lambdas import InProcessLambdas, LocalFunction
from local.runtime.template import EventSourceDef
from local.runtime.ticker import Ticker

LOG = logging.getLogger(__name__)

# The system attributes an SQS record of Lambda carries (as strings).
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "AWSTraceHeader",
)


class QueuePump:
    """Delivers the messages of the event sources' queues to their functions, as Lambda's poller does."""

    def __init__(
        self,
        *,
        sources: Callable[[], list[EventSourceDef]],
        client: Callable[[str], Any],
        function_client: Callable[[LocalFunction, str], Any],
        lambdas: InProcessLambdas,
        deployed: Deployment,
        region: str,
        fast_time: bool,
    ) -> None:
        self._sources = sources
        self._client = client
        self._function_client = function_client
        self._lambdas = lambdas
        self._deployed = deployed
        self._region = region
        self._fast_time = fast_time
        self._lock = threading.Lock()
        self._checked: set[str] = set()  # event source mappings whose role was checked
        self._ticker = Ticker(
            "local-aws-queue-pump", lambda interval: self.pump(max_rounds=10, timeout=interval * 20 + 1)
        )

    def pump(self, max_rounds: int, timeout: float) -> int:
        """Rounds until one finds no message (see `LocalAws.pump_queues`); the messages delivered."""
        delivered = 0
        deadline = time.monotonic() + timeout
        with self._lock:
            for _ in range(max_rounds):
                this_round = sum(self._pump_once(source) for source in self._sources())
                delivered += this_round
                if this_round == 0 or time.monotonic() > deadline:
                    break
        return delivered

    def drained(self) -> bool:
        sqs = self._client("sqs")
        for source in self._sources():
            counts = sqs.get_queue_attributes(
                QueueUrl=self._deployed.queue_urls[source.queue_logical_id],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(counts["ApproximateNumberOfMessages"]) or int(
                counts["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    def _pump_once(self, source: EventSourceDef) -> int:
        url = self._deployed.queue_urls[source.queue_logical_id]
        arn = self._deployed.queue_arns[source.queue_logical_id]
        function = self._deployed.functions.get(source.function_logical_id)
        if function is None:
            return 0
        # Lambda's poller reads and deletes with the function's own role; creating the mapping checks that the
        # role may read the queue's attributes.
        sqs = self._function_client(function, "sqs")
        if source.logical_id not in self._checked:
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"])
            self._checked.add(source.logical_id)
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            received = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return 0
        event = {"Records": [sqs_record(message, arn, self._region) for message in messages]}
        failed_ids = self._deliver(function, source, event)
        for message in messages:
            if message["MessageId"] in failed_ids:
                if self._fast_time:  # the runtime's own shortcut (Lambda lets the visibility timeout run out)
                    self._client("sqs").change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _deliver(self, function: LocalFunction, source: EventSourceDef, event: dict[str, Any]) -> set[str]:
        """The ids of the messages that failed."""
        all_ids = {record["messageId"] for record in event["Records"]}
        try:
            result = self._lambdas.call(function, event)
        except Exception:
            LOG.exception("%s failed on a batch of %d messages", function.spec_name, len(all_ids))
            return all_ids
        if not source.report_batch_item_failures or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in all_ids:
                LOG.warning("%s reported an invalid batch item failure %r", function.spec_name, failure)
                return all_ids
            failed.add(str(identifier))
        return failed

    # --- background thread -------------------------------------------------------------------------

    def start_thread(self, interval: float) -> None:
        self._ticker.start(interval)

    def stop_thread(self) -> None:
        self._ticker.stop()


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received message as Lambda's SQS event record (camelCase, binary values base64, no None)."""
    attributes = message.get("Attributes", {})
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    for value in message_attributes.values():
        if isinstance(value["binaryValue"], bytes):
            value["binaryValue"] = base64.b64encode(value["binaryValue"]).decode()
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {key: str(attributes[key]) for key in _RECORD_ATTRIBUTES if key in attributes},
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }

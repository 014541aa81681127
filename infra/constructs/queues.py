"""SQS queues with a redrive dead-letter queue each (the DLQ depth alarm lives in observability)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class QueueWithDlq(Construct):
    """A work queue whose messages move to a DLQ after `max_receive_count` failed deliveries."""

    def __init__(
        self, scope: Construct, construct_id: str, *, visibility_timeout: Duration, max_receive_count: int = 5
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            visibility_timeout=visibility_timeout,
            retention_period=Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=max_receive_count),
        )

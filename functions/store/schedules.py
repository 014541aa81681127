"""One-off EventBridge Scheduler schedules that invoke a function later with a JSON event: the work after
publishing (functions/posting/after_publish.py) waits hours or days without anything running meanwhile.

A schedule's name says what it is for, so asking twice for the same work creates one schedule; each
deletes itself once it has run (ActionAfterCompletion DELETE).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from functions.store.clients import aws_client

MAX_NAME = 64  # EventBridge Scheduler's limit on a schedule's name


class Schedules:
    def __init__(
        self,
        prefix: str,
        role_arn: str,
        target_arn: str,
        client: Any = None,  # boto3's scheduler client
    ) -> None:
        self.prefix = prefix
        self.role_arn = role_arn
        self.target_arn = target_arn
        self._client = client

    @property
    def _scheduler(self) -> Any:
        self._client = self._client or aws_client("scheduler")  # made on first use, not at import
        return self._client

    def targeting(self, target_arn: str) -> Schedules:
        """The same schedules, invoking another function (a function scheduling more of its own work)."""
        return Schedules(self.prefix, self.role_arn, target_arn, self._client)

    def name(self, *parts: str) -> str:
        text = "-".join([self.prefix, *parts])
        return re.sub(r"[^0-9A-Za-z_.-]", "-", text)[:MAX_NAME]

    def once(self, name: str, at: int, event: dict[str, Any]) -> bool:
        """Invoke the target with `event` at `at` (unix seconds); False when that schedule exists already."""
        if not (self.role_arn and self.target_arn):
            raise RuntimeError("SCHEDULER_ROLE_ARN and the function to invoke are needed to schedule work")
        when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            self._scheduler.create_schedule(
                Name=name,
                ScheduleExpression=f"at({when})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(event),
                    "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 6 * 3600},
                },
                ActionAfterCompletion="DELETE",
            )
        except self._scheduler.exceptions.ConflictException:
            return False
        return True

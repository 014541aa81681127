"""The publishing workflow (Step Functions) as the logic uses it: one execution per post, named after the
post, and the task tokens of the states that wait (the review, TikTok's outcome).

Every call that may find the execution or the wait already gone says so instead of raising: a second start
of the same post is a no-op, a stop of an execution that never started does nothing, and an answer to a
wait that has timed out returns False (the polling branch, or the expired review link, took over).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from functions.settings import SettingMissingError
from functions.store.clients import aws_client

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class Workflow:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def _sfn(self) -> SFNClient:
        self._client = self._client or aws_client("stepfunctions")  # made on first use, not at import
        return self._client

    def _machine(self) -> str:
        if not self.state_machine_arn:
            raise SettingMissingError(
                "setting state_machine_arn is empty: set STATE_MACHINE_ARN in the function's environment"
            )
        return self.state_machine_arn

    def execution_arn(self, post_id: str) -> str:
        return self._machine().replace(":stateMachine:", ":execution:") + f":{post_id}"

    def start(self, post_id: str) -> None:
        """Start the post's execution; a second start of the same post is a no-op (same name, same input)."""
        try:
            self._sfn.start_execution(
                stateMachineArn=self._machine(), name=post_id, input=json.dumps({"post_id": post_id})
            )
        except self._sfn.exceptions.ExecutionAlreadyExists:
            return

    def stop(self, post_id: str, *, error: str, cause: str) -> None:
        try:
            self._sfn.stop_execution(executionArn=self.execution_arn(post_id), error=error, cause=cause)
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return

    def succeed(self, token: str, output: Mapping[str, object]) -> bool:
        """Answer a waiting state with `output`; False when the wait had already ended."""
        return self._answer(lambda: self._sfn.send_task_success(taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, *, error: str, cause: str) -> bool:
        """Fail a waiting state with `error` (its Catch decides what follows); False when it had ended."""
        return self._answer(lambda: self._sfn.send_task_failure(taskToken=token, error=error, cause=cause))

    def _answer(self, send: Any) -> bool:
        errors = self._sfn.exceptions
        try:
            send()
        except (errors.TaskTimedOut, errors.InvalidToken, errors.TaskDoesNotExist):
            return False
        return True

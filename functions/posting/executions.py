"""Starting and stopping the publishing workflow: one execution per post, named after the post."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.wiring import Wiring


def start_execution(w: Wiring, post_id: str) -> None:
    """Start the post's execution; a second start of the same post is a no-op (same name, same input)."""
    sfn = w.stepfunctions
    try:
        sfn.start_execution(
            stateMachineArn=w.settings.require("state_machine_arn"),
            name=post_id,
            input=json.dumps({"post_id": post_id}),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return


def execution_arn(w: Wiring, post_id: str) -> str:
    machine = w.settings.require("state_machine_arn")
    return machine.replace(":stateMachine:", ":execution:") + f":{post_id}"


def stop_execution(w: Wiring, post_id: str, cause: str) -> None:
    sfn = w.stepfunctions
    try:
        sfn.stop_execution(executionArn=execution_arn(w, post_id), error="PostCancelled", cause=cause)
    except sfn.exceptions.ExecutionDoesNotExist:
        return

"""A real Step Functions execution parked on a task token (moto runs it), for tests that answer tokens."""

from __future__ import annotations

import json
import time

from tests.support.world import World


def parked_execution(world: World, name: str, *, timeout_seconds: int = 600) -> tuple[str, str]:
    """(execution ARN, task token) of an execution waiting in a task-token state."""
    sfn, sqs = world.client("stepfunctions"), world.client("sqs")
    queue = sqs.create_queue(QueueName=f"tokens-{name}")["QueueUrl"]
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "TimeoutSeconds": timeout_seconds,
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name=f"m-{name}", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
    for _ in range(250):
        messages = sqs.receive_message(QueueUrl=queue).get("Messages", [])
        if messages:
            return str(arn), str(json.loads(messages[0]["Body"])["token"])
        time.sleep(0.02)
    raise AssertionError("the execution never reached its wait")

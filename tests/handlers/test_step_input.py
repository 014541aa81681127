"""A step handler checks the state machine's payload before any work: a missing or empty field is an error
that names it (and the state machine records the post failed with it), never a KeyError."""

from __future__ import annotations

from typing import Any

import pytest

from functions.handlers import check_status, register_wait, reserve_quota
from functions.handlers.step import StepInputError
from tests.support.lambda_context import FakeContext
from tests.support.world import World


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "needs post_id (a non-empty string), got nothing"),
        ({"post_id": ""}, "needs post_id (a non-empty string), got str ''"),
        ({"post_id": 42}, "needs post_id (a non-empty string), got int 42"),
        (["post_id"], "must be a JSON object, not list"),
    ],
)
def test_a_payload_without_post_id_is_refused_by_name(world: World, event: Any, named: str) -> None:
    for module in (check_status, reserve_quota):
        with pytest.raises(StepInputError, match=named.replace("(", r"\(").replace(")", r"\)")):
            module.handler(event, FakeContext(function_name=module.__name__))


def test_a_wait_registration_needs_its_task_token_too(world: World) -> None:
    with pytest.raises(StepInputError, match="needs task_token"):
        register_wait.handler({"post_id": "p" * 32}, FakeContext(function_name="register_wait"))

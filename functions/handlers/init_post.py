"""Workflow step InitPost (functions.posting.init)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.handlers.step import step_handler
from functions.posting.init import init_post
from functions.wiring import Wiring


@step_handler
def handler(w: Wiring, event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    return init_post(w, event["post_id"])

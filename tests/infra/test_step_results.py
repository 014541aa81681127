"""The state machine reads only fields the steps return: every `$.<step>.<field>` path in the synthesized
definition names a field of that step's result type (functions/posting/step_results.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.posting.step_results import STEP_RESULTS
from tests.infra.test_template import _definition

PATH = re.compile(r"\$\.([a-z_]+)\.([a-z_]+)")


def _paths_read(definition: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f"$.{step}", field) for step, field in PATH.findall(json.dumps(definition))}


def test_every_step_field_the_state_machine_reads_is_declared(template: dict[str, Any]) -> None:
    read = {(step, field) for step, field in _paths_read(_definition(template)) if step in STEP_RESULTS}
    assert read, "the definition reads no step result: the path pattern no longer matches"
    undeclared = sorted(f"{s}.{f}" for s, f in read if f not in STEP_RESULTS[s].__annotations__)
    assert not undeclared, f"the state machine reads fields no step returns: {undeclared}"


def test_the_check_fails_on_a_field_no_step_returns() -> None:
    definition = {"States": {"X": {"Variable": "$.quota.granted"}}}
    read = _paths_read(definition)
    assert ("$.quota", "granted") in read
    assert "granted" not in STEP_RESULTS["$.quota"].__annotations__


@pytest.mark.parametrize("path", sorted(STEP_RESULTS))
def test_each_result_path_is_one_the_workflow_keeps(template: dict[str, Any], path: str) -> None:
    kept = {state.get("ResultPath") for state in _all_states(_definition(template))}
    assert path in kept, f"no state keeps its result at {path}"


def _all_states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    states: list[dict[str, Any]] = []
    for state in definition.get("States", {}).values():
        states.append(state)
        for branch in state.get("Branches", []):
            states.extend(_all_states(branch))
    return states

"""The Repair step in the synthesized template: where the workflow enters it (and where it does not), how its
failures are recorded, and the repair function's own size, layer and least-privilege grants."""

from __future__ import annotations

import json
from typing import Any

from functions.posting.finish import failure_from
from infra.constructs.functions import FUNCTION_SPECS, REPAIR_MEMORY_MB
from tests.infra.conftest import resources_of
from tests.infra.test_template import _definition


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(v["Properties"]["Handler"]).split(".")[2]: v
        for v in resources_of(template, "AWS::Lambda::Function").values()
        if str(v["Properties"].get("Handler", "")).startswith("functions.handlers.")
    }


def _statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = _functions(template)[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _resources(statement: dict[str, Any]) -> str:
    return json.dumps(statement["Resource"])


def test_the_choice_after_prepare_sends_a_post_to_repair_once_then_on(template: dict[str, Any]) -> None:
    states = _definition(template)["States"]
    assert states["Prepare"]["Next"] == "NeedsReview?"
    first = states["NeedsReview?"]["Choices"][0]
    assert first["Next"] == "Repair"
    conditions = json.dumps(first)
    assert '"Variable": "$.prepare.repair"' in conditions and '"BooleanEquals": true' in conditions
    assert '"Variable": "$.repair", "IsPresent": false' in conditions  # entered once: then it is present
    repair = states["Repair"]
    assert repair["Next"] == "NeedsReview?" and repair["ResultPath"] == "$.repair"
    assert repair["Parameters"] == {"post_id.$": "$.post_id"}  # no media, no token travels
    # No other state leads to Repair: a post whose media is fine passes none of it.
    assert [n for n, s in states.items() if s.get("Next") == "Repair" or s.get("Default") == "Repair"] == []


def test_a_refusal_is_recorded_by_name_and_running_out_of_time_in_words(template: dict[str, Any]) -> None:
    states = _definition(template)["States"]
    catches = [(c["ErrorEquals"], c["Next"]) for c in states["Repair"]["Catch"]]
    assert catches == [
        (["RepairRefusedError"], "RecordFailure"),
        (["Sandbox.Timedout", "States.Timeout"], "RepairTimedOut"),
        (["States.ALL"], "RecordFailure"),
    ]
    assert all("RepairRefusedError" not in r["ErrorEquals"] for r in states["Repair"]["Retry"])
    timed_out = states["RepairTimedOut"]
    assert timed_out["Next"] == "RecordFailure" and timed_out["ResultPath"] == "$.error"
    reason, detail = failure_from(timed_out["Result"])
    assert reason == "repair_timed_out" and "nothing was sent to TikTok" in detail
    cause = json.dumps({"errorMessage": "no_video_stream: the file has no video stream"})
    assert failure_from({"Error": "RepairRefusedError", "Cause": cause}) == (
        "no_video_stream",
        "the file has no video stream",
    )


def test_the_repair_function_is_sized_for_its_work_and_alone_carries_pyav(template: dict[str, Any]) -> None:
    functions = _functions(template)
    props = functions["repair"]["Properties"]
    assert props["MemorySize"] == REPAIR_MEMORY_MB == 3008  # the most every account may set
    assert props["Timeout"] == 900
    assert props["EphemeralStorage"] == {"Size": 4096}
    layers = {
        name: [json.dumps(layer) for layer in fn["Properties"]["Layers"]] for name, fn in functions.items()
    }
    (repair_layer,) = [layer for layer in layers["repair"] if "RepairDependencies" in layer]
    assert len(layers["repair"]) == 2
    assert all(repair_layer not in attached for name, attached in layers.items() if name != "repair")
    assert [spec.name for spec in FUNCTION_SPECS if spec.layers] == ["repair"]


def test_only_the_repair_writes_derived_copies_and_only_there(template: dict[str, Any]) -> None:
    writers = {
        name
        for name in _functions(template)
        for statement in _statements(template, name)
        if "s3:PutObject" in json.dumps(statement["Action"]) and "/derived/*" in _resources(statement)
    }
    assert writers == {"repair"}
    repair = _statements(template, "repair")
    s3 = [s for s in repair if "s3:" in json.dumps(s["Action"])]
    grants = sorted((json.dumps(s["Action"]), _resources(s).split('"/')[-1].rstrip('"]}')) for s in s3)
    assert grants == [
        ('"s3:GetObjectVersion"', "derived/*"),
        ('"s3:GetObjectVersion"', "posts/*"),
        ('["s3:PutObject", "s3:AbortMultipartUpload"]', "derived/*"),
    ]
    readers = {
        name
        for name in _functions(template)
        for statement in _statements(template, name)
        if "s3:GetObjectVersion" in json.dumps(statement["Action"]) and "/derived/*" in _resources(statement)
    }
    assert readers == {"repair", "upload_chunks", "review"}  # review: the preview without a media domain

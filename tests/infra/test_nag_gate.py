"""The cdk-nag gate fails synth on an unacknowledged finding, and passes on our stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra.nag import ACKNOWLEDGMENTS, apply_nag


def test_gate_fails_on_a_deliberately_bad_resource(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    # An unencrypted-in-transit, unlogged bucket and a wildcard policy: several AwsSolutions errors.
    bucket = s3.Bucket(stack, "Leaky")
    role = iam.Role(stack, "Wide", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=[bucket.arn_for_objects("*")]))
    cdk.Validations.of(app).add_plugins(*_packs(app))

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert "AwsSolutions-S10" in rules  # bucket without enforced SSL
    assert any(rule.startswith("AwsSolutions-IAM5") for rule in rules)


def test_real_stack_passes_with_every_acknowledgment_reasoned(synthesized: dict[str, Any]) -> None:
    # The fixture's synth would have raised on any unacknowledged finding.
    report = json.loads((synthesized["outdir"] / "validation-report.json").read_text())
    assert all(r["conclusion"] == "success" for r in report["pluginReports"])
    for _scope, rule_id, reason in ACKNOWLEDGMENTS:
        assert len(reason) > 30, f"acknowledgment of {rule_id} needs a real reason"


def test_every_acknowledgment_is_still_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import nag
    from infra.app import build_app

    monkeypatch.setattr(nag, "ACKNOWLEDGMENTS", ())
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        context = {"aws:cdk:bundling-stacks": []}
        build_app(outdir=str(tmp_path), context=context).synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    # Warnings count: cdk-nag 3 fails synth on an unacknowledged warning too.
    found = {
        v["ruleName"]
        for r in report["pluginReports"]
        if r["pluginName"] != "CloudFormation Validate"
        for v in r["violations"]
    }
    acknowledged = {rule_id for _scope, rule_id, _reason in ACKNOWLEDGMENTS}
    assert acknowledged <= found, f"stale acknowledgments: {sorted(acknowledged - found)}"
    assert found <= acknowledged, f"unacknowledged: {sorted(found - acknowledged)}"


def test_an_acknowledgment_for_a_missing_construct_is_an_error() -> None:
    from infra import nag

    app = cdk.App()
    stack = cdk.Stack(app, "Empty")
    original = nag.ACKNOWLEDGMENTS
    nag.ACKNOWLEDGMENTS = (
        ("NoSuchConstruct", "AwsSolutions-S1", "a reason long enough to be accepted here"),
    )
    try:
        with pytest.raises(LookupError, match="NoSuchConstruct"):
            apply_nag(app, stack)
    finally:
        nag.ACKNOWLEDGMENTS = original


def _packs(app: cdk.App) -> list[Any]:
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    return [AwsSolutionsChecks(app), ServerlessChecks(app)]

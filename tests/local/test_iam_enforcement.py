"""The local runtime enforces each function's role as AWS would: take one statement out of a synthesized copy
of the template, and the path that needs it fails with AccessDenied, naming the call; put it back and the
same path works. Identity policies, KMS key policies and queue policies are all read."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functions.tiktok.signature import sign
from local.runtime import LocalAws
from tests.support.events import load_event

CLIENT_KEY, CLIENT_SECRET = "iam-test-key", "iam-test-secret"
APP_SECRET = {"TikTokApp": json.dumps({"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET})}
TemplateEdit = Callable[[dict[str, Any]], None]


def _copy(cdk_out: Path, tmp_path: Path, edit: TemplateEdit) -> Path:
    copy = tmp_path / "cdk.out"
    shutil.copytree(cdk_out, copy)
    path = copy / "TikTokPublisher.template.json"
    template = json.loads(path.read_text())
    edit(template)
    path.write_text(json.dumps(template))
    return copy


def _without_action(function: str, action: str) -> TemplateEdit:
    """Drop `action` from the statements of `function`'s role policy (the statement, if it was alone)."""

    def edit(template: dict[str, Any]) -> None:
        (policy,) = [
            r
            for lid, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and lid.startswith(f"Functions{function.replace('_', '')}Role")
        ]
        kept = []
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            left = [a for a in actions if a != action]
            if left:
                kept.append({**statement, "Action": left if len(left) > 1 else left[0]})
        assert len(kept) < len(policy["Properties"]["PolicyDocument"]["Statement"]) or kept
        policy["Properties"]["PolicyDocument"]["Statement"] = kept

    return edit


def _webhook(body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body)
    return load_event(
        "http/post_webhook",
        body=raw,
        deep={"headers.tiktok-signature": sign(CLIENT_SECRET, raw.encode(), int(time.time()))},
    )


def _event_for_our_app() -> dict[str, Any]:
    return {
        "client_key": CLIENT_KEY,
        "event": "post.publish.complete",
        "create_time": int(time.time()),
        "user_openid": "open-1",
        "content": json.dumps({"publish_id": "p-1", "publish_type": "DIRECT_PUBLISH"}),
    }


def test_the_webhook_needs_its_send_grant(cdk_out: Path, tmp_path: Path) -> None:
    with LocalAws(cdk_out=cdk_out, secrets=APP_SECRET) as rt:
        assert rt.invoke("webhook", _webhook(_event_for_our_app()))["statusCode"] == 200
        assert rt.iam is not None and rt.iam.usage.denials == []
        sqs = rt.client("sqs")
        assert sqs.receive_message(QueueUrl=rt.queue_urls["webhooks"]).get("Messages")

    copy = _copy(cdk_out, tmp_path, _without_action("webhook", "sqs:SendMessage"))
    with LocalAws(cdk_out=copy, secrets=APP_SECRET) as rt:
        with pytest.raises(Exception, match="AccessDenied") as raised:
            rt.invoke("webhook", _webhook(_event_for_our_app()))
        assert "sqs:SendMessage" in str(raised.value) and "because no identity-based policy allows" in str(
            raised.value
        )
        assert rt.iam is not None
        (denial,) = rt.iam.usage.denials
        assert denial.caller == "webhook" and denial.call.startswith(
            "sqs:SendMessage on resource: arn:aws:sqs:"
        )


def test_a_key_policy_that_no_longer_lets_iam_decide_locks_every_table(cdk_out: Path, tmp_path: Path) -> None:
    def edit(template: dict[str, Any]) -> None:
        (key,) = [r for lid, r in template["Resources"].items() if lid.startswith("TablesDataKey")]
        key["Properties"]["KeyPolicy"]["Statement"] = [
            s
            for s in key["Properties"]["KeyPolicy"]["Statement"]
            if ":root" not in json.dumps(s["Principal"])
        ]

    accounts = load_event("http/post_posts", routeKey="GET /accounts", rawPath="/accounts", body=None)
    accounts["requestContext"]["http"].update({"method": "GET", "path": "/accounts"})
    accounts["requestContext"]["routeKey"] = "GET /accounts"
    with LocalAws(cdk_out=cdk_out) as rt:
        assert rt.invoke("api", accounts)["statusCode"] == 200
    with LocalAws(cdk_out=_copy(cdk_out, tmp_path, edit)) as rt:
        with pytest.raises(Exception, match="AccessDeniedException"):  # API Gateway answers 500
            rt.invoke("api", accounts)
        assert rt.iam is not None
        (denial,) = rt.iam.usage.denials
        assert denial.call.startswith("kms:Decrypt on resource: arn:aws:kms:")
        assert "(needed by dynamodb:Scan)" in denial.call
        assert "neither names it nor lets IAM policies" in denial.reason


def test_s3_reaches_the_uploads_queue_only_through_its_queue_policy(cdk_out: Path, tmp_path: Path) -> None:
    def edit(template: dict[str, Any]) -> None:
        for lid in [lid for lid in template["Resources"] if lid.startswith("UploadsQueuePolicy")]:
            del template["Resources"][lid]

    for assembly, delivered in ((cdk_out, True), (_copy(cdk_out, tmp_path, edit), False)):
        with LocalAws(cdk_out=assembly) as rt:
            rt.client("s3").put_object(Bucket=rt.bucket, Key="posts/acct/clip.mp4", Body=b"x")
            waiting = rt.client("sqs").get_queue_attributes(
                QueueUrl=rt.queue_urls["uploads"], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            assert (int(waiting) > 0) is delivered
            assert rt.iam is not None
            denied = [d for d in rt.iam.usage.denials if d.caller == "s3 notifications"]
            assert bool(denied) is not delivered


def test_each_function_runs_as_its_own_role_and_the_operator_is_not_enforced(cdk_out: Path) -> None:
    seen: dict[str, str] = {}

    def whoami(event: Any, context: Any) -> None:
        import boto3

        seen["arn"] = boto3.client("sts").get_caller_identity()["Arn"]

    with LocalAws(cdk_out=cdk_out, handler_overrides={"finish": whoami}) as rt:
        rt.invoke("finish", {})
        role = rt.in_process_client("lambda").get_function_configuration(FunctionName=rt.functions["finish"])[
            "Role"
        ]
        assert seen["arn"].startswith("arn:aws:sts::123456789012:assumed-role/")
        assert seen["arn"].split("/")[1] == role.rsplit("/", 1)[1] and seen["arn"].endswith("/finish")
        rt.client("s3").put_object(Bucket=rt.bucket, Key="anywhere.txt", Body=b"the operator may")
        assert rt.iam is not None and rt.iam.usage.denials == []

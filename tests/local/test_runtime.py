"""The local AWS runtime: the real synthesized stack in moto, driven through small handler overrides
(the real handlers are not needed, and must not be imported before they are invoked)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from functions.settings import Env
from local.runtime import FakeContext, HttpApiServer, LocalAws, LocalFunction
from local.runtime.lambdas import HandlerImportError
from local.runtime.template import deployable_template

SPEC_NAMES = {
    "oauth",
    "api",
    "webhook",
    "webhook_processor",
    "start_post",
    "prepare",
    "reserve_quota",
    "init_post",
    "upload_chunks",
    "register_wait",
    "check_status",
    "finish",
    "register_review",
    "review",
    "media_key",
    "after_publish",
    "repair",
}
Calls = list[tuple[str, Any]]


def recorder(calls: Calls, name: str, *results: Any) -> Callable[[Any, Any], Any]:
    """A handler that records its event and answers `results` in turn (the last one repeats); an
    exception instance among them is raised."""
    answers = list(results)

    def handler(event: Any, context: Any) -> Any:
        calls.append((name, event))
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


class TransientStepError(Exception):
    """Same name as the workflow's retryable error."""


def zulu(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_stack_deploys_into_moto_importing_only_its_custom_resource_handler(
    make_runtime: Callable[..., LocalAws],
) -> None:
    """CloudFormation runs the media key pair's custom resource during the deployment; no other function."""
    before = set(sys.modules)
    runtime = make_runtime(
        env_overrides={Env.TIKTOK_API_BASE_URL: "http://127.0.0.1:9/sandbox"},
        secrets={"TikTokApp": '{"client_key": "ck", "client_secret": "cs"}'},
    )
    imported = {m for m in set(sys.modules) - before if m.startswith("functions.handlers.")}
    assert imported <= {"functions.handlers.media_key"}

    tables = runtime.physical_ids_of("AWS::DynamoDB::Table")
    assert len(tables) == 6
    assert set(tables.values()) <= set(runtime.client("dynamodb").list_tables()["TableNames"])
    s3 = runtime.client("s3")
    assert runtime.bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    notification = s3.get_bucket_notification_configuration(Bucket=runtime.bucket)
    assert notification["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "posts/"}
    ]
    assert set(runtime.queue_urls) == {"uploads", "uploads_dlq", "webhooks", "webhooks_dlq"}
    redrive = runtime.client("sqs").get_queue_attributes(
        QueueUrl=runtime.queue_urls["uploads"], AttributeNames=["RedrivePolicy"]
    )["Attributes"]["RedrivePolicy"]
    assert json.loads(redrive)["maxReceiveCount"] == 5
    machine = runtime.client("stepfunctions").describe_state_machine(
        stateMachineArn=runtime.state_machine_arn
    )
    assert json.loads(machine["definition"])["StartAt"] == "Prepare"
    assert runtime.state_machine_arn.endswith(":stateMachine:TikTokPublisher-publish")

    assert set(runtime.functions) == SPEC_NAMES
    env = runtime.function_env("prepare")
    assert env[Env.POSTS_TABLE] in tables.values()
    assert env[Env.MEDIA_BUCKET] == runtime.bucket
    assert env[Env.TIKTOK_API_BASE_URL] == "http://127.0.0.1:9/sandbox"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == runtime.physical_name("prepare")
    assert runtime.function_env("api")[Env.STATE_MACHINE_ARN] == runtime.state_machine_arn
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=env[Env.TIKTOK_SECRET_ARN])
    assert json.loads(secret["SecretString"]) == {"client_key": "ck", "client_secret": "cs"}
    assert runtime.outputs["TikTokAppSecretArn"] == env[Env.TIKTOK_SECRET_ARN]
    runtime.set_secret("TikTokApp", '{"client_key": "ck2", "client_secret": "cs2"}')
    secret = runtime.client("secretsmanager").get_secret_value(SecretId=env[Env.TIKTOK_SECRET_ARN])
    assert json.loads(secret["SecretString"])["client_key"] == "ck2"


def test_unknown_handler_override_is_refused(cdk_out: Any) -> None:
    with pytest.raises(ValueError, match="prepair"):
        LocalAws(cdk_out=cdk_out, handler_overrides={"prepair": lambda e, c: None}).start()


def test_unsupported_resources_are_replaced_by_what_the_runtime_provides() -> None:
    template = {
        "Resources": {
            "Secret1": {"Type": "AWS::SecretsManager::Secret"},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "DependsOn": ["Secret1", "Role"],
                "Properties": {
                    "Environment": {
                        "Variables": {
                            "ARN": {"Ref": "Secret1"},
                            "URL": {"Fn::GetAtt": ["Api", "ApiEndpoint"]},
                        }
                    },
                    "Description": {"Fn::Sub": "uses ${Secret1} and ${Api.ApiEndpoint} in ${AWS::Region}"},
                },
            },
            "Api": {"Type": "AWS::ApiGatewayV2::Api"},
            "Role": {"Type": "AWS::IAM::Role"},
        },
        "Outputs": {"SecretArn": {"Value": {"Ref": "Secret1"}}},
    }
    rewritten = deployable_template(
        template,
        {"Secret1": lambda name, attr: "arn:secret", "Api": lambda name, attr: f"{name}.{attr}"},
    )
    assert set(rewritten["Resources"]) == {"Fn", "Role"}
    fn = rewritten["Resources"]["Fn"]
    assert fn["DependsOn"] == ["Role"]
    assert fn["Properties"]["Environment"]["Variables"] == {"ARN": "arn:secret", "URL": "Api.ApiEndpoint"}
    assert fn["Properties"]["Description"] == {
        "Fn::Sub": "uses arn:secret and Api.ApiEndpoint in ${AWS::Region}"
    }
    assert rewritten["Outputs"]["SecretArn"]["Value"] == "arn:secret"
    assert "Secret1" in template["Resources"]  # the original is untouched


def test_handler_is_imported_only_when_invoked() -> None:
    missing = LocalFunction(
        name="fn",
        arn="arn",
        logical_id="Fn",
        handler="functions.handlers.no_such_module.handler",
        environment={},
    )
    with pytest.raises(HandlerImportError) as error:
        missing.resolve()
    assert error.value.error_type == "Runtime.ImportModuleError"
    present = LocalFunction(name="fn", arn="arn", logical_id="Fn", handler="json.dumps", environment={})
    assert present.resolve() is json.dumps


def test_workflow_runs_to_succeeded_through_the_cdk_state_machine(
    make_runtime: Callable[..., LocalAws],
) -> None:
    calls: Calls = []
    holder: dict[str, LocalAws] = {}

    def register_wait(event: Any, context: Any) -> Any:
        calls.append(("register_wait", event))

        def answer() -> None:  # the webhook arriving later, on another thread
            time.sleep(0.05)
            holder["rt"].client("stepfunctions").send_task_success(
                taskToken=event["task_token"],
                output=json.dumps({"final": True, "status": "PUBLISH_COMPLETE"}),
            )

        threading.Thread(target=answer, daemon=True).start()
        return {"registered": True}

    overrides = {
        "prepare": recorder(calls, "prepare", {"media": "video"}),
        # No slot first: the workflow waits an hour (instant with fast_time), then tries again.
        "reserve_quota": recorder(
            calls,
            "reserve_quota",
            {"reserved": False, "retry_at": zulu(timedelta(hours=1))},
            {"reserved": True},
        ),
        # A transient error is retried after the CDK Retry's 2 s back-off (instant with fast_time).
        "init_post": recorder(
            calls, "init_post", TransientStepError("TikTok 503"), {"upload": True, "publish_id": "v_pub_1"}
        ),
        "upload_chunks": recorder(calls, "upload_chunks", {"complete": False}, {"complete": True}),
        "register_wait": register_wait,
        "finish": recorder(calls, "finish", {"recorded": True}),
    }
    runtime = holder["rt"] = make_runtime(handler_overrides=overrides)

    started = time.monotonic()
    arn = runtime.start_execution({"post_id": "post-1"})
    result = runtime.wait_execution(arn, timeout=20)
    assert result["status"] == "SUCCEEDED", runtime.execution_history(arn)[-3:]
    assert time.monotonic() - started < 10  # the 1 h wait and 2 s back-off did not really pass

    assert [name for name, _ in calls] == [
        "prepare",
        "reserve_quota",
        "reserve_quota",
        "init_post",
        "init_post",
        "upload_chunks",
        "upload_chunks",
        "register_wait",
        "finish",
    ]
    assert all(event["post_id"] == "post-1" for _, event in calls)
    wait_event = calls[7][1]
    assert set(wait_event) == {"post_id", "task_token"} and wait_event["task_token"]
    assert calls[-1][1] == {"post_id": "post-1", "outcome": {"final": True, "status": "PUBLISH_COMPLETE"}}
    output = json.loads(result["output"])
    assert output["init"] == {"upload": True, "publish_id": "v_pub_1"}
    assert output["outcome"]["final"] is True
    assert [e["executionArn"] for e in runtime.executions()] == [arn]


def test_a_token_answered_inside_the_wait_invocation_resumes_the_execution(
    make_runtime: Callable[..., LocalAws],
) -> None:
    calls: Calls = []
    holder: dict[str, LocalAws] = {}

    def register_wait(event: Any, context: Any) -> Any:  # answers before returning, on the same thread
        holder["rt"].client("stepfunctions").send_task_success(
            taskToken=event["task_token"], output=json.dumps({"final": True, "status": "SEND_TO_USER_INBOX"})
        )
        return {}

    runtime = holder["rt"] = make_runtime(
        handler_overrides={
            "prepare": recorder(calls, "prepare", {"publish_at": zulu(timedelta(days=2))}),
            "reserve_quota": recorder(calls, "reserve_quota", {"reserved": True}),
            "init_post": recorder(calls, "init_post", {"upload": False}),
            "register_wait": register_wait,
            "finish": recorder(calls, "finish", None),
        }
    )
    result = runtime.wait_execution(runtime.start_execution({"post_id": "post-2"}), timeout=20)
    assert result["status"] == "SUCCEEDED"
    assert [n for n, _ in calls] == ["prepare", "reserve_quota", "init_post", "finish"]
    assert calls[-1][1]["outcome"] == {"final": True, "status": "SEND_TO_USER_INBOX"}
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in runtime.execution_history(result["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    assert "WaitForPublishAt" in entered and "UploadChunks" not in entered


def test_an_init_that_found_no_slot_waits_for_quota_again(make_runtime: Callable[..., LocalAws]) -> None:
    calls: Calls = []
    holder: dict[str, LocalAws] = {}

    def register_wait(event: Any, context: Any) -> Any:
        calls.append(("register_wait", event))
        holder["rt"].client("stepfunctions").send_task_success(
            taskToken=event["task_token"], output=json.dumps({"final": True, "status": "PUBLISH_COMPLETE"})
        )
        return {}

    runtime = holder["rt"] = make_runtime(
        handler_overrides={
            "prepare": recorder(calls, "prepare", {}),
            "reserve_quota": recorder(
                calls,
                "reserve_quota",
                {"reserved": True},
                {"reserved": False, "retry_at": zulu(timedelta(hours=20))},
                {"reserved": True},
            ),
            # The slot lapsed while TikTok said "not now" and the cap is full: back to ReserveQuota.
            "init_post": recorder(calls, "init_post", {"upload": False, "requeue": True}, {"upload": False}),
            "register_wait": register_wait,
            "finish": recorder(calls, "finish", None),
        }
    )
    result = runtime.wait_execution(runtime.start_execution({"post_id": "post-4"}), timeout=20)
    assert result["status"] == "SUCCEEDED", runtime.execution_history(result["executionArn"])[-3:]
    assert [n for n, _ in calls] == [
        "prepare",
        "reserve_quota",
        "init_post",
        "reserve_quota",
        "reserve_quota",
        "init_post",
        "register_wait",
        "finish",
    ]


def test_a_failing_step_is_recorded_then_the_execution_fails(make_runtime: Callable[..., LocalAws]) -> None:
    calls: Calls = []
    runtime = make_runtime(
        handler_overrides={
            "prepare": recorder(calls, "prepare", {}),
            "reserve_quota": recorder(calls, "reserve_quota", ValueError("privacy_level is required")),
            "finish": recorder(calls, "finish", None),
        }
    )
    result = runtime.wait_execution(runtime.start_execution({"post_id": "post-3"}), timeout=20)
    assert result["status"] == "FAILED"
    assert result["error"] == "PostFailed"
    assert [n for n, _ in calls] == ["prepare", "reserve_quota", "finish"]
    recorded = calls[-1][1]
    assert recorded["post_id"] == "post-3"
    assert recorded["error"]["Error"] == "ValueError"
    assert "privacy_level is required" in recorded["error"]["Cause"]


def test_invoke_runs_the_handler_with_its_environment_and_a_context(
    make_runtime: Callable[..., LocalAws],
) -> None:
    seen: dict[str, Any] = {}

    def api(event: Any, context: FakeContext) -> Any:
        seen.update(
            env_table=os.environ[Env.POSTS_TABLE],
            env_extra=os.environ["EXTRA_SETTING"],
            function_name=context.function_name,
            arn=context.invoked_function_arn,
            memory=context.memory_limit_in_mb,
            remaining=context.get_remaining_time_in_millis(),
            request_id=context.aws_request_id,
        )
        if event.get("explode"):
            raise KeyError("boom")
        return {"echo": event}

    runtime = make_runtime(handler_overrides={"api": api}, env_overrides={"EXTRA_SETTING": "on"})
    assert "EXTRA_SETTING" not in os.environ
    assert runtime.invoke("api", {"a": 1}) == {"echo": {"a": 1}}
    # Left set while the runtime runs (other threads may be reading os.environ), removed when it stops.
    assert os.environ["EXTRA_SETTING"] == "on"
    assert seen["env_table"] == runtime.function_env("api")[Env.POSTS_TABLE]
    assert seen["env_extra"] == "on"
    assert seen["function_name"] == runtime.physical_name("api")
    assert seen["arn"].endswith(f":function:{seen['function_name']}")
    assert seen["memory"] == 512
    assert 0 < seen["remaining"] <= 30_000
    assert seen["request_id"]

    lam = runtime.client("lambda")
    ok = lam.invoke(FunctionName=runtime.physical_name("api"), Payload=json.dumps({"b": 2}))
    assert json.loads(ok["Payload"].read()) == {"echo": {"b": 2}}
    failed = lam.invoke(FunctionName=runtime.physical_name("api"), Payload=json.dumps({"explode": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "KeyError"
    seen.clear()
    queued = lam.invoke(FunctionName=runtime.physical_name("api"), InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    deadline = time.monotonic() + 5
    while "function_name" not in seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen["function_name"] == runtime.physical_name("api")


def test_an_object_under_posts_reaches_start_post_through_sqs(make_runtime: Callable[..., LocalAws]) -> None:
    calls: Calls = []
    runtime = make_runtime(
        handler_overrides={"start_post": recorder(calls, "start_post", {"batchItemFailures": []})}
    )
    s3 = runtime.client("s3")
    s3.put_object(Bucket=runtime.bucket, Key="posts/acct-1/clip one.mp4", Body=b"\x00" * 64)
    s3.put_object(Bucket=runtime.bucket, Key="elsewhere/ignored.mp4", Body=b"\x00")
    assert runtime.pump_queues() >= 1

    bodies = [json.loads(r["body"]) for _, event in calls for r in event["Records"]]
    s3_records = [rec for body in bodies for rec in body.get("Records", [])]
    # S3 also sends its s3:TestEvent when the notification is configured, as on AWS.
    assert all("Records" in body or body.get("Event") == "s3:TestEvent" for body in bodies)
    assert [rec["s3"]["object"]["key"] for rec in s3_records] == ["posts/acct-1/clip+one.mp4"]
    record = calls[0][1]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].split(":")[-1] == runtime.queue_urls["uploads"].rsplit("/", 1)[-1]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert runtime.pump_queues() == 0  # deleted after success


def test_batch_item_failures_are_retried_and_poison_messages_reach_the_dlq(
    make_runtime: Callable[..., LocalAws],
) -> None:
    attempts: dict[str, int] = {}

    def start_post(event: Any, context: Any) -> Any:
        failures = []
        for record in event["Records"]:
            body = record["body"]
            attempts[body] = attempts.get(body, 0) + 1
            if body == "poison" or (body == "flaky" and attempts[body] == 1):
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    runtime = make_runtime(handler_overrides={"start_post": start_post})
    sqs = runtime.client("sqs")
    runtime.pump_queues()  # S3's test event
    attempts.clear()
    for body in ("fine", "flaky", "poison"):
        sqs.send_message(QueueUrl=runtime.queue_urls["uploads"], MessageBody=body)
    runtime.pump_queues()
    assert attempts == {"fine": 1, "flaky": 2, "poison": 5}  # maxReceiveCount of the template
    dlq = sqs.receive_message(QueueUrl=runtime.queue_urls["uploads_dlq"], MaxNumberOfMessages=10)
    assert [m["Body"] for m in dlq["Messages"]] == ["poison"]
    assert runtime.pump_queues() == 0


def test_a_raising_handler_fails_the_whole_batch(make_runtime: Callable[..., LocalAws]) -> None:
    deliveries: list[list[str]] = []

    def webhook_processor(event: Any, context: Any) -> Any:
        deliveries.append([r["body"] for r in event["Records"]])
        if len(deliveries) == 1:
            raise RuntimeError("table unavailable")
        return None

    runtime = make_runtime(
        handler_overrides={"webhook_processor": webhook_processor, "start_post": lambda event, context: None}
    )
    sqs = runtime.client("sqs")
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=runtime.queue_urls["webhooks"], MessageBody=body)
    runtime.start_pump_thread(interval=0.01)
    deadline = time.monotonic() + 10
    while len(deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    runtime.stop_pump_thread()
    assert [sorted(d) for d in deliveries] == [["a", "b"], ["a", "b"]]
    assert runtime.pump_queues() == 0


def test_http_api_serves_the_template_routes(make_runtime: Callable[..., LocalAws]) -> None:
    calls: Calls = []
    api_response = {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-post": "1"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        "body": json.dumps({"ok": True}),
    }
    runtime = make_runtime(
        handler_overrides={
            "api": recorder(calls, "api", api_response),
            "webhook": recorder(calls, "webhook", {"statusCode": 200, "body": ""}),
            "oauth": recorder(calls, "oauth", {"redirect": "plain result"}, RuntimeError("oauth broke")),
        }
    )
    with HttpApiServer(runtime) as api:
        base = api.base_url
        assert runtime.function_env("oauth")[Env.OAUTH_REDIRECT_URI] == f"{base}/oauth/callback"
        assert runtime.outputs["WebhookUrl"] == f"{base}/webhooks/tiktok"

        got = requests.get(
            f"{base}/posts/post%2042?tag=a&tag=b&empty=",
            headers={"Cookie": "sid=xyz; theme=dark", "X-Custom": "v"},
            timeout=5,
            allow_redirects=False,
        )
        assert got.status_code == 201
        assert got.json() == {"ok": True}
        assert got.headers["x-post"] == "1"
        assert got.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
        event = calls[-1][1]
        assert event["version"] == "2.0"
        assert event["routeKey"] == "GET /posts/{post_id}"
        assert event["rawPath"] == "/posts/post%2042"
        assert event["pathParameters"] == {"post_id": "post 42"}
        assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
        assert event["rawQueryString"] == "tag=a&tag=b&empty="
        assert event["cookies"] == ["sid=xyz", "theme=dark"]
        assert event["headers"]["x-custom"] == "v" and "cookie" not in event["headers"]
        context = event["requestContext"]
        assert context["http"]["method"] == "GET" and context["http"]["sourceIp"] == "127.0.0.1"
        assert context["stage"] == "$default" and context["routeKey"] == "GET /posts/{post_id}"
        assert context["authorizer"]["iam"]["userArn"] == "arn:aws:iam::123456789012:user/local"
        assert event["isBase64Encoded"] is False and "body" not in event

        raw = b'{"event":"post.publish.complete","content":"{\\"publish_id\\":\\"v_1\\"}"}'
        hook = requests.post(
            f"{base}/webhooks/tiktok",
            data=raw,
            headers={"Content-Type": "application/json", "TikTok-Signature": "t=1,s=abc"},
            timeout=5,
        )
        assert hook.status_code == 200
        event = calls[-1][1]
        assert event["routeKey"] == "POST /webhooks/tiktok"
        assert event["body"].encode() == raw and event["isBase64Encoded"] is False
        assert event["headers"]["tiktok-signature"] == "t=1,s=abc"
        assert "authorizer" not in event["requestContext"]

        binary = requests.post(
            f"{base}/posts",
            data=b"\x00\xffdata",
            headers={"Content-Type": "application/octet-stream"},
            timeout=5,
        )
        assert binary.status_code == 201
        assert calls[-1][1]["isBase64Encoded"] is True and calls[-1][1]["body"] == "AP9kYXRh"

        inferred = requests.get(f"{base}/connect", timeout=5, allow_redirects=False)
        assert inferred.status_code == 200 and inferred.json() == {"redirect": "plain result"}
        broken = requests.get(f"{base}/oauth/callback?code=x", timeout=5)
        assert broken.status_code == 500 and broken.json() == {"message": "Internal Server Error"}

        count = len(calls)
        for method, path in (
            ("GET", "/nope"),
            ("PATCH", "/posts/1"),
            ("GET", "/posts/1/extra"),
            ("GET", "/posts/"),
        ):
            missing = requests.request(method, f"{base}{path}", timeout=5)
            assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"}), path
        assert len(calls) == count
    assert runtime.api_base_url is None


def test_server_mode_serves_boto3_over_http_and_handlers_use_it(
    make_runtime: Callable[..., LocalAws],
) -> None:
    seen: dict[str, Any] = {}

    def upload_chunks(event: Any, context: Any) -> Any:
        s3 = boto3.client("s3")  # as a handler builds it: endpoint and credentials from the environment
        seen["endpoint"] = s3.meta.endpoint_url
        bucket = os.environ[Env.MEDIA_BUCKET]
        body = s3.get_object(Bucket=bucket, Key="posts/a/for-handler.txt", VersionId=event["version"])["Body"]
        try:  # the role reads media; it may not write it, over HTTP as in process
            s3.put_object(Bucket=bucket, Key="posts/a/from-handler.txt", Body=b"hi")
        except ClientError as exc:
            seen["write"] = exc.response["Error"]["Code"]
        return {"ok": body.read().decode()}

    calls: Calls = []

    def register_wait(event: Any, context: Any) -> None:
        runtime.client("stepfunctions").send_task_success(
            taskToken=event["task_token"], output='{"final": true}'
        )

    runtime = make_runtime(
        server=True,
        handler_overrides={
            "upload_chunks": upload_chunks,
            "prepare": recorder(calls, "prepare", {}),
            "reserve_quota": recorder(calls, "reserve_quota", {"reserved": True}),
            "init_post": recorder(calls, "init_post", {"upload": False}),
            "register_wait": register_wait,
            "finish": recorder(calls, "finish", None),
        },
    )
    assert runtime.endpoint_url and runtime.endpoint_url.startswith("http://127.0.0.1:")
    assert runtime.function_env("upload_chunks")["AWS_ENDPOINT_URL"] == runtime.endpoint_url
    s3 = runtime.client("s3")
    assert s3.meta.endpoint_url == runtime.endpoint_url
    assert runtime.bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}

    version = s3.put_object(Bucket=runtime.bucket, Key="posts/a/for-handler.txt", Body=b"hi")["VersionId"]
    assert runtime.invoke("upload_chunks", {"version": version}) == {"ok": "hi"}
    assert seen["endpoint"] == runtime.endpoint_url
    assert seen["write"] == "AccessDenied"
    listing = requests.get(f"{runtime.endpoint_url}/{runtime.bucket}?list-type=2", timeout=5)
    assert listing.status_code == 200 and b"for-handler.txt" in listing.content
    assert b"from-handler.txt" not in listing.content

    sfn = runtime.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=runtime.state_machine_arn, name="server-mode", input='{"post_id": "p"}'
    )["executionArn"]
    assert runtime.wait_execution(arn, timeout=20)["status"] == "SUCCEEDED"
    assert [n for n, _ in calls] == ["prepare", "reserve_quota", "init_post", "finish"]


def test_stopping_removes_the_settings_handler_runs_left(cdk_out: Path) -> None:
    runtime = LocalAws(
        cdk_out=cdk_out, handler_overrides={"api": lambda e, c: {}}, env_overrides={"LEFT_BY_A_RUN": "yes"}
    ).start()
    try:
        runtime.invoke("api", {})
        assert os.environ["LEFT_BY_A_RUN"] == "yes"
    finally:
        runtime.stop()
    assert "LEFT_BY_A_RUN" not in os.environ

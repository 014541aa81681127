"""What the synthesized template promises: encryption, least privilege, retries, routes, runtime."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from functions.posting.finish import failure_from
from functions.settings import Env
from infra.config import DeploymentConfig
from infra.constructs.access import TOKEN_DECRYPT
from infra.constructs.api import ROUTES
from infra.constructs.functions import FUNCTION_SPECS
from tests.infra.conftest import resources_of

ROOT = Path(__file__).resolve().parents[2]


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = resources_of(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(_resolve(p) for p in parts))  # type: ignore[no-any-return]


def _resolve(part: object) -> str:
    """A plausible value for each CloudFormation token inside the definition string."""
    if isinstance(part, str):
        return part
    if part == {"Ref": "AWS::Partition"}:
        return "aws"
    assert isinstance(part, dict) and "Fn::GetAtt" in part, part
    return f"arn:aws:lambda:eu-west-1:123456789012:function:{part['Fn::GetAtt'][0]}"


def test_every_table_is_encrypted_with_a_cmk_and_recoverable(template: dict[str, Any]) -> None:
    tables = resources_of(template, "AWS::DynamoDB::Table")
    assert len(tables) == 6
    for name, table in tables.items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["SSESpecification"]["SSEType"] == "KMS", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name


def test_only_token_functions_may_decrypt_tokens(template: dict[str, Any]) -> None:
    key_ids = [k for k, v in resources_of(template, "AWS::KMS::Key").items() if "TokenKey" in k]
    assert len(key_ids) == 1
    token_key = key_ids[0]
    allowed = {s.name.replace("_", "") for s in FUNCTION_SPECS if TOKEN_DECRYPT in s.capabilities}
    holders = set()
    for name, policy in resources_of(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "kms:Decrypt" not in actions or token_key not in json.dumps(statement["Resource"]):
                continue
            condition = statement["Condition"]["StringEquals"]
            # The app secret and the review-link key are encrypted with the same key: their readers (the
            # webhook among them) may decrypt only through Secrets Manager.
            if "kms:ViaService" in condition:
                assert condition["kms:ViaService"].startswith("secretsmanager."), statement
            else:  # directly: the tokens alone, by their encryption context
                assert condition == {"kms:EncryptionContext:purpose": "tiktok-tokens"}, statement
                holders.add(name)
    readers = {h.removeprefix("Functions").split("Role")[0] for h in holders}
    assert readers == allowed, readers
    key_policy = template["Resources"][token_key]["Properties"]["KeyPolicy"]["Statement"]
    for statement in key_policy:  # no function is named by the key policy: IAM decides
        assert "Functions" not in json.dumps(statement["Principal"]), statement


def test_lambdas_run_the_latest_python_on_arm(template: dict[str, Any]) -> None:
    ours = {
        k: v
        for k, v in resources_of(template, "AWS::Lambda::Function").items()
        if str(v["Properties"].get("Handler", "")).startswith("functions.handlers.")
    }
    assert len(ours) == len(FUNCTION_SPECS)
    for name, fn in ours.items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.14", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"]["Mode"] == "Active", name
        env = props["Environment"]["Variables"]
        assert Env.TIKTOK_SECRET_ARN in env
        # Secrets are referenced by ARN, never held in the environment.
        assert all(k.endswith("_ARN") for k in env if "SECRET" in k), env.keys()


def test_every_task_retries_with_jitter_and_catches_into_a_recorded_failure(template: dict[str, Any]) -> None:
    states = _definition(template)["States"]
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task"}
    assert {
        "Prepare",
        "ReserveQuota",
        "InitPost",
        "UploadChunks",
        "AwaitOutcome",
        "CheckStatus",
        "Finish",
    } <= set(tasks)
    for name, task in tasks.items():
        for retry in task.get("Retry", []):
            assert retry["JitterStrategy"] == "FULL", name
            assert "MaxDelaySeconds" in retry, name
            if retry["ErrorEquals"] == ["QuotaWaitError"]:  # TikTok's "not now": wait for days, not fail
                assert retry["MaxAttempts"] == 24 and retry["MaxDelaySeconds"] == 6 * 3600, name
            else:
                assert retry["MaxAttempts"] <= 8, name
        if name != "RecordFailure":
            assert task["Retry"], name
            catches = [c for c in task["Catch"] if "States.ALL" in c["ErrorEquals"]]
            assert catches and catches[0]["Next"] == "RecordFailure", name
    assert states["AwaitOutcome"]["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert "TimeoutSeconds" in states["AwaitOutcome"]
    assert states["AwaitOutcome"]["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.timeout",
        "Next": "CheckStatus",
    }
    assert states["AwaitReview"]["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert states["AwaitReview"]["TimeoutSeconds"] == 259_200  # cdk.json review_expiry_seconds
    assert states["AwaitReview"]["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.error",
        "Next": "ReviewExpired",
    }


def test_a_direct_video_with_webhook_passes_at_most_twelve_states(template: dict[str, Any]) -> None:
    states = _definition(template)["States"]
    path, name = [], _definition(template)["StartAt"]
    choices = {
        "NeedsReview?": "ReserveQuota",
        "QuotaReserved?": "InitPost",
        "NeedsUpload?": "UploadChunks",
        "UploadDone?": "AwaitOutcome",
    }
    while name:
        path.append(name)
        state = states[name]
        name = choices.get(name) or state.get("Next")
        if state["Type"] == "Choice" and name is None:
            break
    assert path[-1] == "Done"
    assert len(path) <= 12, path


def test_an_init_that_found_no_slot_goes_back_to_reserve_quota(template: dict[str, Any]) -> None:
    choice = _definition(template)["States"]["NeedsUpload?"]
    requeue = [c for c in choice["Choices"] if "requeue" in json.dumps(c)]
    assert len(requeue) == 1 and requeue[0]["Next"] == "ReserveQuota"
    assert choice["Default"] == "AwaitOutcome"


def test_a_post_needing_review_waits_then_goes_on_or_fails_clearly(template: dict[str, Any]) -> None:
    states = _definition(template)["States"]
    route = states["NeedsReview?"]
    # Repair first (the review previews the repaired copy), then review before publish_at: nothing waits
    # unreviewed.
    assert [choice["Next"] for choice in route["Choices"][:2]] == ["Repair", "AwaitReview"]
    assert route["Default"] == "ReserveQuota"
    await_review = states["AwaitReview"]
    assert await_review["Next"] == "HasPublishAt?"
    assert await_review["Parameters"]["Payload"] == {
        "post_id.$": "$.post_id",
        "task_token.$": "$$.Task.Token",
    }
    assert await_review["ResultPath"] is None  # the decision lives on the post record, not in the state
    expired = states["ReviewExpired"]
    assert expired["Next"] == "RecordFailure" and expired["ResultPath"] == "$.error"
    assert expired["Result"]["Error"] == "PostRejectedError"
    reason, detail = failure_from(expired["Result"])  # what RecordFailure writes on the post
    assert reason == "review_expired" and "within 72 hours" in detail and "nothing was sent" in detail
    assert states["HasPublishAt?"]["Default"] == "ReserveQuota"


def test_the_review_functions_answer_task_tokens_and_read_the_link_key(template: dict[str, Any]) -> None:
    functions = {
        str(v["Properties"]["Handler"]).split(".")[2]: v
        for v in resources_of(template, "AWS::Lambda::Function").values()
        if str(v["Properties"].get("Handler", "")).startswith("functions.handlers.")
    }
    for name in ("review", "register_review"):
        env = functions[name]["Properties"]["Environment"]["Variables"]
        assert {Env.REVIEW_LINK_KEY_ARN, Env.REVIEW_BASE_URL, Env.REVIEW_EXPIRY_SECONDS} <= set(env), name
        assert env[Env.REVIEW_ALL_DIRECT_POSTS] == "false"
    for name, fn in functions.items():
        if name not in ("review", "register_review"):
            assert Env.REVIEW_LINK_KEY_ARN not in fn["Properties"]["Environment"]["Variables"], name
    policies = json.dumps(resources_of(template, "AWS::IAM::Policy"))
    assert "states:SendTaskSuccess" in policies
    (key,) = [k for k in resources_of(template, "AWS::SecretsManager::Secret") if "ReviewLinkKey" in k]
    secret = template["Resources"][key]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] == 64
    assert "KmsKeyId" in secret


def test_no_token_field_travels_through_the_workflow(template: dict[str, Any]) -> None:
    text = json.dumps(_definition(template))
    for field in ("access_token", "refresh_token", "client_secret"):
        assert field not in text


def test_routes_use_iam_except_the_three_public_ones(template: dict[str, Any]) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources_of(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {f"{m} {p}" for m, p, _fn, _iam in ROUTES}
    for method, path, _fn, needs_iam in ROUTES:
        auth = routes[f"{method} {path}"].get("AuthorizationType", "NONE")
        assert auth == ("AWS_IAM" if needs_iam else "NONE"), path


def test_uploads_and_webhooks_go_through_queues_with_dead_letter_queues(template: dict[str, Any]) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    with_redrive = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(with_redrive) == 2
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert any("DlqNotEmpty" in name for name in alarms)


def test_state_machine_definition_is_valid_asl(template: dict[str, Any], tmp_path: Path) -> None:
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    assert validator.exists(), "run make dev: asl-validator comes from package.json"
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(_definition(template)))
    result = subprocess.run(
        [str(validator), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_media_domain_serves_only_signed_urls_from_the_private_bucket(template: dict[str, Any]) -> None:
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TrustedKeyGroups"], "every request must carry a signature"
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["Origins"][0]["OriginAccessControlId"], (
        "the bucket is reached through origin access control"
    )
    assert config["Logging"]["Prefix"] == "cloudfront/"
    (policy,) = resources_of(template, "AWS::CloudFront::CachePolicy").values()
    query = policy["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert query["QueryStringsConfig"]["QueryStrings"] == ["versionId"]
    init = next(
        f
        for f in resources_of(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "functions.handlers.init_post.handler"
    )
    env = init["Properties"]["Environment"]["Variables"]
    assert {Env.MEDIA_BASE_URL, Env.MEDIA_KEY_PAIR_ID, Env.MEDIA_SIGNING_SECRET_ARN} <= set(env)


def test_the_signing_key_pair_is_made_at_deploy_time_and_only_its_public_half_is_in_the_template(
    template: dict[str, Any],
) -> None:
    (key_pair,) = resources_of(template, "Custom::MediaSigningKey").values()
    (secret_ref,) = key_pair["Properties"]["SecretArn"].values()
    assert template["Resources"][secret_ref]["Type"] == "AWS::SecretsManager::Secret"
    (public_key,) = resources_of(template, "AWS::CloudFront::PublicKey").values()
    encoded = public_key["Properties"]["PublicKeyConfig"]["EncodedKey"]
    assert encoded["Fn::GetAtt"][1] == "PublicKeyPem", (
        "the key comes from the custom resource, not the template"
    )
    assert "PRIVATE KEY" not in json.dumps(template)
    maker = next(
        f
        for f in resources_of(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "functions.handlers.media_key.handler"
    )
    assert Env.MEDIA_SIGNING_SECRET_ARN not in maker["Properties"]["Environment"]["Variables"]


def test_tiktoks_verification_file_is_the_one_unsigned_path(template: dict[str, Any]) -> None:
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    (behavior,) = config["CacheBehaviors"]
    assert behavior["PathPattern"] == "/tiktok*.txt"
    assert "TrustedKeyGroups" not in behavior and behavior["AllowedMethods"] == ["GET", "HEAD"]
    origin = next(o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"])
    assert origin["OriginPath"] == "/tiktok-verification"


def test_videos_go_by_pull_only_once_the_operator_says_tiktok_verified_the_domain(
    template: dict[str, Any],
) -> None:
    init = next(
        f
        for f in resources_of(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "functions.handlers.init_post.handler"
    )
    assert init["Properties"]["Environment"]["Variables"][Env.MEDIA_DOMAIN_VERIFIED] == "false"
    verified = DeploymentConfig.from_context(cdk.App(context={"media_domain_verified": "true"}))
    assert verified.media_domain_verified is True


def test_review_context_is_read_and_bounded() -> None:
    config = DeploymentConfig.from_context(
        cdk.App(context={"review_all_direct_posts": True, "review_expiry_seconds": 600})
    )
    assert config.review_all_direct_posts is True and config.review_expiry_seconds == 600
    assert DeploymentConfig.from_context(cdk.App()).review_all_direct_posts is False
    for bad in (60, 30 * 86_400):
        with pytest.raises(ValueError, match="review_expiry_seconds"):
            DeploymentConfig.from_context(cdk.App(context={"review_expiry_seconds": bad}))

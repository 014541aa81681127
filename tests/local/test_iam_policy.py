"""The local IAM evaluator on its own: statements, conditions and the combination of identity and resource
policies, as AWS documents them for a single account. Whatever it does not implement it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from local.runtime.iam.calls import AwsCall, ResourcePolicy
from local.runtime.iam.enforcer import Caller, decide
from local.runtime.iam.policy import Principal, UnsupportedPolicy, statements

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/fn-role"
TABLE = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/posts"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k-1"
BUCKET = "arn:aws:s3:::media"
QUEUE = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:uploads"
CALLER = Caller(
    Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/api", account=ACCOUNT, role_arn=ROLE),
    "api",
    "fn-role",
)
HTTPS = {"aws:SecureTransport": ["true"]}


def identity(*statement: dict[str, Any]) -> list[Any]:
    return list(statements({"Statement": list(statement)}, "fn-role/policy"))


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def call(action: str, resource: str, policy: ResourcePolicy | None = None, **context: list[str]) -> AwsCall:
    return AwsCall(action, (resource,), {**HTTPS, **context}, policy)


def test_an_action_on_its_resource_is_allowed_and_names_the_grant() -> None:
    decision = decide(CALLER, call("dynamodb:GetItem", TABLE), identity(allow("dynamodb:GetItem", TABLE)))
    assert decision.allowed
    assert [(g.action, g.resource) for _, g in decision.grants] == [("dynamodb:GetItem", TABLE)]


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("dynamodb:PutItem", TABLE),  # another action
        ("dynamodb:GetItem", f"{TABLE}-other"),  # another table
        ("dynamodb:Query", f"{TABLE}/index/by_account"),  # an index needs its own ARN
    ],
)
def test_without_a_matching_statement_the_answer_is_no(action: str, resource: str) -> None:
    decision = decide(CALLER, call(action, resource), identity(allow("dynamodb:GetItem", TABLE)))
    assert not decision.allowed
    assert "because no identity-based policy allows" in decision.reason and action in decision.reason


def test_wildcards_in_actions_ignore_case_and_in_resources_do_not() -> None:
    policies = identity(allow("DynamoDB:Get*", f"{TABLE}/index/*"))
    assert decide(CALLER, call("dynamodb:GetItem", f"{TABLE}/index/by_account"), policies).allowed
    assert not decide(CALLER, call("dynamodb:GetItem", f"{TABLE}/INDEX/by_account"), policies).allowed


def test_an_explicit_deny_wins() -> None:
    policies = identity(
        allow("s3:*", f"{BUCKET}/*"),
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/posts/*"},
    )
    assert decide(CALLER, call("s3:GetObject", f"{BUCKET}/posts/a.mp4"), policies).allowed
    refused = decide(CALLER, call("s3:PutObject", f"{BUCKET}/posts/a.mp4"), policies)
    assert not refused.allowed and "explicit deny" in refused.reason


def test_a_bucket_policy_that_denies_plain_http_denies_only_plain_http() -> None:
    bucket_policy = ResourcePolicy(
        "bucket policy of media",
        "s3",
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:*",
                    "Resource": [BUCKET, f"{BUCKET}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ]
        },
    )
    policies = identity(allow("s3:GetObject", f"{BUCKET}/posts/*"))
    assert decide(CALLER, call("s3:GetObject", f"{BUCKET}/posts/a", bucket_policy), policies).allowed
    plain = AwsCall("s3:GetObject", (f"{BUCKET}/posts/a",), {"aws:SecureTransport": ["false"]}, bucket_policy)
    assert not decide(CALLER, plain, policies).allowed


def _key_policy(principal: Any) -> ResourcePolicy:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}
    return ResourcePolicy(f"key policy of {KEY}", "kms", {"Statement": [statement]})


def test_a_key_policy_that_names_the_account_lets_iam_decide() -> None:
    key_policy = _key_policy(f"arn:aws:iam::{ACCOUNT}:root")
    decrypt = call("kms:Decrypt", KEY, key_policy)
    assert decide(CALLER, decrypt, identity(allow("kms:Decrypt", KEY))).allowed
    assert not decide(CALLER, decrypt, identity(allow("kms:Encrypt", KEY))).allowed


def test_a_key_policy_that_does_not_name_the_account_refuses_whatever_iam_says() -> None:
    key_policy = _key_policy("arn:aws:iam::999999999999:root")
    decision = decide(CALLER, call("kms:Decrypt", KEY, key_policy), identity(allow("kms:*", "*")))
    assert not decision.allowed and "neither names it" in decision.reason


def test_a_key_policy_that_names_the_role_allows_without_iam() -> None:
    assert decide(CALLER, call("kms:Decrypt", KEY, _key_policy(ROLE)), identity()).allowed


def test_kms_via_service_conditions_hold_only_for_that_service() -> None:
    key_policy = _key_policy(f"arn:aws:iam::{ACCOUNT}:root")
    policies = identity(
        allow(
            "kms:Decrypt",
            KEY,
            Condition={"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
        )
    )
    via_secrets = call(
        "kms:Decrypt", KEY, key_policy, **{"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]}
    )
    via_dynamodb = call(
        "kms:Decrypt", KEY, key_policy, **{"kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com"]}
    )
    direct = call("kms:Decrypt", KEY, key_policy)
    assert decide(CALLER, via_secrets, policies).allowed
    assert not decide(CALLER, via_dynamodb, policies).allowed
    assert not decide(CALLER, direct, policies).allowed  # an absent key fails a positive condition


def test_a_queue_policy_lets_s3_deliver_from_its_bucket_only() -> None:
    queue_policy = ResourcePolicy(
        "queue policy of uploads",
        "sqs",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                    "Resource": QUEUE,
                    "Condition": {"ArnLike": {"aws:SourceArn": BUCKET}},
                }
            ]
        },
    )
    s3 = Caller(Principal(arn="s3.amazonaws.com", account=ACCOUNT, service="s3.amazonaws.com"), "s3")
    ours = call("sqs:SendMessage", QUEUE, queue_policy, **{"aws:SourceArn": [BUCKET]})
    theirs = call("sqs:SendMessage", QUEUE, queue_policy, **{"aws:SourceArn": ["arn:aws:s3:::elsewhere"]})
    assert decide(s3, ours, []).allowed
    refused = decide(s3, theirs, [])
    assert not refused.allowed and "no resource-based policy allows" in refused.reason


def test_encryption_context_conditions() -> None:
    policies = identity(
        allow("kms:Decrypt", KEY, Condition={"StringLike": {"kms:EncryptionContext:account_id": "acct-*"}})
    )
    key_policy = _key_policy(f"arn:aws:iam::{ACCOUNT}:root")
    matching = call("kms:Decrypt", KEY, key_policy, **{"kms:EncryptionContext:account_id": ["acct-7"]})
    other = call("kms:Decrypt", KEY, key_policy, **{"kms:EncryptionContext:account_id": ["team-7"]})
    assert decide(CALLER, matching, policies).allowed
    assert not decide(CALLER, other, policies).allowed


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        (
            allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
            "aws:SourceVpce",
        ),
        (
            allow("s3:GetObject", "*", Condition={"NumericLessThan": {"kms:CallerAccount": "1"}}),
            "NumericLessThan",
        ),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "neither Resource nor NotResource"),
    ],
)
def test_what_the_evaluator_does_not_model_is_refused_by_name(
    statement: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(UnsupportedPolicy, match=refusal):
        decide(CALLER, call("s3:GetObject", f"{BUCKET}/a"), identity(statement))


def test_not_principal_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedPolicy, match="NotPrincipal"):
        statements({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "*"}]}, "p")


def test_a_task_token_is_allowed_when_the_machine_that_may_have_issued_it_is() -> None:
    machines = (
        f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:other",
        f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:publish",
    )
    answer = AwsCall("states:SendTaskSuccess", machines, HTTPS)
    assert decide(CALLER, answer, identity(allow("states:SendTaskSuccess", machines[1]))).allowed
    assert not decide(CALLER, answer, identity(allow("states:SendTaskFailure", machines[1]))).allowed

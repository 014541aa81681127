"""cdk-nag 3 gate: the AwsSolutions and Serverless packs run on every synth, and any unacknowledged finding
(warnings included: cdk-nag 3 fails synth on them too) fails it. Every acknowledgment, with its reason, is in ACKNOWLEDGMENTS below: the one place to review them.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

from infra.config import STACK_NAME

_LAMBDA_ARN_VERSIONS = "Step Functions' Lambda task grant covers the function's versions and aliases (ARN:*)"
# Logical ids of the functions the state machine invokes.
_WORKFLOW_FUNCTIONS = (
    "prepareC18D3A19",
    "reservequota5708EC84",
    "initpostC8FA58F4",
    "registerwait96059892",
    "uploadchunks41700173",
    "finish7C52718E",
    "checkstatus218F0C7C",
    "repair9AEA4FB4",
)

# (scope, rule id as cdk-nag prints it, reason). Scope "stack" covers the whole stack; another value is the
# id prefix of a top-level construct of the stack (for constructs CDK itself adds, with generated ids); a
# trailing "?" marks a construct that exists only in some configurations (the media domain).
ACKNOWLEDGMENTS: tuple[tuple[str, str, str], ...] = (
    (
        "BucketNotificationsHandler",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "CDK's own custom resource that configures S3 notifications at deploy time; its role is not ours to shape",
    ),
    (
        "stack",
        "AwsSolutions-SMG4",
        "The TikTok client secret is issued and rotated in TikTok's developer portal; AWS cannot rotate it",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray (PutTraceSegments/PutTelemetryRecords) and Step Functions' CloudWatch Logs delivery APIs do not "
        "support resource-level permissions",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::<StorageMedia9333CB25.Arn>/posts/*]",
        "Functions read the media objects under posts/, whose keys are only known at run time",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::<StorageMedia9333CB25.Arn>/derived/*]",
        "The repair writes each post's repaired copy under derived/<account>/<post>/, named at run time; the "
        "steps that send it read it there",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::<StorageMedia9333CB25.Arn>/metrics/*]",
        "The snapshots after publishing are written under metrics/, one object per run, named at run time",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
        f"default/{STACK_NAME}-*]",
        "The work after publishing is scheduled one schedule per post and task, named at run time under the "
        "stack's prefix",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
        f"{STACK_NAME}-publish:*]",
        "Stopping (cancelling) executions of our own state machine, which are named by post id at run time",
    ),
    *(
        ("stack", f"AwsSolutions-IAM5[Resource::<Functions{fn}.Arn>:*]", _LAMBDA_ARN_VERSIONS)
        for fn in _WORKFLOW_FUNCTIONS
    ),
    (
        "stack",
        "AwsSolutions-APIG4",
        "Only the public routes are open, each protected another way: /connect and /oauth/callback by the "
        "single-use OAuth state bound to a cookie, /webhooks/tiktok by TikTok's HMAC signature, /review/{token} by "
        "an HMAC-signed, expiring link for one post; all others use IAM auth",
    ),
    ("stack", "Serverless-SQSRedrivePolicy", "The flagged queues are the dead-letter queues themselves"),
    (
        "stack",
        "Serverless-LambdaDLQ",
        "No function is invoked asynchronously: API Gateway and Step Functions call them synchronously and SQS "
        "event sources redrive failed messages to a DLQ with an alarm",
    ),
    (
        "stack",
        "Serverless-LambdaEventSourceMappingDestination",
        "SQS event sources cannot have an on-failure destination; their queues redrive to a DLQ with an alarm",
    ),
    (
        "Media?",
        "AwsSolutions-CFR1",
        "TikTok pulls media from its own servers worldwide; every URL is signed per post and expires, so a geo "
        "restriction would only risk blocking TikTok",
    ),
    (
        "Media?",
        "AwsSolutions-CFR2",
        "Every request must carry a CloudFront signature issued for one object version and expiring after the "
        "pull window; a WAF adds cost and no further gate for this single-purpose distribution",
    ),
    (
        "Media?",
        "AwsSolutions-CFR4",
        "Without the operator's own media domain, CloudFront's default certificate is used, whose TLS policy "
        "CloudFront fixes; set media_domain and media_certificate_arn to enforce TLS 1.2 (minimum_protocol_version)",
    ),
    (
        "stack",
        "AwsSolutions-IAM5[Resource::<FunctionsregisterreviewE4659904.Arn>:*]",
        _LAMBDA_ARN_VERSIONS,
    ),
    (
        "Http",
        "AwsSolutions-APIG4",
        "GET and POST /review/{token} are open too: the token is an HMAC-signed, expiring link for one post's "
        "review (the review-link key never leaves the functions), checked before anything is read or changed",
    ),
    (
        "Functions",
        "AwsSolutions-SMG4",
        "The review-link key is a random HMAC key; rotating it (any new random value, by hand) only voids open "
        "review links, so a rotation Lambda would add code and no protection",
    ),
)


def _scope(stack: cdk.Stack, name: str) -> IConstruct | None:
    if name == "stack":
        return stack
    for child in stack.node.children:
        if child.node.id.startswith(name.rstrip("?")):
            return child
    if name.endswith("?"):
        return None
    raise LookupError(f"nag acknowledgment names construct {name!r}, which the stack does not have")


def apply_nag(app: cdk.App, stack: cdk.Stack) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    for scope, rule_id, reason in ACKNOWLEDGMENTS:
        construct = _scope(stack, scope)
        if construct is not None:
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))

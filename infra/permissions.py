"""Grants that a role holds although no local run uses them, each with its reason.

The least-privilege test (tests/local/test_least_privilege.py) runs every path of the system with each
function under its own role and fails on any grant that no path used, unless it is listed here. An entry
names the function ("*" for every one), the action, and the resource (a shell pattern over the resource
as the test names it, logical ids in braces); the test also fails on an entry that matches no grant.
"""

from __future__ import annotations

_LOGS = (
    "Lambda writes the function's logs to its own log group with the function's role; locally the "
    "handlers log to the console"
)
_TRACES = (
    "Lambda's X-Ray daemon sends the function's traces with its role (active tracing); locally tracing is off"
)
_EXECUTION_LOGS = (
    "Step Functions delivers the execution logs to CloudWatch Logs with the state machine's role "
    "(these actions take no resource); the local interpreter keeps its history in memory"
)
_RACE = (
    "answers its own task token when the post already reached its end before the wait was registered (a "
    "webhook or authorization.removed racing the workflow); the local paths cannot order that race"
)

UNUSED_LOCALLY: dict[tuple[str, str, str], str] = {
    ("*", "logs:CreateLogStream", "*"): _LOGS,
    ("*", "logs:PutLogEvents", "*"): _LOGS,
    ("*", "xray:PutTraceSegments", "*"): _TRACES,
    ("*", "xray:PutTelemetryRecords", "*"): _TRACES,
    ("state_machine", "xray:GetSamplingRules", "*"): _TRACES,
    ("state_machine", "xray:GetSamplingTargets", "*"): _TRACES,
    **{
        ("state_machine", f"logs:{action}", "*"): _EXECUTION_LOGS
        for action in (
            "CreateLogDelivery",
            "GetLogDelivery",
            "UpdateLogDelivery",
            "DeleteLogDelivery",
            "ListLogDeliveries",
            "PutResourcePolicy",
            "DescribeResourcePolicies",
            "DescribeLogGroups",
        )
    },
    ("state_machine", "lambda:InvokeFunction", "*:function:*:[*]"): (
        "CDK's Lambda task grants the function's versions and aliases too; the workflow invokes the "
        "unqualified function"
    ),
    ("register_wait", "states:SendTaskSuccess", "*"): f"register_wait {_RACE}",
    ("register_wait", "states:SendTaskFailure", "*"): f"register_wait {_RACE}",
    ("register_review", "states:SendTaskFailure", "*"): f"register_review {_RACE}",
    ("webhook_processor", "dynamodb:DeleteItem", "*{TablesIdempotency}"): (
        "forgets an event whose application failed, so that TikTok's retry applies it; only a fault inside "
        "the processor (DynamoDB unavailable) takes that path"
    ),
    ("api", "dynamodb:UpdateItem", "*{TablesQuota}"): (
        "gives back the slot of a post cancelled while it held one (reserved, then waiting on TikTok's 'not "
        "now' at Init, which locally retries at once); tests/handlers/test_api.py checks the release itself"
    ),
    ("repair", "s3:AbortMultipartUpload", "*"): (
        "aborts the upload of a repaired copy that S3 failed part-way (a copy is uploaded only once it is "
        "made); functions/store/media_files.py's tests abort one against moto"
    ),
    ("review", "s3:GetObjectVersion", "*"): (
        "the review page previews the exact version by a presigned URL only when the stack has no media "
        "domain; the local stack always serves previews through its media server"
    ),
}

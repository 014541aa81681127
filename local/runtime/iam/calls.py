"""What an AWS request asks IAM: its action, the ARN of each resource it touches and the request context,
plus what AWS also checks for it: the calls it makes on the caller's behalf (the KMS Decrypt behind a read
of a KMS-encrypted table or secret) and the iam:PassRole of a request that hands a role to a service (an
EventBridge Scheduler schedule's role), read from the request as moto received it and from moto's own
records of the resources.

Only the services and actions this project calls are described; any other call by a function's role is
refused with a message naming it (`UnknownCall`), never let through unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class UnknownCall(Exception):
    """A request whose IAM action or resource the local evaluator cannot determine."""


@dataclass(frozen=True)
class ResourcePolicy:
    """The policy attached to the resource itself (key policy, bucket policy, queue policy)."""

    name: str
    kind: str  # "kms", "s3", "sqs", "secretsmanager"
    document: Mapping[str, Any] | None


@dataclass(frozen=True)
class AwsCall:
    action: str  # "dynamodb:GetItem"
    resources: tuple[str, ...]  # the call is allowed when one of them is (task tokens: any issuing machine)
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    resource_policy: ResourcePolicy | None = None
    on_behalf_of: str | None = None  # "dynamodb:GetItem" for the KMS Decrypt DynamoDB makes for it

    def describe(self) -> str:
        via = f" (needed by {self.on_behalf_of})" if self.on_behalf_of else ""
        return f"{self.action} on resource: {' or '.join(self.resources)}{via}"


# IAM authorizes a batch call as its single form.
_BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# EventBridge Scheduler: what IAM authorizes each operation on (ListSchedules and ListScheduleGroups on `*`).
_SCHEDULE_OPERATIONS = frozenset({"CreateSchedule", "GetSchedule", "UpdateSchedule", "DeleteSchedule"})
_SCHEDULE_GROUP_OPERATIONS = frozenset({"CreateScheduleGroup", "GetScheduleGroup", "DeleteScheduleGroup"})
_SCHEDULER_LISTS = frozenset({"ListSchedules", "ListScheduleGroups"})
# The operations that hand the schedule's role to the service (iam:PassRole).
_SCHEDULE_ROLE_PASSED = frozenset({"CreateSchedule", "UpdateSchedule"})
SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
_TRANSACT_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


class MotoResources:
    """ARNs and resource policies, read from moto's backends (the same process holds them)."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.task_tokens: dict[str, str] = {}  # task token -> ARN of the state machine that issued it

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    # --- DynamoDB
    def table_key(self, table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        found = dynamodb_backends[self.account][self.region].tables.get(table)
        sse = getattr(found, "sse_specification", None) or {}
        return (
            str(sse["KMSMasterKeyId"]) if sse.get("SSEType") == "KMS" and sse.get("KMSMasterKeyId") else None
        )

    # --- KMS
    def key_arn(self, key_id: str) -> str:
        from moto.kms.models import kms_backends

        backend = kms_backends[self.account][self.region]
        try:
            return str(backend.describe_key(key_id).arn)
        except Exception as exc:
            raise UnknownCall(f"no KMS key {key_id!r}") from exc

    def key_policy(self, key_arn: str) -> ResourcePolicy:
        from moto.kms.models import kms_backends

        key = kms_backends[self.account][self.region].describe_key(key_arn)
        policy = key.policy if isinstance(key.policy, Mapping) else json.loads(key.policy)
        return ResourcePolicy(f"key policy of {key_arn}", "kms", policy)

    # --- Secrets Manager
    def secret(self, secret_id: str) -> tuple[str, str | None]:
        """(ARN, KMS key ARN or None for the AWS managed key)."""
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[self.account][self.region]
        for secret in backend.secrets.values():
            if secret_id in (secret.arn, secret.name):
                key = getattr(secret, "kms_key_id", None)
                return str(secret.arn), self.key_arn(str(key)) if key else None
        return (self.arn("secretsmanager", f"secret:{secret_id}"), None)

    # --- SQS
    def queue_arn(self, queue_url: str) -> str:
        parts = urlsplit(queue_url).path.strip("/").split("/")
        if len(parts) != 2:
            raise UnknownCall(f"not a queue URL: {queue_url!r}")
        return f"arn:aws:sqs:{self.region}:{parts[0]}:{parts[1]}"

    def queue_policy(self, queue_arn: str) -> ResourcePolicy:
        from moto.sqs.models import sqs_backends

        name = queue_arn.rsplit(":", 1)[1]
        queue = sqs_backends[self.account][self.region].queues.get(name)
        raw = getattr(queue, "policy", None) if queue is not None else None
        document = (
            json.loads(raw) if isinstance(raw, str) and raw else raw if isinstance(raw, Mapping) else None
        )
        return ResourcePolicy(f"queue policy of {name}", "sqs", document)

    # --- S3
    def bucket_policy(self, bucket: str) -> ResourcePolicy:
        from moto.s3.models import s3_backends

        found = s3_backends[self.account]["aws"].buckets.get(bucket)
        raw = getattr(found, "policy", None)
        document = json.loads(raw) if raw else None
        return ResourcePolicy(f"bucket policy of {bucket}", "s3", document)

    # --- IAM
    def trust_policy(self, role_arn: str) -> ResourcePolicy:
        """A role's trust policy: who may assume it (a service given the role, say)."""
        from moto.iam.models import iam_backends

        roles = list(iam_backends[self.account]["aws"].roles.values())
        role = next((r for r in roles if r.arn == role_arn), None)
        if role is None:
            raise UnknownCall(f"no IAM role {role_arn}")
        raw = role.assume_role_policy_document
        document = json.loads(raw) if isinstance(raw, str) else raw
        return ResourcePolicy(f"trust policy of {role_arn}", "iam", document)

    # --- Step Functions
    def state_machines(self) -> list[str]:
        from moto.stepfunctions.models import stepfunctions_backends

        backend = stepfunctions_backends[self.account][self.region]
        return [str(machine.arn) for machine in backend.state_machines]


def _base_context(account: str) -> dict[str, list[str]]:
    # Lambda's SDK calls AWS over HTTPS; the local endpoint's plain http is an artefact of the emulation.
    return {"aws:SecureTransport": ["true"]}


# Calls a service makes as a role it was given (EventBridge Scheduler invoking a schedule's target).
def lambda_invoke(resources: MotoResources, function_arn: str) -> AwsCall:
    return AwsCall("lambda:InvokeFunction", (function_arn,), _base_context(resources.account))


def sqs_send(resources: MotoResources, queue_arn: str) -> AwsCall:
    return AwsCall(
        "sqs:SendMessage", (queue_arn,), _base_context(resources.account), resources.queue_policy(queue_arn)
    )


def pass_role(resources: MotoResources, role_arn: str, service: str, on_behalf_of: str) -> AwsCall:
    """iam:PassRole: AWS checks it, with no request of its own, when a request hands a role to a service."""
    context = {**_base_context(resources.account), "iam:PassedToService": [service]}
    return AwsCall("iam:PassRole", (role_arn,), context, on_behalf_of=on_behalf_of)


def _params(response: Any) -> dict[str, Any]:
    """The request's parameters: parsed by moto from the service model, else its JSON body."""
    params = getattr(response, "params", None)
    if isinstance(params, Mapping) and params:
        return dict(params)
    body = getattr(response, "body", None)
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip().startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    query = getattr(response, "querystring", None) or {}
    return {
        key: values[0] if isinstance(values, list) and len(values) == 1 else values
        for key, values in query.items()
    }


def _required(params: Mapping[str, Any], name: str, action: str) -> str:
    value = params.get(name)
    if not value or not isinstance(value, str):
        raise UnknownCall(f"{action} without {name}: the local evaluator cannot name its resource")
    return value


def _path_name(response: Any, action: str) -> str:
    """The resource name a REST request carries in its path (`/schedules/<name>`)."""
    name = (getattr(response, "uri_match", None) or {}).get("Name")
    if not name:
        name = urlsplit(getattr(response, "path", "") or "").path.rstrip("/").rsplit("/", 1)[-1]
    if not name or not isinstance(name, str):
        raise UnknownCall(
            f"{action} without a name in its path: the local evaluator cannot name its resource"
        )
    return name


class CallReader:
    """Turns one request into the calls IAM evaluates for it."""

    def __init__(self, resources: MotoResources) -> None:
        self.r = resources

    def read(self, service: str, operation: str, response: Any, s3_resource: str | None) -> list[AwsCall]:
        action = _BATCH_ACTIONS.get(f"{service}:{operation}", f"{service}:{operation}")
        reader = getattr(self, f"_{service}", None)
        if reader is None:
            raise UnknownCall(f"{action}: the local evaluator does not describe {service} calls")
        calls: list[AwsCall] = reader(action, operation, response, s3_resource)
        return calls

    # --- one method per service, named by its IAM prefix --------------------------------------------

    def _dynamodb(self, action: str, operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        targets: list[tuple[str, str, str | None]] = []  # (action, table, index)
        if operation in ("BatchGetItem", "BatchWriteItem"):
            targets = [(action, table, None) for table in params.get("RequestItems", {})]
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    single = "GetItem" if kind == "Get" else _TRANSACT_ITEMS.get(kind)
                    if single is None:
                        raise UnknownCall(f"{action}: transact item kind {kind!r}")
                    targets.append((f"dynamodb:{single}", _required(body, "TableName", action), None))
        else:
            index = params.get("IndexName") if operation in ("Query", "Scan") else None
            targets = [(action, _required(params, "TableName", action), index)]
        if not targets:
            raise UnknownCall(f"{action} names no table")
        calls: list[AwsCall] = []
        for single, table, index in targets:
            resource = self.r.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))
            calls.append(AwsCall(single, (resource,), _base_context(self.r.account)))
            key = self.r.table_key(table)
            if key is not None:
                calls.append(self._kms_via(key, "dynamodb", single))
        return calls

    def _kms_via(
        self,
        key_arn: str,
        service: str,
        on_behalf_of: str,
        kms_action: str = "kms:Decrypt",
        **encryption_context: str,
    ) -> AwsCall:
        """The KMS call a service makes with the caller's permissions for what the caller asked: Decrypt to
        open (a table, a secret's value), GenerateDataKey to seal (a new secret value)."""
        context = {
            **_base_context(self.r.account),
            "kms:ViaService": [f"{service}.{self.r.region}.amazonaws.com"],
            "kms:CallerAccount": [self.r.account],
            **{f"kms:EncryptionContext:{k}": [v] for k, v in encryption_context.items()},
        }
        if encryption_context:
            context["kms:EncryptionContextKeys"] = sorted(encryption_context)
        return AwsCall(kms_action, (key_arn,), context, self.r.key_policy(key_arn), on_behalf_of)

    def _kms(self, action: str, _operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        key = self.r.key_arn(_required(params, "KeyId", action))
        encryption_context = params.get("EncryptionContext") or {}
        context: dict[str, list[str]] = {
            **_base_context(self.r.account),
            "kms:CallerAccount": [self.r.account],
        }
        for name, value in encryption_context.items():
            context[f"kms:EncryptionContext:{name}"] = [str(value)]
        if encryption_context:
            context["kms:EncryptionContextKeys"] = sorted(encryption_context)
        return [AwsCall(action, (key,), context, self.r.key_policy(key))]

    def _secretsmanager(self, action: str, _operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        arn, key = self.r.secret(_required(params, "SecretId", action))
        policy = ResourcePolicy(f"resource policy of {arn}", "secretsmanager", None)
        calls = [AwsCall(action, (arn,), _base_context(self.r.account), policy)]
        if key is not None and action == "secretsmanager:GetSecretValue":
            calls.append(self._kms_via(key, "secretsmanager", action, SecretARN=arn))
        elif key is not None and action == "secretsmanager:PutSecretValue":
            calls.append(self._kms_via(key, "secretsmanager", action, "kms:GenerateDataKey", SecretARN=arn))
        return calls

    def _sqs(self, action: str, operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        if operation == "GetQueueUrl":
            name = _required(params, "QueueName", action)
            arn = (
                f"arn:aws:sqs:{self.r.region}:{params.get('QueueOwnerAWSAccountId') or self.r.account}:{name}"
            )
        else:
            arn = self.r.queue_arn(_required(params, "QueueUrl", action))
        return [AwsCall(action, (arn,), _base_context(self.r.account), self.r.queue_policy(arn))]

    def _states(self, action: str, operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            token = _required(params, "taskToken", action)
            issued_by = self.r.task_tokens.get(token)
            # A token no machine of this run issued: AWS answers InvalidToken to a caller allowed on the machine.
            resources = (issued_by,) if issued_by else tuple(self.r.state_machines())
        elif operation in ("StartExecution", "ListExecutions", "DescribeStateMachine", "StartSyncExecution"):
            resources = (_required(params, "stateMachineArn", action),)
        elif operation in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
            resources = (_required(params, "executionArn", action),)
        else:
            raise UnknownCall(f"{action}: the local evaluator does not describe it")
        if not resources:
            raise UnknownCall(f"{action}: no state machine could have issued this task token")
        return [AwsCall(action, resources, _base_context(self.r.account))]

    def _events(self, action: str, _operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        params = _params(response)
        entries = params.get("Entries") or []
        if action != "events:PutEvents" or not entries:
            raise UnknownCall(f"{action}: the local evaluator describes PutEvents with entries only")
        buses = {str(entry.get("EventBusName") or "default") for entry in entries}
        return [
            AwsCall(
                action,
                (bus if bus.startswith("arn:") else self.r.arn("events", f"event-bus/{bus}"),),
                _base_context(self.r.account),
            )
            for bus in sorted(buses)
        ]

    def _lambda(self, action: str, operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        if operation != "Invoke":
            raise UnknownCall(f"{action}: the local evaluator describes Invoke only")
        uri = getattr(response, "uri_match", None) or {}
        path = urlsplit(getattr(response, "path", "") or "").path
        name = uri.get("FunctionName") or path.split("/functions/", 1)[-1].split("/", 1)[0]
        name = str(name)
        qualifier = _params(response).get("Qualifier") or uri.get("Qualifier")
        arn = name if name.startswith("arn:") else self.r.arn("lambda", f"function:{name}")
        if qualifier and arn.count(":") == 6:
            arn = f"{arn}:{qualifier}"
        return [lambda_invoke(self.r, arn)]

    def _scheduler(self, action: str, operation: str, response: Any, _s3: str | None) -> list[AwsCall]:
        context = _base_context(self.r.account)
        if operation in _SCHEDULER_LISTS:
            return [AwsCall(action, ("*",), context)]
        name = _path_name(response, action)
        if operation in _SCHEDULE_GROUP_OPERATIONS:
            return [AwsCall(action, (self.r.arn("scheduler", f"schedule-group/{name}"),), context)]
        if operation not in _SCHEDULE_OPERATIONS:
            raise UnknownCall(f"{action}: the local evaluator does not describe it")
        params = _params(response)  # the JSON body, or the query string of a GET or DELETE
        group = params.get("GroupName") or params.get("groupName") or "default"
        calls = [AwsCall(action, (self.r.arn("scheduler", f"schedule/{group}/{name}"),), context)]
        role = (params.get("Target") or {}).get("RoleArn")
        if operation in _SCHEDULE_ROLE_PASSED and isinstance(role, str) and role:
            calls.append(pass_role(self.r, role, SCHEDULER_PRINCIPAL, action))
        return calls

    def _sts(self, action: str, operation: str, _response: Any, _s3: str | None) -> list[AwsCall]:
        if operation != "GetCallerIdentity":
            raise UnknownCall(f"{action}: the local evaluator describes GetCallerIdentity only")
        return []  # AWS answers it whatever the policies say

    def _s3(self, action: str, _operation: str, _response: Any, s3_resource: str | None) -> list[AwsCall]:
        if not s3_resource or s3_resource.endswith(":::*"):
            raise UnknownCall(f"{action}: no bucket named")
        bucket = s3_resource.split(":::", 1)[1].split("/", 1)[0]
        return [AwsCall(action, (s3_resource,), _base_context(self.r.account), self.r.bucket_policy(bucket))]

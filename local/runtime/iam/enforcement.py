"""IAM enforced inside moto: every request signed with a function's role credentials is decided against
that role's policies (and the resource's policy) before moto serves it, and refused the way AWS refuses it.

moto's own IAM check was the first candidate: with STS credentials it finds the role, but it evaluates every
non-S3 request against the resource `*`, so any statement scoped to a table, key or queue never matches
and every call of a least-privilege role would be denied; it reads no resource policies, no KMS key
policies and no conditions besides a role's trust. So the runtime replaces moto's check
(`ActionAuthenticatorMixin._authenticate_and_authorize_action`, the one place every service calls) with
this evaluator, and keeps moto's STS for the credentials themselves.

Whom it enforces: the sessions the runtime made for each function's role (`assume`), the state
machine's role for the Lambda invocations of its tasks, S3 (the service principal) delivering an upload
notification to the uploads queue, and EventBridge Scheduler acting as a schedule's role
(`service_role`, local/runtime/schedules.py). Requests with any other credentials are the operator's (the
runtime deploying, tests arranging and inspecting) and are served as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any
from unittest import mock

from local.runtime.iam.calls import AwsCall, CallReader, MotoResources, UnknownCall
from local.runtime.iam.enforcer import Caller, Decision, IdentityPolicies, Usage, decide
from local.runtime.iam.grants import GrantReport, grant_report
from local.runtime.iam.policy import Principal, UnsupportedPolicy

LOG = logging.getLogger(__name__)

# S3's names for bucket-level reads, as IAM names them.
_S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
}

_active_lock = threading.Lock()
_active: list[IamEnforcement] = []


class AccessDenied(Exception):
    """Raised by `IamEnforcement.check` (the moto hook turns it into the service's error response)."""


def access_key_of(headers: Any, querystring: Any) -> str | None:
    """The access key id a request was signed with: SigV4 Authorization header, or a presigned URL."""
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    marker = "Credential="
    if marker in authorization:
        return str(authorization.split(marker, 1)[1].split("/", 1)[0])
    credential = (querystring or {}).get("X-Amz-Credential")
    if credential:
        value = credential[0] if isinstance(credential, list) else credential
        return str(value).split("/", 1)[0]
    return None


def signing_service(headers: Any, querystring: Any) -> str | None:
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    scope = ""
    if "Credential=" in authorization:
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        credential = (querystring or {}).get("X-Amz-Credential")
        scope = (credential[0] if isinstance(credential, list) else credential) or ""
    parts = str(scope).split("/")
    return parts[3] if len(parts) >= 5 else None


class IamEnforcement:
    """The principals the runtime enforces, how it decides, and what it decided (`usage`)."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.resources = MotoResources(account, region)
        self.reader = CallReader(self.resources)
        self.identity = IdentityPolicies(account)
        self.usage = Usage()
        self._callers: dict[str, Caller] = {}  # access key id -> caller
        self._by_role: dict[str, dict[str, str]] = {}  # role ARN -> credentials (for the state machine)
        self._patches: list[Any] = []

    # --- principals --------------------------------------------------------------------------------

    def assume(self, sts_client: Any, role_arn: str, label: str) -> dict[str, str]:
        """Credentials of a new session of `role_arn` (moto's STS), enforced from now on."""
        role_name = role_arn.rsplit("/", 1)[1]
        session = label.replace("_", "-")[:64]
        answer = sts_client.assume_role(RoleArn=role_arn, RoleSessionName=session, DurationSeconds=43_200)
        credentials = answer["Credentials"]
        principal = Principal(
            arn=str(answer["AssumedRoleUser"]["Arn"]), account=self.account, role_arn=role_arn
        )
        self._callers[credentials["AccessKeyId"]] = Caller(principal, label, role_name)
        values = {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }
        self._by_role.setdefault(role_arn, values)
        return values

    def service_role(self, service: str, role_arn: str, source_arn: str) -> Caller:
        """The session `service` (EventBridge Scheduler, say) gets for a role it was given to act for one of
        its resources (`source_arn`), once the role's trust policy lets it assume the role: AccessDenied
        otherwise. The service's calls as that session are then decided by `check`, as any caller's."""
        label = service.split(".", 1)[0]  # "scheduler": the service and its sessions, in `usage`
        service_caller = Caller(Principal(arn=service, account=self.account, service=service), label)
        context = {
            "aws:SourceAccount": [self.account],
            "aws:SourceArn": [source_arn],
            "aws:SecureTransport": ["true"],
        }
        try:
            trust = self.resources.trust_policy(role_arn)
        except UnknownCall as exc:
            assume = AwsCall("sts:AssumeRole", (role_arn,), context)
            self.usage.record(service_caller, assume, Decision(False, str(exc)))
            raise AccessDenied(f"{service} cannot assume {role_arn}: {exc}") from None
        self.check(service_caller, [AwsCall("sts:AssumeRole", (role_arn,), context, trust)])
        role_name = role_arn.rsplit("/", 1)[1]
        session = Principal(
            arn=f"arn:aws:sts::{self.account}:assumed-role/{role_name}/{label}",
            account=self.account,
            role_arn=role_arn,
        )
        return Caller(session, label, role_name)

    def caller(self, access_key: str | None) -> Caller | None:
        return self._callers.get(access_key or "")

    def credentials_of_role(self, role_arn: str) -> dict[str, str] | None:
        return self._by_role.get(role_arn)

    @property
    def callers(self) -> list[Caller]:
        return list(self._callers.values())

    def report(self, physical_ids: Mapping[str, str]) -> GrantReport:
        """Every grant of every enforced role, and those the decisions so far used."""
        roles = {
            (c.label, c.role_name, c.principal.role_arn or "")
            for c in self._callers.values()
            if c.role_name is not None
        }
        return grant_report(
            self.usage, sorted(roles), physical_ids=physical_ids, account=self.account, region=self.region
        )

    # --- decisions ---------------------------------------------------------------------------------

    def check(self, caller: Caller, calls: list[AwsCall]) -> None:
        """Decide every call (the request's own first, then what AWS does for it); AccessDenied at the first
        refusal. Every decision is recorded in `usage`."""
        identity = self.identity.of_role(caller.role_name) if caller.role_name else []
        for call in calls:
            try:
                decision = decide(caller, call, identity)
            except UnsupportedPolicy as exc:
                decision = Decision(False, f"{call.describe()}: {exc}")
            self.usage.record(caller, call, decision)
            if not decision.allowed:
                LOG.warning("IAM denied %s: %s", caller.label, decision.reason)
                raise AccessDenied(decision.reason)

    def refuse_unknown(self, caller: Caller, description: str, exc: Exception) -> AccessDenied:
        reason = (
            f"{caller.principal.arn}: {exc} (describe it in local/runtime/iam/calls.py to allow it locally)"
        )
        self.usage.record(caller, AwsCall(description, ("?",)), Decision(False, reason))
        return AccessDenied(reason)

    # --- moto hooks --------------------------------------------------------------------------------

    def start(self) -> None:
        with _active_lock:
            if _active:
                raise RuntimeError("IAM enforcement is already active in this process")
            _active.append(self)
        self._patches = _hook_patches()
        for patch in self._patches:
            patch.start()

    def stop(self) -> None:
        while self._patches:
            self._patches.pop().stop()
        with _active_lock:
            if self in _active:
                _active.remove(self)


def _enforcement() -> IamEnforcement | None:
    return _active[0] if _active else None


def _authorize(response: Any, iam_request_cls: type, resource: str = "*") -> None:
    """Replaces moto's `_authenticate_and_authorize_action` while enforcement is active."""
    enforcement = _enforcement()
    if enforcement is None:
        return
    headers = getattr(response, "headers", {}) or {}
    querystring = getattr(response, "querystring", {}) or {}
    caller = enforcement.caller(access_key_of(headers, querystring))
    if caller is None:
        return  # the operator
    from moto.iam.access_control import S3IAMRequest

    is_s3 = iam_request_cls is S3IAMRequest
    service = "s3" if is_s3 else (signing_service(headers, querystring) or str(response.service_name))
    operation = _s3_operation(response) if is_s3 else str(response._get_action())
    try:
        calls = enforcement.reader.read(service, operation, response, resource if is_s3 else None)
    except UnknownCall as exc:
        raise _error(is_s3, enforcement.refuse_unknown(caller, f"{service}:{operation}", exc)) from None
    try:
        enforcement.check(caller, calls)
    except AccessDenied as exc:
        raise _error(is_s3, exc) from None


def _s3_operation(response: Any) -> str:
    data = getattr(response, "data", {}) or {}
    operation = str(data.get("Action") or response._get_action())
    querystring = getattr(response, "querystring", {}) or {}
    if response.method == "HEAD" and operation == "GetObject" and "versionId" in querystring:
        return "GetObjectVersion"  # moto maps a HEAD to GetObject whatever the version
    return _S3_ACTIONS.get(operation, operation)


def _error(is_s3: bool, exc: AccessDenied) -> Exception:
    if is_s3:
        from moto.s3.exceptions import S3ClientError

        error = S3ClientError("AccessDenied", str(exc))
        error.code = "AccessDenied"
        return error
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("AccessDeniedException", str(exc))


def _record_task_token(original: Any) -> Any:
    def update_task_token(context: Any) -> str:
        token = str(original(context))
        enforcement = _enforcement()
        machine = context.context_object_data.get("StateMachine", {}).get("Id")
        if enforcement is not None and machine:
            enforcement.resources.task_tokens[token] = str(machine)
        return token

    return update_task_token


def _state_machine_client(original: Any) -> Any:
    """The interpreter's clients, signed with the execution role's session (moto signs them as `ak`)."""

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        enforcement = _enforcement()
        role_arn = getattr(state_credentials, "role_arn", None)
        credentials = enforcement.credentials_of_role(role_arn) if enforcement and role_arn else None
        if credentials is None:
            return original(region, service, state_credentials)
        import boto3
        from botocore.config import Config

        endpoint = {} if _intercepting() else {"endpoint_url": _moto_server_url()}
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=credentials["AWS_SESSION_TOKEN"],
            config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1}),
            **endpoint,
        )

    return boto_client_for


def _intercepting() -> bool:
    from moto.core.models import botocore_stubber

    return bool(botocore_stubber.enabled)


def _moto_server_url() -> str:
    from moto.settings import moto_server_port

    return f"http://localhost:{moto_server_port()}"


def _s3_to_sqs(original: Any) -> Any:
    """S3 delivers an upload notification only where the queue's policy lets the S3 service send."""

    def send(account_id: str, event_body: Any, queue_name: str, region_name: str) -> None:
        enforcement = _enforcement()
        if enforcement is not None:
            records = event_body.get("Records") or [{}]
            bucket = records[0].get("s3", {}).get("bucket", {}).get("name") or event_body.get("Bucket")
            bucket_arn = f"arn:aws:s3:::{bucket}"  # the s3:TestEvent names the bucket alone
            queue_arn = f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}"
            principal = Principal(arn="s3.amazonaws.com", account=account_id, service="s3.amazonaws.com")
            call = AwsCall(
                "sqs:SendMessage",
                (queue_arn,),
                {
                    "aws:SourceArn": [bucket_arn],
                    "aws:SourceAccount": [account_id],
                    "aws:SecureTransport": ["true"],
                },
                enforcement.resources.queue_policy(queue_arn),
            )
            try:
                enforcement.check(Caller(principal, "s3 notifications"), [call])
            except AccessDenied:
                return  # AWS drops it too; the denial is in `usage`
        original(account_id, event_body, queue_name, region_name)

    return send


def _bucket_permission(_bucket: Any, _action: str, _resource: str) -> Any:
    """moto's own bucket-policy check (object reads and writes) knows no conditions, so it applies the
    bucket's "deny unless HTTPS" to every request; the bucket policy is decided in `_authorize` instead."""
    from moto.iam.access_control import PermissionResult

    return PermissionResult.NEUTRAL


def _hook_patches() -> list[Any]:
    import sys

    # The module that makes the Lambda tasks' clients, imported now so that its name is patched too.
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils  # noqa: F401
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.s3 import notifications
    from moto.s3.models import FakeBucket
    from moto.stepfunctions.parser.asl.eval.states import ContextObject
    from moto.stepfunctions.parser.asl.utils import boto_client

    patches: list[Any] = [
        mock.patch.object(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authorize),
        mock.patch.object(
            ContextObject, "update_task_token", _record_task_token(ContextObject.update_task_token)
        ),
        mock.patch.object(notifications, "_send_sqs_message", _s3_to_sqs(notifications._send_sqs_message)),
        mock.patch.object(FakeBucket, "get_permission", _bucket_permission),
    ]
    replacement = _state_machine_client(boto_client.boto_client_for)
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is (
            boto_client.boto_client_for
        ):
            patches.append(mock.patch.object(module, "boto_client_for", replacement))
    return patches

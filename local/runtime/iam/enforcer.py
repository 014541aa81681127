"""The decision for one request by one principal, as AWS makes it within a single account, and the record
of every decision (which grants were used, which calls were denied) that the tests read.

- An explicit Deny in the caller's IAM policies or in the resource's policy denies.
- KMS: the key policy decides. A statement naming the caller allows by itself; one naming the account
  lets the caller's IAM policies decide.
- S3, SQS, Secrets Manager: the caller's IAM policies or a resource policy statement naming the caller.
- Everything else: the caller's IAM policies.
- A service principal (S3 delivering a notification to SQS) is allowed by the resource policy alone.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.runtime.iam.calls import AwsCall
from local.runtime.iam.policy import (
    Effect,
    Grant,
    Principal,
    Statement,
    StatementMatch,
    matching,
    statements,
)


@dataclass(frozen=True)
class Caller:
    """A principal the runtime enforces, with the name its records are kept under."""

    principal: Principal
    label: str  # the function's spec name ("api"), or "state_machine"
    role_name: str | None = None


@dataclass(frozen=True)
class Denial:
    caller: str
    call: str
    reason: str


@dataclass
class Decision:
    allowed: bool
    reason: str = ""
    grants: tuple[tuple[str, Grant], ...] = ()  # (role or resource policy name, grant) that allowed it


@dataclass
class Usage:
    """Every grant that allowed a call, and every call denied, by caller label."""

    used: dict[str, set[Grant]] = field(default_factory=dict)
    calls: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # label -> {(action, resource)}
    denials: list[Denial] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, caller: Caller, call: AwsCall, decision: Decision) -> None:
        with self.lock:
            if decision.allowed:
                self.used.setdefault(caller.label, set()).update(g for _, g in decision.grants)
                self.calls.setdefault(caller.label, set()).add((call.action, call.resources[0]))
            else:
                self.denials.append(Denial(caller.label, call.describe(), decision.reason))


@functools.lru_cache(maxsize=512)
def _parsed(name: str, document: str, resource_policy: bool) -> tuple[Statement, ...]:
    return tuple(statements(json.loads(document), name, resource_policy=resource_policy))


def _statements(
    name: str, document: Mapping[str, Any] | str, *, resource_policy: bool
) -> tuple[Statement, ...]:
    text = document if isinstance(document, str) else json.dumps(document, sort_keys=True)
    return _parsed(name, text, resource_policy)


class IdentityPolicies:
    """A role's inline and managed policies, read from moto's IAM (which CloudFormation filled)."""

    def __init__(self, account: str) -> None:
        self.account = account

    def of_role(self, role_name: str) -> list[Statement]:
        from moto.iam.models import iam_backends

        backend = iam_backends[self.account]["aws"]
        role = backend.get_role(role_name)
        found: list[Statement] = []
        for name, document in role.policies.items():
            found.extend(_statements(f"{role_name}/{name}", document, resource_policy=False))
        for arn, policy in role.managed_policies.items():
            version = next(v for v in policy.versions if v.is_default)
            found.extend(_statements(arn, version.document, resource_policy=False))
        return found


def decide(caller: Caller, call: AwsCall, identity: Iterable[Statement]) -> Decision:
    """Allowed when any of the call's resources is (a task token names the machine that may have issued it)."""
    last = Decision(False, "no resource")
    for resource in call.resources:
        last = _decide_one(caller, call, resource, identity)
        if last.allowed:
            return last
    return last


def _decide_one(caller: Caller, call: AwsCall, resource: str, identity: Iterable[Statement]) -> Decision:
    principal = caller.principal
    policy = call.resource_policy
    own: list[StatementMatch] = (
        matching(identity, principal, call.action, resource, call.context) if caller.role_name else []
    )
    theirs: list[StatementMatch] = []
    if policy is not None and policy.document is not None:
        theirs = matching(
            _statements(policy.name, policy.document, resource_policy=True),
            principal,
            call.action,
            resource,
            call.context,
        )
    for where, found in (("an identity-based policy", own), (policy.name if policy else "", theirs)):
        denied = [m for m in found if m.effect is Effect.DENY]
        if denied:
            return Decision(
                False,
                f"User: {principal.arn} is not authorized to perform: {call.describe()} with an explicit "
                f"deny in {where} (statement {denied[0].sid})",
            )
    return _allowance(caller, call, own, theirs)


def _allowance(
    caller: Caller, call: AwsCall, own: list[StatementMatch], theirs: list[StatementMatch]
) -> Decision:
    """No explicit deny: is there an allow that counts for this caller and resource?"""
    policy = call.resource_policy
    own_allows = [m for m in own if m.effect is Effect.ALLOW]
    direct = [m for m in theirs if m.effect is Effect.ALLOW and not m.via_account]
    via_account = any(m.effect is Effect.ALLOW and m.via_account for m in theirs)
    is_key_policy = policy is not None and policy.kind == "kms"
    if direct:  # the resource's policy names the caller
        name = policy.name if policy else ""
        return Decision(True, grants=tuple((name, g) for m in direct for g in m.grants))
    # A key policy must let IAM decide (name the account); other resources leave it to IAM anyway.
    if own_allows and (via_account or not is_key_policy):
        role = caller.role_name or caller.principal.arn
        return Decision(True, grants=tuple((role, g) for m in own_allows for g in m.grants))
    return Decision(False, _refusal(caller, call, key_policy_silent=is_key_policy and not via_account))


def _refusal(caller: Caller, call: AwsCall, *, key_policy_silent: bool) -> str:
    principal, policy = caller.principal, call.resource_policy
    if key_policy_silent and policy is not None:
        return (
            f"User: {principal.arn} is not authorized to perform: {call.describe()} because the "
            f"{policy.name} neither names it nor lets IAM policies of account {principal.account} decide"
        )
    if caller.role_name is None:
        return (
            f"{principal.arn} is not authorized to perform: {call.describe()} because no resource-based "
            f"policy allows it ({policy.name if policy else 'none'})"
        )
    return (
        f"User: {principal.arn} is not authorized to perform: {call.describe()} because no "
        f"identity-based policy allows the {call.action} action"
    )

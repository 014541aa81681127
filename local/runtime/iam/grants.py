"""Which grants each function's role holds and which of them a run used, in names that do not depend on
one deployment (logical ids instead of physical names), so runs of different stacks add up.

A grant is one (action, resource) pair of an Allow statement: in the role's own policies, or in a resource
policy (a KMS key policy, say) that names the role itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from local.runtime.iam.enforcer import Usage
from local.runtime.iam.policy import Grant, Statement, statements


@dataclass(frozen=True, order=True)
class NamedGrant:
    function: str  # spec name ("api") or "state_machine"
    action: str
    resource: str  # with physical names replaced by `{LogicalId}`

    def __str__(self) -> str:
        return f"{self.function}: {self.action} on {self.resource}"


class Namer:
    """Physical names and ARNs of one deployment -> `{LogicalId}` (the CDK hash left out)."""

    def __init__(self, physical_ids: Mapping[str, str]) -> None:
        from local.runtime.template import without_hash

        pairs = [(physical, f"{{{without_hash(logical)}}}") for logical, physical in physical_ids.items()]
        # The longest first, so that a queue URL is replaced before the queue name inside it.
        self._pairs = sorted((p for p in pairs if len(p[0]) >= 6), key=lambda p: -len(p[0]))

    def __call__(self, text: str) -> str:
        for physical, named in self._pairs:
            for form in (physical, physical.rsplit("/", 1)[-1]):
                if form and len(form) >= 6 and form in text:
                    text = text.replace(form, named)
        return text


def _role_statements(role_name: str, account: str) -> list[Statement]:
    from moto.iam.models import iam_backends

    role = iam_backends[account]["aws"].get_role(role_name)
    found: list[Statement] = []
    for name, document in role.policies.items():
        found.extend(statements(json.loads(document), f"{role_name}/{name}"))
    return found


def _key_policy_statements(role_arn: str, account: str, region: str) -> list[tuple[Statement, str]]:
    """Statements of KMS key policies that name this role itself, with their key's ARN (a key policy's
    `Resource: *` means the key)."""
    from moto.kms.models import kms_backends

    found: list[tuple[Statement, str]] = []
    for key in kms_backends[account][region].keys.values():
        policy = key.policy if isinstance(key.policy, dict) else json.loads(key.policy)
        for statement in statements(policy, f"key policy of {key.arn}", resource_policy=True):
            principal = statement.document.get("Principal")
            names = principal.get("AWS") if isinstance(principal, dict) else None
            if role_arn in (names if isinstance(names, list) else [names]):
                found.append((statement, str(key.arn)))
    return found


@dataclass
class GrantReport:
    granted: set[NamedGrant]
    used: set[NamedGrant]

    @property
    def unused(self) -> set[NamedGrant]:
        return self.granted - self.used

    def merge(self, other: GrantReport) -> GrantReport:
        return GrantReport(self.granted | other.granted, self.used | other.used)


def grant_report(
    usage: Usage,
    roles: Iterable[tuple[str, str, str]],
    *,
    physical_ids: Mapping[str, str],
    account: str,
    region: str,
) -> GrantReport:
    """`roles`: (function label, role name, role ARN) of every enforced caller."""
    name = Namer(physical_ids)
    granted: set[NamedGrant] = set()
    key_of: dict[tuple[str, str, int, str, str], NamedGrant] = {}
    for label, role_name, role_arn in roles:
        sources: list[tuple[Statement, str | None]] = [
            (s, None) for s in _role_statements(role_name, account)
        ]
        sources += _key_policy_statements(role_arn, account, region)
        for statement, key_arn in sources:
            for grant in statement.grants():
                named = NamedGrant(label, grant.action, name(key_arn or grant.resource))
                granted.add(named)
                key_of[_key(label, grant)] = named
    used: set[NamedGrant] = set()
    for label, grants in usage.used.items():
        for grant in grants:
            found = key_of.get(_key(label, grant))
            if found is not None:
                used.add(found)
    return GrantReport(granted, used)


def _key(label: str, grant: Grant) -> tuple[str, str, int, str, str]:
    return (label, grant.policy, grant.statement, grant.action, grant.resource)

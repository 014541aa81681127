"""IAM policy documents evaluated as AWS evaluates them, for the parts this project's template uses.

A statement applies to a request when its Action (or NotAction), Resource (or NotResource), Principal (in a
resource policy) and every Condition match. Within the documents that govern a request an explicit Deny wins
over any Allow; without an Allow the answer is an implicit deny (`policy_decision`).

What this evaluator cannot decide it refuses instead of guessing (`UnsupportedPolicy`): a condition
operator it does not implement, a condition key the request context does not model, NotPrincipal. A policy
that needs one of them fails the local run with a message naming it, rather than letting a call through that
AWS might deny (or denying one that AWS would allow, silently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class UnsupportedPolicy(Exception):
    """A policy element the local evaluator does not implement."""


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an assumed role session, or an AWS service acting for a resource."""

    arn: str  # arn:aws:sts::123:assumed-role/Role/session, or the service's name for a service principal
    account: str
    role_arn: str | None = None  # arn:aws:iam::123:role/Role for a role session
    service: str | None = None  # "s3.amazonaws.com" for a service principal

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root"


@dataclass(frozen=True)
class Grant:
    """One (action pattern, resource pattern) pair of an Allow statement: the unit least privilege counts."""

    policy: str  # the policy's name (an inline policy of a role, a bucket policy, ...)
    statement: int
    action: str
    resource: str


@dataclass(frozen=True)
class StatementMatch:
    effect: Effect
    grants: tuple[Grant, ...]  # the pairs of an Allow that matched (empty for a Deny)
    sid: str
    # A resource policy's statement that names the caller's account (not the caller): it lets IAM policies
    # grant, it does not grant by itself.
    via_account: bool = False


# Condition keys the request context can carry (calls.py fills them); any other key in a policy is refused.
MODELLED_CONDITION_KEYS = frozenset(
    {
        "aws:securetransport",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:sourcearn",
        "aws:sourceaccount",
        "iam:passedtoservice",
        "kms:viaservice",
        "kms:calleraccount",
        "kms:encryptioncontextkeys",
    }
)
_ENCRYPTION_CONTEXT_PREFIX = "kms:encryptioncontext:"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _wildcard(pattern: str, value: str, *, ignore_case: bool) -> bool:
    """IAM's `*` (any run of characters) and `?` (one character); nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return (
        re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None
    )


def action_matches(pattern: str, action: str) -> bool:
    """Actions compare case-insensitively: `dynamodb:getitem` grants `dynamodb:GetItem`."""
    return pattern == "*" or _wildcard(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    return pattern == "*" or _wildcard(pattern, resource, ignore_case=False)


@dataclass
class Statement:
    document: Mapping[str, Any]
    policy: str
    index: int
    resource_policy: bool = False
    sid: str = field(init=False)

    def __post_init__(self) -> None:
        self.sid = str(self.document.get("Sid") or f"#{self.index}")
        if "NotPrincipal" in self.document:
            raise UnsupportedPolicy(
                f"{self.policy} statement {self.sid}: NotPrincipal is not evaluated locally"
            )
        effect = self.document.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise UnsupportedPolicy(f"{self.policy} statement {self.sid}: Effect {effect!r}")

    @property
    def effect(self) -> Effect:
        return Effect(self.document["Effect"])

    def match(
        self, principal: Principal, action: str, resource: str, context: Mapping[str, Sequence[str]]
    ) -> StatementMatch | None:
        actions = self._actions(action)
        resources = self._resources(resource) if actions else []
        if not resources:
            return None
        via_account = False
        if self.resource_policy:
            matched = principal_matches(self.document.get("Principal"), principal)
            if matched is None:
                return None
            via_account = matched == "account"
        where = f"{self.policy} statement {self.sid}"
        if not conditions_hold(self.document.get("Condition") or {}, context, where=where):
            return None
        grants: tuple[Grant, ...] = ()
        if self.effect is Effect.ALLOW:
            grants = tuple(Grant(self.policy, self.index, a, r) for a in actions for r in resources)
        return StatementMatch(self.effect, grants, self.sid, via_account)

    def _actions(self, action: str) -> list[str]:
        """The statement's action patterns that cover `action` (["*"] for a NotAction that does)."""
        if "NotAction" in self.document:
            excluded = any(action_matches(p, action) for p in _as_list(self.document["NotAction"]))
            return [] if excluded else ["*"]
        return [p for p in _as_list(self.document.get("Action")) if action_matches(p, action)]

    def _resources(self, resource: str) -> list[str]:
        doc = self.document
        if "NotResource" in doc:
            return [] if any(resource_matches(p, resource) for p in _as_list(doc["NotResource"])) else ["*"]
        if "Resource" in doc:
            return [p for p in _as_list(doc["Resource"]) if resource_matches(p, resource)]
        if self.resource_policy:
            return ["*"]  # a resource policy's statement may leave Resource out (KMS key policies)
        raise UnsupportedPolicy(f"{self.policy} statement {self.sid} has neither Resource nor NotResource")

    def grants(self) -> Iterator[Grant]:
        """Every (action, resource) pair this statement allows, as written."""
        if self.effect is not Effect.ALLOW:
            return
        actions = _as_list(self.document.get("Action")) or ["NotAction"]
        resources = _as_list(self.document.get("Resource")) or ["*"]
        for action in actions:
            for resource in resources:
                yield Grant(self.policy, self.index, str(action), str(resource))


def principal_matches(element: Any, principal: Principal) -> str | None:
    """How a resource policy's Principal names the caller: "direct" (`*`, its role or session ARN, its
    service), "account" (the caller's account: IAM policies decide) or None."""
    if element == "*":
        return "direct"
    if not isinstance(element, Mapping):
        raise UnsupportedPolicy(f"Principal {element!r}")
    found: str | None = None
    for kind, values in element.items():
        for value in _as_list(values):
            if kind == "AWS":
                if value == "*" or value in (principal.arn, principal.role_arn):
                    return "direct"
                if value in (principal.account, principal.root_arn) and principal.service is None:
                    found = "account"
            elif kind == "Service":
                if principal.service is not None and value == principal.service:
                    return "direct"
            elif kind not in ("Federated", "CanonicalUser"):
                raise UnsupportedPolicy(f"Principal type {kind!r}")
    return found


# --- conditions ------------------------------------------------------------------------------------


def _string_op(values: Sequence[str], wanted: Sequence[str], *, like: bool, ignore_case: bool) -> bool:
    for value in values:
        for pattern in wanted:
            if like and _wildcard(pattern, value, ignore_case=False):
                return True
            if not like and (value.lower() == pattern.lower() if ignore_case else value == pattern):
                return True
    return False


def _bool_op(values: Sequence[str], wanted: Sequence[str]) -> bool:
    return any(v.lower() == w.lower() for v in values for w in wanted)


_POSITIVE = {
    "StringEquals": lambda v, w: _string_op(v, w, like=False, ignore_case=False),
    "StringEqualsIgnoreCase": lambda v, w: _string_op(v, w, like=False, ignore_case=True),
    "StringLike": lambda v, w: _string_op(v, w, like=True, ignore_case=False),
    "ArnEquals": lambda v, w: _string_op(v, w, like=False, ignore_case=False),
    "ArnLike": lambda v, w: _string_op(v, w, like=True, ignore_case=False),
    "Bool": _bool_op,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _modelled(key: str) -> bool:
    lowered = key.lower()
    return lowered in MODELLED_CONDITION_KEYS or lowered.startswith(_ENCRYPTION_CONTEXT_PREFIX)


def conditions_hold(
    conditions: Mapping[str, Any], context: Mapping[str, Sequence[str]], *, where: str
) -> bool:
    """Every operator block and every key in it must hold (AND); the values of one key are alternatives (OR).

    A key absent from the request makes a positive operator false and a negated one true, as in AWS;
    `...IfExists` makes an absent key true; `Null` tests presence."""
    lowered = {key.lower(): list(values) for key, values in context.items()}
    for operator, block in conditions.items():
        if not isinstance(block, Mapping):
            raise UnsupportedPolicy(f"{where}: condition {operator} is not a key/value block")
        set_op, _, op = operator.rpartition(":")
        if_exists = op.endswith("IfExists")
        op = op.removesuffix("IfExists")
        if op != "Null" and _NEGATED.get(op, op) not in _POSITIVE:
            raise UnsupportedPolicy(f"{where}: condition operator {op!r} is not implemented locally")
        for key, wanted_raw in block.items():
            if not _modelled(key):
                raise UnsupportedPolicy(
                    f"{where}: condition key {key!r} is not modelled by the local evaluator"
                )
            wanted = [str(w).lower() if isinstance(w, bool) else str(w) for w in _as_list(wanted_raw)]
            values = lowered.get(key.lower())
            if op == "Null":
                if _bool_op(["true" if values is None else "false"], wanted):
                    continue
                return False
            if values is None:
                if if_exists or op in _NEGATED:
                    continue
                return False
            if not _evaluate(op, set_op, values, wanted, where):
                return False
    return True


def _evaluate(op: str, set_op: str, values: Sequence[str], wanted: Sequence[str], where: str) -> bool:
    negated = op in _NEGATED
    base = _POSITIVE.get(_NEGATED.get(op, op))
    if base is None:
        raise UnsupportedPolicy(f"{where}: condition operator {op!r} is not implemented locally")
    if set_op == "ForAllValues":
        result = all(base([v], wanted) for v in values)
    elif set_op in ("", "ForAnyValue"):
        result = base(values, wanted)
    else:
        raise UnsupportedPolicy(f"{where}: set operator {set_op!r}")
    return not result if negated else result


# --- documents -------------------------------------------------------------------------------------


def statements(document: Mapping[str, Any], policy: str, *, resource_policy: bool = False) -> list[Statement]:
    return [
        Statement(doc, policy, index, resource_policy=resource_policy)
        for index, doc in enumerate(_as_list(document.get("Statement")))
    ]


def matching(
    documents: Iterable[Statement],
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, Sequence[str]],
) -> list[StatementMatch]:
    return [m for s in documents if (m := s.match(principal, action, resource, context)) is not None]

"""Builds DynamoDB update and condition expressions with placeholders for every name and value.

Every attribute name goes through a `#n` placeholder, so reserved words (`status`, `source`, ...) and
caller-chosen field names never break an expression or inject into it.
"""

from __future__ import annotations

from typing import Any

from functions.store.dynamo_values import to_attr


class Expression:
    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._sets: list[str] = []
        self._removes: list[str] = []

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute name (one per distinct name)."""
        for placeholder, known in self._names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self._names)}"
        self._names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = to_attr(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> Expression:
        self._sets.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def set_raw(self, clause: str) -> Expression:
        """A SET clause written with placeholders from name() and value()."""
        self._sets.append(clause)
        return self

    def remove(self, attribute: str) -> Expression:
        self._removes.append(self.name(attribute))
        return self

    def update_expression(self) -> str:
        parts = []
        if self._sets:
            parts.append("SET " + ", ".join(self._sets))
        if self._removes:
            parts.append("REMOVE " + ", ".join(self._removes))
        if not parts:
            raise ValueError("an update needs at least one SET or REMOVE clause")
        return " ".join(parts)

    def params(self, *, condition: str | None = None, update: bool = True) -> dict[str, Any]:
        """Keyword arguments for UpdateItem (or, with update=False, PutItem/DeleteItem/Query)."""
        params: dict[str, Any] = {}
        if update:
            params["UpdateExpression"] = self.update_expression()
        if condition:
            params["ConditionExpression"] = condition
        if self._names:
            params["ExpressionAttributeNames"] = dict(self._names)
        if self._values:
            params["ExpressionAttributeValues"] = dict(self._values)
        return params

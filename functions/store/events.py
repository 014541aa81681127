"""The events the system announces on EventBridge (source `tiktok-publisher`, docs/data-model.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from functions.store.clients import aws_client

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

EVENT_SOURCE = "tiktok-publisher"


class EventPublishError(RuntimeError):
    """EventBridge refused the event (a failed entry in PutEvents' answer)."""


class EventBus:
    def __init__(self, bus_name: str = "", client: EventBridgeClient | None = None) -> None:
        self.bus_name = bus_name or "default"
        self._client = client

    @property
    def _events(self) -> EventBridgeClient:
        self._client = self._client or aws_client("events")  # made on first use, not at import
        return self._client

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        answer = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            failed = answer.get("Entries", [{}])[0]
            raise EventPublishError(
                f"EventBridge refused '{detail_type}': {failed.get('ErrorCode')} {failed.get('ErrorMessage')}"
            )

"""The EventBridge adapter: one event per call, on the configured bus, and a refusal is an error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.store.events import EVENT_SOURCE, EventBus, EventPublishError


class Client:
    def __init__(self, failed: bool = False) -> None:
        self.failed = failed
        self.sent: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.sent.extend(Entries)
        if self.failed:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}],
            }
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


def test_an_event_goes_to_the_bus_with_the_projects_source() -> None:
    client = Client()
    EventBus("posts-bus", client=client).publish("Post Published", {"post_id": "p1", "at": 3})  # type: ignore[arg-type]
    (entry,) = client.sent
    assert entry["Source"] == EVENT_SOURCE and entry["EventBusName"] == "posts-bus"
    assert entry["DetailType"] == "Post Published" and json.loads(entry["Detail"]) == {
        "post_id": "p1",
        "at": 3,
    }
    EventBus(client=client).publish("Post Failed", {})  # type: ignore[arg-type]
    assert client.sent[-1]["EventBusName"] == "default"


def test_a_refused_event_is_an_error_naming_why() -> None:
    with pytest.raises(EventPublishError, match="ThrottlingException"):
        EventBus(client=Client(failed=True)).publish("Post Published", {})  # type: ignore[arg-type]

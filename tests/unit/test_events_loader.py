"""The events/ fixture loader: fresh copies, overrides, and clear errors."""

from __future__ import annotations

import pytest

from tests.support import events
from tests.support.events import event_names, load_event


def test_every_fixture_loads_as_an_object() -> None:
    names = event_names()
    assert names, "events/ holds the JSON fixtures of every entry point"
    for name in names:
        assert isinstance(load_event(name), dict)


def test_overrides_apply_to_a_copy(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    name = event_names()[0]
    first = load_event(name, deep={"a.b.c": 1}, extra="x")
    assert first["extra"] == "x" and first["a"]["b"]["c"] == 1
    assert "extra" not in load_event(name)


def test_a_missing_fixture_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="no/such"):
        load_event("no/such")


def test_a_fixture_must_be_an_object(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "list.json").write_text("[1, 2]")
    monkeypatch.setattr(events, "EVENTS_DIR", folder)
    events._read.cache_clear()
    with pytest.raises(ValueError, match="JSON object"):
        load_event("list")
    events._read.cache_clear()

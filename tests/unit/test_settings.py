"""Settings come from the environment CDK writes, and a missing one is named."""

from __future__ import annotations

import pytest

from functions.settings import AppStatus, SettingMissingError, Settings


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTS_TABLE", "posts-t")
    monkeypatch.setenv("APP_STATUS", "Audited")
    monkeypatch.setenv("TIKTOK_API_BASE_URL", "http://127.0.0.1:9000/")
    monkeypatch.setenv("WEBHOOK_TOLERANCE_SECONDS", "300")
    s = Settings.from_env()
    assert s.posts_table == "posts-t"
    assert s.app_status is AppStatus.AUDITED
    assert s.tiktok_api_base_url == "http://127.0.0.1:9000"
    assert s.webhook_tolerance_seconds == 300


def test_defaults_are_the_safe_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_STATUS", raising=False)
    monkeypatch.delenv("WEBHOOK_TOLERANCE_SECONDS", raising=False)
    s = Settings.from_env()
    assert s.app_status is AppStatus.UNAUDITED
    assert s.webhook_tolerance_seconds == 72 * 3600


def test_a_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIA_BUCKET", raising=False)
    with pytest.raises(SettingMissingError, match="MEDIA_BUCKET"):
        Settings.from_env().require("media_bucket")


def test_an_unknown_app_status_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_STATUS", "approved")
    with pytest.raises(SettingMissingError, match="APP_STATUS"):
        Settings.from_env()


def test_env_is_the_one_list_of_variable_names() -> None:
    """Each setting read from the environment has its name in Env (the field's name in upper case), and
    every name in Env is read into a setting."""
    from dataclasses import fields

    from functions.settings import ENV_NAMES, Settings

    read_elsewhere = {"service", "region"}  # Powertools' and AWS's own variables
    assert {f.name.upper() for f in fields(Settings) if f.name not in read_elsewhere} == set(ENV_NAMES)
    values = {
        "APP_STATUS": "audited",
        "MEDIA_DOMAIN_VERIFIED": "true",
        "REVIEW_ALL_DIRECT_POSTS": "true",
        "SNAPSHOT_AGES": "120",
        "DISPLAY_SCOPES": "false",
    }
    for name in ENV_NAMES:
        changed = Settings.from_env_dict({name: values.get(name, "7")})
        assert changed != Settings.from_env_dict({}), f"{name} is not read"

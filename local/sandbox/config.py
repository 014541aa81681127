"""Sandbox configuration: the TikTok app (client), its creators, limits, timings and injected faults."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.sandbox.creators import Creator, default_creators
from local.sandbox.endpoints import ANY_PATH, DEFAULT_RATE_LIMITS, FAULTABLE_PATHS
from local.sandbox.quirks import check_quirks

__all__ = ["Creator", "Faults", "SandboxConfig", "default_creators", "load_config"]

# docs/reference/tiktok-api.md §5.2: what a post may fail with; fail_next_posts may only name these.
FAIL_REASONS = frozenset(
    {
        "file_format_check_failed",
        "duration_check_failed",
        "frame_rate_check_failed",
        "picture_size_check_failed",
        "internal",
        "video_pull_failed",
        "photo_pull_failed",
        "publish_cancelled",
        "auth_removed",
        "spam_risk_too_many_posts",
        "spam_risk_user_banned_from_posting",
        "spam_risk_text",
        "spam_risk",
    }
)


@dataclass
class Faults:
    """Faults on demand. The JSON accepted by POST /_sandbox/faults has exactly these keys.

    Path keys are the TikTok paths the sandbox serves (e.g. "/v2/post/publish/video/init/"),
    "/upload/" for chunk PUTs, or "*" for all of them.
    """

    error_rate: dict[str, float] = field(default_factory=dict)  # probability of a 5xx per call
    error_status: int = 500  # the status those 5xx carry (500, 502, 503 or 504)
    status_429_burst: dict[str, int] = field(default_factory=dict)  # the next N calls answer 429
    drop_connection_mid_put: int = 0  # the next N PUTs: half the body is read, then a TCP reset
    drop_connection_after_put: int = 0  # the next N PUTs are stored, then reset before the answer
    drop_connection_after_init: int = 0  # the next N inits create their post, then reset before the answer
    slow_seconds: dict[str, float] = field(default_factory=dict)  # real delay before answering
    expire_upload_urls: bool = False  # every upload URL answers 403 as if older than an hour
    duplicate_webhooks: bool = False  # each delivered webhook is delivered a second time
    fail_next_posts: list[str] = field(default_factory=list)  # fail reasons for the next posts

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: Any, base: Faults | None = None) -> Faults:
        """Validate `raw`; keys it names replace those of `base`, the others are kept."""
        if not isinstance(raw, dict):
            raise ValueError("faults must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown fault key(s): {', '.join(unknown)}")
        merged = dataclasses.replace(base) if base is not None else cls()
        for key, value in raw.items():
            setattr(merged, key, _parse_fault(key, value))
        return merged


def _path_map(key: str, value: Any, kind: type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{key} must map paths to numbers")
    out: dict[str, Any] = {}
    for path, number in value.items():
        if path != ANY_PATH and path not in FAULTABLE_PATHS:
            raise ValueError(f"{key}: unknown path {path!r} (use a TikTok path, '/upload/' or '*')")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValueError(f"{key}[{path!r}] must be a number")
        if kind is int:
            if not isinstance(number, int) or number < 0:
                raise ValueError(f"{key}[{path!r}] must be a non-negative integer")
        elif not math.isfinite(number) or number < 0:
            raise ValueError(f"{key}[{path!r}] must be a non-negative number")
        out[path] = kind(number)
    return out


def _parse_fault(key: str, value: Any) -> Any:  # noqa: PLR0911 - one return per fault key
    if key == "error_rate":
        rates = _path_map(key, value, float)
        if any(rate > 1 for rate in rates.values()):
            raise ValueError("error_rate values are probabilities between 0 and 1")
        return rates
    if key == "status_429_burst":
        return _path_map(key, value, int)
    if key == "slow_seconds":
        return _path_map(key, value, float)
    if key == "error_status":
        if isinstance(value, bool) or value not in (500, 502, 503, 504):
            raise ValueError("error_status must be one of 500, 502, 503, 504")
        return value
    if key in ("drop_connection_mid_put", "drop_connection_after_put", "drop_connection_after_init"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be a non-negative integer")
        return value
    if key in ("expire_upload_urls", "duplicate_webhooks"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    # fail_next_posts
    if not isinstance(value, list) or not all(isinstance(r, str) and r in FAIL_REASONS for r in value):
        raise ValueError(f"fail_next_posts must be a list of fail reasons: {', '.join(sorted(FAIL_REASONS))}")
    return list(value)


@dataclass
class SandboxConfig:
    """Everything the sandbox can be told at start. Defaults follow TikTok's newest docs (§0)."""

    client_key: str = "sandbox-client-key"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - the sandbox's public default
    redirect_uris: list[str] = field(default_factory=list)
    webhook_urls: list[str] = field(default_factory=list)
    verified_prefixes: list[str] = field(default_factory=list)
    creators: list[Creator] = field(default_factory=default_creators)
    access_token_ttl: int = 7200
    refresh_token_ttl: int = 180 * 86400
    auth_code_ttl: int = 600
    # Divides every processing, moderation and webhook-retry delay; never token, rate-limit,
    # 24-hour or upload-URL windows, which a client measures against its own clock.
    time_scale: float = 1.0
    audited: bool = True
    posts_per_day: int = 15
    pending_inbox_cap: int = 5
    unaudited_user_cap: int = 5
    active_user_cap: int | None = None
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    upload_url_ttl: int = 3600
    pull_timeout: int = 3600
    processing_seconds: float = 1.0
    processing_bytes_per_second: float = 0.0  # 0: processing time does not grow with size
    moderation_seconds: float = 1.0
    webhook_retry_base_seconds: float = 1.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_give_up_seconds: float = 72 * 3600.0
    webhook_timeout_seconds: float = 5.0
    spam_words: list[str] = field(default_factory=lambda: ["#sandboxspam"])
    storage_dir: str | None = None
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None
    # Behaviours reported from the field (quirks.py); none by default: the sandbox follows the docs.
    quirks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not self.client_key or not self.client_secret:
            raise ValueError("client_key and client_secret must not be empty")
        self._validate_urls()
        names = [c.username for c in self.creators]
        open_ids = [c.open_id for c in self.creators]
        if len(set(names)) != len(names) or len(set(open_ids)) != len(open_ids):
            raise ValueError("creator usernames and open_ids must be unique")
        for name in (
            "access_token_ttl",
            "refresh_token_ttl",
            "auth_code_ttl",
            "upload_url_ttl",
            "pull_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not math.isfinite(self.time_scale) or self.time_scale <= 0:
            raise ValueError("time_scale must be a positive number")
        for name in ("posts_per_day", "pending_inbox_cap", "unaudited_user_cap"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if any(limit < 0 for limit in self.rate_limits.values()):
            raise ValueError("rate limits cannot be negative")
        if not isinstance(self.quirks, list) or not all(isinstance(q, str) for q in self.quirks):
            raise ValueError("quirks must be a list of names")
        self.quirks = check_quirks(self.quirks)

    def _validate_urls(self) -> None:
        if len(self.redirect_uris) > 10:
            raise ValueError("TikTok accepts at most 10 redirect URIs")
        for uri in self.redirect_uris:
            _check_redirect_uri(uri)
        for url in self.webhook_urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"webhook URL must be an absolute http(s) URL: {url!r}")
        for prefix in self.verified_prefixes:
            _check_verified_prefix(prefix)

    @classmethod
    def from_dict(cls, raw: Any) -> SandboxConfig:
        """Build from the JSON config file's object; unknown keys are an error, not ignored."""
        if not isinstance(raw, dict):
            raise ValueError("the config must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(unknown)}")
        kwargs = dict(raw)
        if "creators" in kwargs:
            if not isinstance(kwargs["creators"], list):
                raise ValueError("creators must be a list")
            kwargs["creators"] = [Creator.from_dict(c) for c in kwargs["creators"]]
        if "faults" in kwargs:
            kwargs["faults"] = Faults.from_dict(kwargs["faults"])
        if "rate_limits" in kwargs:
            limits = dict(DEFAULT_RATE_LIMITS)
            if not isinstance(kwargs["rate_limits"], dict):
                raise ValueError("rate_limits must map paths to integers")
            for path, limit in kwargs["rate_limits"].items():
                if path not in DEFAULT_RATE_LIMITS or isinstance(limit, bool) or not isinstance(limit, int):
                    raise ValueError(f"rate_limits: {path!r} must be a rate-limited path with an integer")
                limits[path] = limit
            kwargs["rate_limits"] = limits
        return cls(**kwargs)


def _check_redirect_uri(uri: str) -> None:
    # docs/reference/tiktok-api.md §1.1: shorter than 512 characters, absolute, static (no query, no
    # fragment); https for web apps, or http(s) on localhost/127.0.0.1 with a port (desktop, `*` allowed).
    if len(uri) >= 512:
        raise ValueError(f"redirect URI must be shorter than 512 characters: {uri[:40]!r}...")
    parts = urlsplit(uri.replace(":*", ":0", 1))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"redirect URI must be absolute http(s): {uri!r}")
    if parts.query or parts.fragment or "?" in uri or "#" in uri:
        raise ValueError(f"redirect URI must be static (no query, no fragment): {uri!r}")
    loopback = parts.hostname in ("localhost", "127.0.0.1")
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"an http redirect URI must point at localhost or 127.0.0.1: {uri!r}")
    if loopback and parts.port is None:
        raise ValueError(f"a localhost redirect URI needs a port: {uri!r}")


def _check_verified_prefix(prefix: str) -> None:
    if "://" in prefix:
        parts = urlsplit(prefix)
        if parts.scheme not in ("http", "https") or not parts.hostname or not prefix.endswith("/"):
            raise ValueError(f"a URL prefix is scheme://host/path/ ending in '/': {prefix!r}")
    elif not prefix or "/" in prefix or prefix.startswith("."):
        raise ValueError(f"a verified domain is a bare host name such as static.example.com: {prefix!r}")


def load_config(path: str | Path) -> SandboxConfig:
    with open(path, encoding="utf-8") as handle:
        return SandboxConfig.from_dict(json.load(handle))

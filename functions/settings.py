"""Typed settings read from the environment that the CDK app writes for each function.

`Env` is the one list of the variable names (the CDK constructs write them, the local runtime and the tests
set them); a function reads only the settings it needs, and a missing one fails with an error naming the
variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AppStatus(StrEnum):
    """What TikTok has approved for this deployment's app (README.md, "Deploying for real": `app_status`)."""

    UNAUDITED = "unaudited"
    AUDITED = "audited"


class SettingMissingError(RuntimeError):
    """A function was deployed without a setting it needs."""


class Env:
    """The environment variables the functions read: one per setting, named after it in upper case. The CDK
    constructs, the local runtime and the tests take the names from here."""

    ACCOUNTS_TABLE = "ACCOUNTS_TABLE"
    TOKENS_TABLE = "TOKENS_TABLE"
    OAUTH_STATE_TABLE = "OAUTH_STATE_TABLE"
    POSTS_TABLE = "POSTS_TABLE"
    QUOTA_TABLE = "QUOTA_TABLE"
    IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
    MEDIA_BUCKET = "MEDIA_BUCKET"
    STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
    EVENT_BUS_NAME = "EVENT_BUS_NAME"
    WEBHOOK_QUEUE_URL = "WEBHOOK_QUEUE_URL"
    TOKEN_KEY_ID = "TOKEN_KEY_ID"  # noqa: S105  # nosec B105 - a variable name
    TIKTOK_SECRET_ARN = "TIKTOK_SECRET_ARN"  # noqa: S105  # nosec B105 - a variable name
    TIKTOK_API_BASE_URL = "TIKTOK_API_BASE_URL"
    TIKTOK_AUTH_BASE_URL = "TIKTOK_AUTH_BASE_URL"
    OAUTH_REDIRECT_URI = "OAUTH_REDIRECT_URI"
    MEDIA_BASE_URL = "MEDIA_BASE_URL"
    MEDIA_KEY_PAIR_ID = "MEDIA_KEY_PAIR_ID"
    MEDIA_SIGNING_SECRET_ARN = "MEDIA_SIGNING_SECRET_ARN"  # noqa: S105  # nosec B105 - a variable name
    APP_STATUS = "APP_STATUS"
    WEBHOOK_TOLERANCE_SECONDS = "WEBHOOK_TOLERANCE_SECONDS"
    HTTP_TIMEOUT_SECONDS = "HTTP_TIMEOUT_SECONDS"
    MEDIA_DOMAIN_VERIFIED = "MEDIA_DOMAIN_VERIFIED"
    UPLOAD_CHUNK_BYTES = "UPLOAD_CHUNK_BYTES"
    REVIEW_ALL_DIRECT_POSTS = "REVIEW_ALL_DIRECT_POSTS"
    REVIEW_EXPIRY_SECONDS = "REVIEW_EXPIRY_SECONDS"
    REVIEW_BASE_URL = "REVIEW_BASE_URL"
    REVIEW_LINK_KEY_ARN = "REVIEW_LINK_KEY_ARN"
    AFTER_PUBLISH_ARN = "AFTER_PUBLISH_ARN"
    SCHEDULER_ROLE_ARN = "SCHEDULER_ROLE_ARN"
    SCHEDULE_PREFIX = "SCHEDULE_PREFIX"
    SNAPSHOT_AGES = "SNAPSHOT_AGES"
    DISPLAY_SCOPES = "DISPLAY_SCOPES"


# Every name above, in the order of Settings' fields.
ENV_NAMES: tuple[str, ...] = tuple(v for k, v in vars(Env).items() if k.isupper())


@dataclass(frozen=True)
class Settings:
    service: str = "tiktok-publisher"
    region: str = ""
    accounts_table: str = ""
    tokens_table: str = ""
    oauth_state_table: str = ""
    posts_table: str = ""
    quota_table: str = ""
    idempotency_table: str = ""
    media_bucket: str = ""
    state_machine_arn: str = ""
    event_bus_name: str = ""
    webhook_queue_url: str = ""
    token_key_id: str = ""
    tiktok_secret_arn: str = ""
    tiktok_api_base_url: str = "https://open.tiktokapis.com"
    tiktok_auth_base_url: str = "https://www.tiktok.com"
    oauth_redirect_uri: str = ""
    media_base_url: str = ""
    media_key_pair_id: str = ""
    media_signing_secret_arn: str = ""
    app_status: AppStatus = AppStatus.UNAUDITED
    webhook_tolerance_seconds: int = 259_200
    http_timeout_seconds: float = 10.0
    media_domain_verified: bool = False  # TikTok verified the media domain: videos go by PULL_FROM_URL
    upload_chunk_bytes: int = 64_000_000  # valid whether TikTok's "64 MB" means 10^6 or 2^20 bytes
    # The review page (functions/review): every direct post goes through it when the operator asks for
    # approval; otherwise only the direct posts whose author chose no privacy_level do.
    review_all_direct_posts: bool = False
    review_expiry_seconds: int = 259_200
    review_base_url: str = ""  # <api>/review/ : where a review link points
    review_link_key_arn: str = ""  # the Secrets Manager secret that signs review links
    # After publishing (functions/posting/after_publish.py): the function EventBridge Scheduler invokes, the
    # role it invokes it as, the prefix of the schedules' names, and the ages (seconds after publishing) at
    # which a public post's numbers are read. DISPLAY_SCOPES=false leaves out video.list and user.info.stats
    # for an app TikTok has not granted them: everything else keeps working.
    after_publish_arn: str = ""
    scheduler_role_arn: str = ""
    schedule_prefix: str = "tiktok-publisher"
    snapshot_ages: tuple[int, ...] = (3600, 86_400, 604_800)
    display_scopes: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        return cls.from_env_dict(os.environ)

    @classmethod
    def from_env_dict(cls, env: Mapping[str, str]) -> Settings:
        def _env(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        status = _env(Env.APP_STATUS, AppStatus.UNAUDITED.value).lower()
        if status not in {s.value for s in AppStatus}:
            raise SettingMissingError(f"APP_STATUS must be 'unaudited' or 'audited', not {status!r}")
        return cls(
            service=_env("POWERTOOLS_SERVICE_NAME", "tiktok-publisher"),
            region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION")),
            accounts_table=_env(Env.ACCOUNTS_TABLE),
            tokens_table=_env(Env.TOKENS_TABLE),
            oauth_state_table=_env(Env.OAUTH_STATE_TABLE),
            posts_table=_env(Env.POSTS_TABLE),
            quota_table=_env(Env.QUOTA_TABLE),
            idempotency_table=_env(Env.IDEMPOTENCY_TABLE),
            media_bucket=_env(Env.MEDIA_BUCKET),
            state_machine_arn=_env(Env.STATE_MACHINE_ARN),
            event_bus_name=_env(Env.EVENT_BUS_NAME),
            webhook_queue_url=_env(Env.WEBHOOK_QUEUE_URL),
            token_key_id=_env(Env.TOKEN_KEY_ID),
            tiktok_secret_arn=_env(Env.TIKTOK_SECRET_ARN),
            tiktok_api_base_url=_env(Env.TIKTOK_API_BASE_URL, "https://open.tiktokapis.com").rstrip("/"),
            tiktok_auth_base_url=_env(Env.TIKTOK_AUTH_BASE_URL, "https://www.tiktok.com").rstrip("/"),
            oauth_redirect_uri=_env(Env.OAUTH_REDIRECT_URI),
            media_base_url=_env(Env.MEDIA_BASE_URL).rstrip("/"),
            media_key_pair_id=_env(Env.MEDIA_KEY_PAIR_ID),
            media_signing_secret_arn=_env(Env.MEDIA_SIGNING_SECRET_ARN),
            app_status=AppStatus(status),
            webhook_tolerance_seconds=int(_env(Env.WEBHOOK_TOLERANCE_SECONDS, "259200")),
            http_timeout_seconds=float(_env(Env.HTTP_TIMEOUT_SECONDS, "10")),
            media_domain_verified=_env(Env.MEDIA_DOMAIN_VERIFIED, "false").lower() in {"1", "true", "yes"},
            upload_chunk_bytes=int(_env(Env.UPLOAD_CHUNK_BYTES, "64000000")),
            review_all_direct_posts=_env(Env.REVIEW_ALL_DIRECT_POSTS, "false").lower()
            in {"1", "true", "yes"},
            review_expiry_seconds=int(_env(Env.REVIEW_EXPIRY_SECONDS, "259200")),
            review_base_url=_env(Env.REVIEW_BASE_URL).rstrip("/"),
            review_link_key_arn=_env(Env.REVIEW_LINK_KEY_ARN),
            after_publish_arn=_env(Env.AFTER_PUBLISH_ARN),
            scheduler_role_arn=_env(Env.SCHEDULER_ROLE_ARN),
            schedule_prefix=_env(Env.SCHEDULE_PREFIX, "tiktok-publisher"),
            snapshot_ages=_ages(_env(Env.SNAPSHOT_AGES, "3600,86400,604800")),
            display_scopes=_env(Env.DISPLAY_SCOPES, "true").lower() in {"1", "true", "yes"},
        )

    def require(self, name: str) -> str:
        """The value of a string setting, or an error naming the environment variable that is empty."""
        value = getattr(self, name)
        if not value:
            raise SettingMissingError(
                f"setting {name} is empty: set {name.upper()} in the function's environment"
            )
        return str(value)


def _ages(text: str) -> tuple[int, ...]:
    """Snapshot ages: seconds, comma separated, each at least a minute and at most 90 days."""
    try:
        ages = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise SettingMissingError(
            f"SNAPSHOT_AGES must be seconds separated by commas, not {text!r}"
        ) from None
    if any(not 60 <= age <= 90 * 86_400 for age in ages):
        raise SettingMissingError(f"SNAPSHOT_AGES must each be 60 to {90 * 86_400} seconds, not {text!r}")
    return ages


def settings() -> Settings:
    """Settings of this invocation. Reading the environment costs microseconds, and not caching keeps
    in-process runs (tests, the local runtime) honest when each function has its own environment."""
    return Settings.from_env()

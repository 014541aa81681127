"""Every error code TikTok documents, with what a caller does about it (`ErrorKind`) and a sentence for the
creator or operator. Sources: docs/reference/tiktok-api.md §1.3 (OAuth errors) and §2 (the envelope and
each endpoint's codes). Pure stdlib, like errors.py."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"  # transient on TikTok's side or the network: try again after a backoff
    REAUTH = "reauth"  # the creator must connect the account again
    QUOTA_WAIT = "quota_wait"  # a limit is reached: wait for the window to free a slot, then try again
    TERMINAL = "terminal"  # retrying cannot help; `.reason` says why


# code -> (kind, a sentence for the creator or operator). Both spellings of invalid_param(s) occur
# (§2.1). "ok" is absent on purpose: it is not an error.
ERROR_CODES: Mapping[str, tuple[ErrorKind, str]] = {
    "access_token_invalid": (
        ErrorKind.REAUTH,
        "TikTok no longer accepts this account's access; the creator must connect the account again.",
    ),
    "scope_not_authorized": (
        ErrorKind.REAUTH,
        "The creator did not grant the permission this needs; connect the account again and approve all "
        "requested permissions.",
    ),
    "scope_permission_missed": (
        ErrorKind.TERMINAL,
        "The TikTok app is not approved for a permission this call needs; the operator must add the product "
        "and scope in the TikTok developer portal.",
    ),
    "internal_error": (ErrorKind.RETRYABLE, "TikTok had an internal error; the request can be retried."),
    "rate_limit_exceeded": (
        ErrorKind.QUOTA_WAIT,
        "TikTok's per-minute request limit for this account was reached; the request waits for the next "
        "minute.",
    ),
    "invalid_params": (ErrorKind.TERMINAL, "TikTok rejected the request's parameters."),
    "invalid_param": (ErrorKind.TERMINAL, "TikTok rejected the request's parameters."),
    "invalid_file_upload": (ErrorKind.TERMINAL, "TikTok rejected the uploaded file."),
    "spam_risk_too_many_posts": (
        ErrorKind.QUOTA_WAIT,
        "The creator reached TikTok's daily limit of posts made through apps; the post waits until a slot "
        "frees up (or the creator can post from the TikTok app).",
    ),
    "spam_risk_too_many_pending_share": (
        ErrorKind.QUOTA_WAIT,
        "The creator already has 5 uploads waiting in the TikTok inbox; the upload waits until one is "
        "posted or 24 hours pass.",
    ),
    "reached_active_user_cap": (
        ErrorKind.QUOTA_WAIT,
        "This TikTok app reached its daily cap of creators who can post; the post waits for the next "
        "24-hour window.",
    ),
    "spam_risk_user_banned_from_posting": (
        ErrorKind.TERMINAL,
        "TikTok has banned this account from posting; the post cannot be published.",
    ),
    "unaudited_client_can_only_post_to_private_accounts": (
        ErrorKind.TERMINAL,
        "This TikTok app is not audited, so it can post only to private accounts; make the account private "
        "or get the app audited.",
    ),
    "url_ownership_unverified": (
        ErrorKind.TERMINAL,
        "TikTok cannot pull the media because its domain or URL prefix is not verified for this app; the "
        "operator must verify the media domain in the TikTok developer portal.",
    ),
    "privacy_level_option_mismatch": (
        ErrorKind.TERMINAL,
        "The chosen privacy level is not one this creator's account offers; choose one of the offered "
        "options.",
    ),
    "app_version_check_failed": (
        ErrorKind.TERMINAL,
        "The creator's TikTok app is too old for photo drafts (version 31.8 or later is needed); update the "
        "app and try again.",
    ),
    "invalid_publish_id": (ErrorKind.TERMINAL, "TikTok does not know this publish id."),
    "token_not_authorized_for_specified_publish_id": (
        ErrorKind.TERMINAL,
        "This publish id belongs to another account or app.",
    ),
    "publish_not_cancellable": (
        ErrorKind.TERMINAL,
        "TikTok can no longer cancel this post: it is already being processed or has finished.",
    ),
}

# OAuth token/revoke endpoints answer with flat {"error", "error_description", "log_id"} (§1.3).
OAUTH_ERROR_CODES: Mapping[str, tuple[ErrorKind, str]] = {
    "invalid_grant": (
        ErrorKind.REAUTH,
        "TikTok refused the authorization (expired, revoked or already used); the creator must connect the "
        "account again.",
    ),
    "access_denied": (
        ErrorKind.REAUTH,
        "The creator declined the TikTok authorization; connect again and approve it to continue.",
    ),
    "invalid_client": (
        ErrorKind.TERMINAL,
        "TikTok does not accept this app's client key or secret; the operator must check the stored "
        "credentials.",
    ),
    "unauthorized_client": (
        ErrorKind.TERMINAL,
        "This TikTok app is not allowed to use this kind of authorization; check the app's configuration.",
    ),
    "invalid_request": (
        ErrorKind.TERMINAL,
        "TikTok rejected the authorization request (often a redirect URI that does not exactly match the "
        "registered one).",
    ),
    "invalid_scope": (
        ErrorKind.TERMINAL,
        "A requested permission is unknown or not enabled for this TikTok app.",
    ),
    "unsupported_grant_type": (ErrorKind.TERMINAL, "TikTok does not support this grant type."),
    "unsupported_response_type": (ErrorKind.TERMINAL, "TikTok does not support this response type."),
    "server_error": (ErrorKind.RETRYABLE, "TikTok's login service had an error; it can be retried."),
    "temporarily_unavailable": (
        ErrorKind.RETRYABLE,
        "TikTok's login service is temporarily unavailable; it can be retried.",
    ),
}

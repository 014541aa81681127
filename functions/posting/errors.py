"""Errors a workflow step raises. Lambda reports the class name as the error type, and the state machine
retries or catches by that name (infra/constructs/workflow.py), so the names are part of the contract."""

from __future__ import annotations


class TransientStepError(Exception):
    """Worth retrying: TikTok or AWS answered 5xx/429, a connection dropped. The state machine retries it
    with jittered backoff, a bounded number of times."""


class PostRejectedError(Exception):
    """The post cannot be published as asked; retrying cannot help. `reason` is a short code recorded on the
    post (TikTok's fail_reason where TikTok gave one), `detail` a sentence a person understands."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ReauthRequiredError(PostRejectedError):
    """The account's authorisation is gone or refused; the creator must connect it again."""

    def __init__(self, account_id: str, detail: str) -> None:
        super().__init__("reauth_required", f"account {account_id}: {detail}")
        self.account_id = account_id


class QuotaWaitError(Exception):
    """TikTok says this creator cannot post now (its own caps, shared with other apps). Nothing was created,
    so the state machine waits a long, growing interval and tries again: the post waits, it does not fail."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(f"{code}: {detail}")


class TikTokRetryError(Exception):
    """TikTok failed this attempt with a fail_reason it says to retry (`internal`, a failed pull): the post
    is back before Init, with its publish_id abandoned, and the state machine asks TikTok again after a
    backoff (ReserveQuota names the time). TikTok reported FAILED for the old publish_id, so it cannot
    publish, and a new init cannot post twice."""

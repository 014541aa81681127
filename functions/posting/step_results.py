"""What each workflow step returns: the state machine's Choice and Wait states read these fields
(infra/constructs/workflow.py; tests/infra/test_step_results.py checks every field it reads is here).

`STEP_RESULTS` maps the result path each step's answer is kept under to its type.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PrepareResult(TypedDict):
    review: bool  # the creator reviews the post before it goes
    repair: NotRequired[bool]  # a conforming copy is made first
    publish_at: NotRequired[str]  # the author's time, ISO 8601 UTC


class ReserveResult(TypedDict):
    reserved: bool
    retry_at: NotRequired[str]  # when a slot frees, ISO 8601 UTC (when not reserved)


class InitStepResult(TypedDict):
    upload: bool  # a FILE_UPLOAD is left to send
    poll: NotRequired[bool]  # TikTok sends no webhook for this post: poll its status
    requeue: NotRequired[bool]  # the slot lapsed while TikTok said "not now": reserve again


class UploadResult(TypedDict):
    complete: bool
    reinit: NotRequired[bool]  # the upload URL lapsed: ask TikTok for a new one


class OutcomeResult(TypedDict):
    """Check Status's answer, and the one a webhook hands the waiting workflow (functions/posting/outcome.py)."""

    final: bool
    status: NotRequired[str]  # the final status
    wait_seconds: NotRequired[int]  # before the next poll (when not final)


class FinishResult(TypedDict):
    post_id: str
    status: str


class RepairResult(TypedDict):
    repaired: bool
    changes: int


class LinkSearchResult(TypedDict):
    post_id: str
    state: str
    attempt: NotRequired[int]


class SnapshotResult(TypedDict):
    post_id: str
    taken: int
    waits_for: NotRequired[str]


STEP_RESULTS: dict[str, type] = {
    "$.prepare": PrepareResult,
    "$.quota": ReserveResult,
    "$.init": InitStepResult,
    "$.upload": UploadResult,
    "$.outcome": OutcomeResult,
    "$.repair": RepairResult,
}

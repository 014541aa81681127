"""The parts of a post record the steps read: each reads what the steps write, writes it back unchanged,
and refuses a part of another shape with the field named (post_record_invalid)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.posting.errors import PostRejectedError
from functions.posting.record_parts import (
    AfterPublishPlan,
    PostMedia,
    PublicLink,
    ReviewState,
    TikTokRetry,
    UploadProgress,
    caption_of,
)

UPLOAD = {
    "total": 150,
    "chunk_size": 64,
    "chunks": 2,
    "preferred_chunk_size": 64,
    "offset": 64,
    "complete": False,
}


def test_media_names_its_bucket_keys_and_versions() -> None:
    post = {
        "media": {
            "bucket": "b",
            "keys": ["a.jpg", "b.jpg"],
            "origin_key": "m.json",
            "version_ids": {"a.jpg": "v1"},
        }
    }
    media = PostMedia.of(post)
    assert (media.bucket, media.keys, media.origin_key) == ("b", ("a.jpg", "b.jpg"), "m.json")
    assert media.version_ids == {"a.jpg": "v1"}


@pytest.mark.parametrize(
    ("media", "named"),
    [
        (None, "media must be an object"),
        ({"bucket": "b", "keys": []}, "media.keys must be a non-empty list of object keys"),
        ({"bucket": "b", "keys": ["a", 3]}, "media.keys must be a non-empty list of object keys"),
        ({"keys": ["a"]}, "media.bucket must be a string"),
    ],
)
def test_media_of_another_shape_is_named(media: Any, named: str) -> None:
    with pytest.raises(PostRejectedError) as refused:
        PostMedia.of({"media": media})
    assert refused.value.reason == "post_record_invalid" and named in refused.value.detail


def test_upload_progress_reads_moves_on_and_writes_back() -> None:
    assert UploadProgress.found_in({}) is None
    upload = UploadProgress.found_in({"upload": UPLOAD})
    assert upload is not None and upload.to_record() == UPLOAD
    assert upload.at(150, complete=True).to_record() == {**UPLOAD, "offset": 150, "complete": True}
    started = UploadProgress.found_in(
        {"upload": {k: v for k, v in UPLOAD.items() if k not in ("offset", "complete")}}
    )
    assert started is not None and (started.offset, started.complete) == (0, False)
    with pytest.raises(PostRejectedError, match=r"upload\.chunk_size must be a number"):
        UploadProgress.found_in({"upload": {**UPLOAD, "chunk_size": "64"}})


def test_tiktok_retry_round_trips_and_names_a_bad_time() -> None:
    assert TikTokRetry.found_in({"tiktok_retry": None}) is None
    retry = {"attempt": 1, "reason": "internal", "not_before": 100}
    found = TikTokRetry.found_in({"tiktok_retry": retry})
    assert found is not None and found.to_record() == retry
    with pytest.raises(PostRejectedError, match=r"tiktok_retry\.not_before must be a number"):
        TikTokRetry.found_in({"tiktok_retry": {**retry, "not_before": "soon"}})


def test_a_review_is_issued_then_decided_keeping_its_reason() -> None:
    assert ReviewState.of({}) == ReviewState()
    review = ReviewState.of({"review": {"reason": "no privacy level"}})
    issued = review.issued("https://x/review/t", expires_at=500, now=100)
    decided = issued.decided({"decision": "discarded", "decided_at": 200})
    assert decided.to_record() == {
        "reason": "no privacy level",
        "url": "https://x/review/t",
        "expires_at": 500,
        "issued_at": 100,
        "decision": {"decision": "discarded", "decided_at": 200},
    }
    assert ReviewState.of({"review": decided.to_record()}) == decided
    with pytest.raises(PostRejectedError, match=r"review\.expires_at must be a number"):
        ReviewState.of({"review": {"expires_at": "later"}})


def test_a_page_shows_no_link_for_a_review_it_cannot_read() -> None:
    assert ReviewState.link_of({"review": {"url": "https://x/r"}}) == "https://x/r"
    assert ReviewState.link_of({"review": {"url": 5}}) == ""
    assert ReviewState.link_of({}) == ""


def test_the_public_link_and_the_plan_after_publishing() -> None:
    assert PublicLink.found_in({}) is None
    link = PublicLink.found_in({"public_link": {"state": "found", "why": "by id", "video_id": "7"}})
    assert link == PublicLink("found", "by id")
    with pytest.raises(PostRejectedError, match=r"public_link\.state must be a string"):
        PublicLink.found_in({"public_link": {"why": "?"}})

    assert AfterPublishPlan.found_in({}) is None
    private = {"planned_at": 5}
    assert AfterPublishPlan.found_in({"after_publish": private}) == AfterPublishPlan(5)
    assert AfterPublishPlan(5).to_record() == private
    plan = {"planned_at": 5, "completed_at": 4, "snapshots_due": [10, 20]}
    found = AfterPublishPlan.found_in({"after_publish": plan})
    assert found is not None and found.to_record() == plan
    assert found.due([20]).to_record() == {**plan, "snapshots_due": [20]}
    assert found.due([]).to_record() == {**plan, "snapshots_due": []}
    with pytest.raises(PostRejectedError, match=r"after_publish\.snapshots_due must be a list of times"):
        AfterPublishPlan.found_in({"after_publish": {**plan, "snapshots_due": ["x"]}})


def test_the_caption_a_public_video_is_recognised_by() -> None:
    assert caption_of({"settings": {"caption": "hello #tag", "title": "t"}}) == "hello #tag"
    assert caption_of({"settings": {"title": "photos"}}) == "photos"
    assert caption_of({}) == ""
    with pytest.raises(PostRejectedError, match=r"settings\.caption must be a string"):
        caption_of({"settings": {"caption": 5}})

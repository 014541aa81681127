"""Repair: media that breaks one of TikTok's rules (Prepare found which, functions/posting/repair_needs.py)
made into a copy that follows them, which the post then sends instead.

For each medium Prepare named: the original version is read from S3 as it is streamed (never changed),
repaired with functions/repair (PyAV for a video, Pillow for a photo), and written by multipart upload to
`derived/<account>/<post>/...`. The copy is then probed from S3 with the same probe and rules as Prepare
before it takes the original's place in `prepared`: Init, Upload and PULL_FROM_URL send it, the review
page previews it. The post keeps what was done in `repair`: each change in words (`changes`, e.g. "frame
rate 120 -> 60 fps"), each copy and its original (`items`), and the time it took against the estimate.

A video the repair function could not finish in its time is refused before any work (functions/repair/
budget.py), as is anything functions/repair refuses (RepairRefusedError, caught by name in the workflow).
A retried step finds the repair recorded and does nothing again.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from functions.ports import HasClock, HasMedia, HasPosts
from functions.post_status import is_terminal
from functions.posting.errors import PostRejectedError
from functions.posting.media_probe import ImageProbe, MediaProbeError, probe_image, probe_video
from functions.posting.prepared import MediaObject, Prepared, PreparedPhoto, PreparedVideo
from functions.posting.record_parts import PostMedia
from functions.posting.rules import check_photo, check_video

if TYPE_CHECKING:
    from collections.abc import Callable

    from functions.posting.media_probe import VideoProbe
    from functions.posting.step_results import RepairResult
    from functions.repair.results import RepairOutcome


class RepairPorts(HasClock, HasPosts, HasMedia, Protocol):
    """The ports this module's functions use."""


DERIVED_PREFIX = "derived/"
CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "jpeg": "image/jpeg"}


def derived_key(post: dict[str, Any], name: str) -> str:
    """Where a post's repaired copy goes: outside posts/, so it starts no post of its own."""
    return f"{DERIVED_PREFIX}{post['account_id']}/{post['post_id']}/{name}"


def repair_post(w: RepairPorts, post_id: str, remaining_ms: Callable[[], int] | None = None) -> RepairResult:
    post = w.posts.get(post_id)
    if post is None:
        raise PostRejectedError("post_missing", f"no post {post_id}")
    needs = post.get("repair") or {}
    if needs.get("status") == "repaired":  # a retried step: the copy is made and in place
        return {"repaired": True, "changes": len(needs.get("changes") or [])}
    if is_terminal(post.get("status")):
        raise PostRejectedError("post_cancelled", "the post ended before its media was repaired")
    started = time.monotonic()
    wanted = {item["key"]: item for item in needs.get("items") or []}
    prepared = Prepared.of(post)
    items: list[dict[str, Any]] = []
    estimated = 0.0
    if prepared.video is not None:
        remaining = (remaining_ms() / 1000) if remaining_ms is not None else float("inf")
        video, item, estimated = _video(w, post, prepared.video, needs, remaining)
        prepared = prepared.replace(video=video)
        items.append(item)
    else:
        photos = list(prepared.photos)
        for index, photo in enumerate(photos):
            if photo.key in wanted:
                photos[index], item = _photo(w, post, photo, index)
                items.append(item)
        prepared = prepared.replace(photos=tuple(photos))
    changes = [change for item in items for change in item["changes"]]
    record = {
        "status": "repaired",
        "changes": changes,
        "items": items,
        "seconds": round(time.monotonic() - started, 2),
        "max_duration_seconds": needs.get("max_duration_seconds"),
    }
    if estimated:
        record["estimated_seconds"] = round(estimated, 1)
    status = str(post["status"])
    if not w.posts.transition(
        post_id,
        status,
        now=w.now(),
        note="media repaired: " + "; ".join(changes),
        fields={"prepared": prepared.to_record(), "repair": record},
        allow_same_rank=True,
        from_status=status,
    ):
        raise PostRejectedError("post_cancelled", "the post ended while its media was being repaired")
    return {"repaired": True, "changes": len(changes)}


def _video(
    w: RepairPorts, post: dict[str, Any], video: PreparedVideo, needs: dict[str, Any], remaining: float
) -> tuple[PreparedVideo, dict[str, Any], float]:
    # PyAV is imported here: the repair function's layer carries it, no other function's does.
    from functions.repair import budget  # noqa: PLC0415
    from functions.repair.plan import plan_video_repair  # noqa: PLC0415
    from functions.repair.sources import read_video_facts  # noqa: PLC0415
    from functions.repair.video import repair_video  # noqa: PLC0415

    bucket, limit = PostMedia.of(post).bucket, int(needs["max_duration_seconds"])
    with w.media.open_file(bucket, video.key, video.version_id, video.size) as source:
        facts = read_video_facts(source)
        plan = plan_video_repair(facts.probe, max_duration_seconds=limit, audio_codec=facts.audio_codec)
        if not plan.needed:
            why = next((i["why"] for i in needs.get("items") or [] if i["key"] == video.key), "")
            reason, _, detail = why.partition(": ")
            raise PostRejectedError(
                reason or "file_format_check_failed",
                f"{detail}; FFmpeg reads the file as following TikTok's rules, so there is nothing it could "
                "repair: export it again (MP4 with H.264, 23-60 fps) and post that",
            )
        found = budget.estimate(
            facts.probe, plan, video.size, remaining_seconds=remaining, vcpus=budget.function_vcpus()
        )
        budget.refuse_if_too_long(facts.probe, plan, found)
        key = derived_key(post, f"video.{plan.container}")
        upload = w.media.multipart_write(bucket, key, CONTENT_TYPES[plan.container])
        with upload as target:
            outcome = repair_video(source, target, plan)
    probe = _checked_video(w, bucket, key, version_id=upload.version_id, size=upload.size, limit=limit)
    copy = PreparedVideo(
        key=key,
        version_id=upload.version_id,
        size=upload.size,
        repaired_from={"key": video.key, "version_id": video.version_id},
        content_type=CONTENT_TYPES[plan.container],
        probe=probe.summary(),
    )
    return copy, _item(video, copy, outcome), found.seconds


def _photo(
    w: RepairPorts, post: dict[str, Any], photo: PreparedPhoto, index: int
) -> tuple[PreparedPhoto, dict[str, Any]]:
    from functions.repair.photo import repair_photo  # noqa: PLC0415 - Pillow: the repair layer's
    from functions.repair.plan import plan_photo_repair  # noqa: PLC0415

    bucket = PostMedia.of(post).bucket
    probe = ImageProbe(photo.format, photo.width, photo.height)
    plan = plan_photo_repair(probe, photo.size)
    key = derived_key(post, f"photo-{index + 1:02d}.jpg")
    with w.media.open_file(bucket, photo.key, photo.version_id, photo.size) as source:
        upload = w.media.multipart_write(bucket, key, CONTENT_TYPES["jpeg"])
        with upload as target:
            outcome = repair_photo(source, target, plan)
    try:
        image = probe_image(_reader(w, bucket, key, upload.version_id), upload.size)
        check_photo(key, image, upload.size)
    except (MediaProbeError, PostRejectedError) as exc:
        raise PostRejectedError("repair_failed", f"the repaired copy of {photo.key}: {exc}") from None
    copy = PreparedPhoto(
        key=key,
        version_id=upload.version_id,
        size=upload.size,
        repaired_from={"key": photo.key, "version_id": photo.version_id},
        format=image.format,
        width=image.width,
        height=image.height,
    )
    item = _item(photo, copy, outcome)
    # In a set, each sentence names its photo (in the set's order, which the copies keep).
    item["changes"] = [f"photo {index + 1}: {change}" for change in item["changes"]]
    return copy, item


def _checked_video(
    w: RepairPorts, bucket: str, key: str, *, version_id: str | None, size: int, limit: int
) -> VideoProbe:
    """The copy as Prepare would see it: the same probe and rules, read from S3."""
    try:
        probe = probe_video(_reader(w, bucket, key, version_id), size)
        check_video(probe, size, None, max_duration_seconds=limit)
    except (MediaProbeError, PostRejectedError) as exc:
        raise PostRejectedError("repair_failed", f"the repaired copy {key}: {exc}") from None
    return probe


def _item(source: MediaObject, copy: MediaObject, outcome: RepairOutcome) -> dict[str, Any]:
    return {
        "source": {"key": source.key, "version_id": source.version_id, "size": source.size},
        "derived": {"key": copy.key, "version_id": copy.version_id, "size": copy.size},
        "changes": [str(change) for change in outcome.changes],
        "seconds": round(outcome.seconds, 2),
    }


def _reader(w: RepairPorts, bucket: str, key: str, version_id: str | None) -> Callable[[int, int], bytes]:
    def read(start: int, end_inclusive: int) -> bytes:
        return w.media.read_range(bucket, key, start, end_inclusive, version_id)

    return read

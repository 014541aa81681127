"""The `prepared` part of a post record as a type: read and written back unchanged, and a record of
another shape refused with the field named."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from functions.posting.errors import PostRejectedError
from functions.posting.prepared import Prepared

VIDEO_RECORD: dict[str, Any] = {
    "source": "FILE_UPLOAD",
    "disable_comment": False,
    "disable_duet": True,
    "disable_stitch": False,
    "notes": ["duet is off for this creator"],
    "creator": {"username": "alice", "nickname": "Alice"},
    "video": {
        "key": "derived/alice/p1/video.mp4",
        "version_id": "v2",
        "size": 1234,
        "content_type": "video/mp4",
        "probe": {"duration_seconds": 12.5, "fps": 30.0},
        "repaired_from": {"key": "posts/alice/clip.mov", "version_id": "v1"},
    },
}
PHOTO_RECORD: dict[str, Any] = {
    "source": "PULL_FROM_URL",
    "disable_comment": True,
    "disable_duet": False,
    "disable_stitch": False,
    "notes": [],
    "creator": {"username": "bob", "nickname": "Bob"},
    "photos": [
        {
            "key": "posts/bob/1.jpg",
            "version_id": None,
            "size": 10,
            "format": "jpeg",
            "width": 1080,
            "height": 1350,
        },
        {
            "key": "posts/bob/2.jpg",
            "version_id": "v9",
            "size": 20,
            "format": "webp",
            "width": 720,
            "height": 720,
        },
    ],
}


@pytest.mark.parametrize("record", [VIDEO_RECORD, PHOTO_RECORD], ids=["video", "photos"])
def test_a_record_reads_and_writes_back_unchanged(record: dict[str, Any]) -> None:
    assert Prepared.of({"prepared": record}).to_record() == record


def test_what_the_steps_read() -> None:
    video = Prepared.of({"prepared": VIDEO_RECORD})
    assert video.uploads_a_file and video.disable_duet and not video.disable_comment
    assert video.the_video().duration_seconds == 12.5
    assert [m.key for m in video.media] == ["derived/alice/p1/video.mp4"]
    photos = Prepared.of({"prepared": PHOTO_RECORD})
    assert not photos.uploads_a_file
    assert [(m.key, m.version_id) for m in photos.media] == [
        ("posts/bob/1.jpg", None),
        ("posts/bob/2.jpg", "v9"),
    ]
    with pytest.raises(PostRejectedError, match=r"prepared\.video must be an object for a video post"):
        photos.the_video()
    switched = video.replace(source="PULL_FROM_URL").to_record()
    assert switched == {**VIDEO_RECORD, "source": "PULL_FROM_URL"}


def test_a_post_that_ended_before_prepare_has_none() -> None:
    assert Prepared.found_in({"status": "FAILED"}) is None
    assert Prepared.found_in({"prepared": VIDEO_RECORD}) is not None


def _broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    record = copy.deepcopy(VIDEO_RECORD if "photos" not in path else PHOTO_RECORD)
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return {"prepared": record}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("source",), "EMAIL", "prepared.source must be FILE_UPLOAD or PULL_FROM_URL, not str 'EMAIL'"),
        (("source",), KeyError, "prepared.source must be a string, not nothing"),
        (("video", "size"), "big", "prepared.video.size must be a number, not str 'big'"),
        (("video", "size"), True, "prepared.video.size must be a number, not bool True"),
        (("video", "key"), KeyError, "prepared.video.key must be a string, not nothing"),
        (("video",), KeyError, "prepared.video must be an object (or prepared.photos a list), not nothing"),
        (("photos", 1, "width"), None, "prepared.photos[1].width must be a number, not nothing"),
        (("disable_duet",), "yes", "prepared.disable_duet must be true or false, not str 'yes'"),
        (("creator",), "alice", "prepared.creator must be an object, not str 'alice'"),
        (("notes",), "duet off", "prepared.notes must be a list, not str 'duet off'"),
    ],
)
def test_a_record_of_another_shape_is_refused_naming_the_field(
    path: tuple[str | int, ...], value: Any, message: str
) -> None:
    with pytest.raises(PostRejectedError, match=re.escape(message)) as refused:
        Prepared.of(_broken(path, value))
    assert refused.value.reason == "post_record_invalid"


def test_a_post_without_prepared_is_refused_by_the_steps() -> None:
    with pytest.raises(PostRejectedError, match="the post record's prepared must be an object, not nothing"):
        Prepared.of({"post_id": "p1"})

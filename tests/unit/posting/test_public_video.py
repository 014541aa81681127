"""Finding the post among the creator's public videos: exactly one fit, never a guess."""

from __future__ import annotations

import pytest

from functions.posting.public_video import match_public_video
from functions.tiktok.display import Video

pytestmark = pytest.mark.unit

INIT, DONE = 1_800_000_000, 1_800_000_300


def video(vid: str, at: int, caption: str = "Day one #travel") -> Video:
    return Video(id=vid, create_time=at, video_description=caption, share_url=f"https://t/{vid}")


def match(videos: list[Video], **kw: object) -> object:
    options = {"caption": "Day one #travel", "init_at": INIT, "completed_at": DONE, **kw}
    return match_public_video(videos, **options)  # type: ignore[arg-type]


def test_the_one_video_with_the_caption_in_the_window_is_the_post() -> None:
    videos = [video("1", INIT - 86_400), video("2", INIT + 60), video("3", INIT + 30, "another one")]
    found = match(videos)
    assert found.verdict == "found" and found.video is not None and found.video.id == "2"  # type: ignore[attr-defined]


def test_captions_match_as_tiktok_stores_them() -> None:
    long = "x" * 200
    assert match([video("1", INIT, "  Day   one\n#TRAVEL ")]).verdict == "found"  # type: ignore[attr-defined]
    assert match([video("1", INIT, long[:150])], caption=long).verdict == "found"  # type: ignore[attr-defined]


@pytest.mark.parametrize("at", [INIT - 121, DONE + 3601])
def test_outside_the_window_is_not_the_post(at: int) -> None:
    assert match([video("1", at)]).verdict == "not_listed"  # type: ignore[attr-defined]


def test_two_fits_are_never_guessed_between() -> None:
    found = match([video("1", INIT + 10), video("2", INIT + 20)])
    assert found.verdict == "ambiguous" and set(found.candidates) == {"1", "2"}  # type: ignore[attr-defined]


def test_a_video_another_post_owns_is_not_a_candidate() -> None:
    found = match([video("1", INIT + 10), video("2", INIT + 20)], claimed={"1"})
    assert found.verdict == "found" and found.video.id == "2"  # type: ignore[attr-defined]

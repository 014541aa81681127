"""The server's rules for a review submission (docs/reference/tiktok-direct-post-ux.md §10), each named."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest

from functions.posting.manifest import PostManifest
from functions.review.choices import (
    BRANDED_NOT_PRIVATE,
    CHOOSE_PRIVACY,
    CONSENT_NEEDED,
    DECLARATION_BRANDED,
    DECLARATION_MUSIC,
    NEED_DISCLOSURE_CHOICE,
    PROMPT_BRANDED,
    PROMPT_YOUR_BRAND,
    Choices,
    ReviewContext,
    approved_settings,
    blockers,
    declaration,
    parse_form,
    problems,
    prompt,
)
from functions.settings import AppStatus
from functions.tiktok.models import CreatorInfo
from tests.support.creators import PRIVATE

PUBLIC = CreatorInfo(
    creator_username="pub",
    creator_nickname="Pub",
    privacy_level_options=["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    max_video_post_duration_sec=60,
)
ONLY_ME = CreatorInfo(creator_username="me", privacy_level_options=["SELF_ONLY"])
AUDITED = ReviewContext(kind="video", creator=PUBLIC, app_status=AppStatus.AUDITED, duration_seconds=30.0)
OK = Choices(privacy_level="PUBLIC_TO_EVERYONE", caption="hi", consent=True)


def _messages(choices: Choices, context: ReviewContext = AUDITED) -> list[str]:
    return [p.message for p in problems(choices, context)]


def test_a_complete_choice_has_no_problem() -> None:
    assert _messages(OK) == []
    assert _messages(replace(OK, allow_comment=True, allow_duet=True, allow_stitch=True)) == []


def test_privacy_must_be_chosen_and_offered_now() -> None:
    assert _messages(replace(OK, privacy_level="")) == [CHOOSE_PRIVACY]
    assert "not an audience TikTok offers" in _messages(replace(OK, privacy_level="FOLLOWER_OF_CREATOR"))[0]
    assert "not an audience TikTok offers" in _messages(replace(OK, privacy_level="EVERYONE"))[0]


def test_an_unaudited_app_posts_only_as_only_me_to_private_accounts() -> None:
    unaudited_private = ReviewContext(kind="video", creator=PRIVATE, app_status=AppStatus.UNAUDITED)
    assert _messages(replace(OK, privacy_level="SELF_ONLY"), unaudited_private) == []
    assert (
        "only as Only me, not Followers"
        in _messages(replace(OK, privacy_level="FOLLOWER_OF_CREATOR"), unaudited_private)[0]
    )
    assert unaudited_private.options == ["SELF_ONLY"]
    unaudited_public = replace(unaudited_private, creator=PUBLIC)
    found = blockers(unaudited_public)
    assert found and "only to private accounts" in found[0].message
    assert (
        "only to private accounts" in _messages(replace(OK, privacy_level="SELF_ONLY"), unaudited_public)[0]
    )


def test_the_video_must_fit_the_creators_duration_limit() -> None:
    too_long = replace(AUDITED, duration_seconds=90.0)
    assert blockers(too_long)[0].message == (
        "The video lasts 90.0 seconds; this account may post videos of at most 60 seconds."
    )
    assert any("at most 60 seconds" in m for m in _messages(OK, too_long))
    assert blockers(replace(AUDITED, duration_seconds=None)) == []  # unknown: TikTok checks it
    assert blockers(replace(AUDITED, kind="photo", duration_seconds=90.0)) == []


def test_interactions_the_creator_turned_off_cannot_be_allowed() -> None:
    context = ReviewContext(kind="video", creator=PRIVATE, app_status=AppStatus.AUDITED)
    base = replace(OK, privacy_level="SELF_ONLY")
    for name in ("allow_comment", "allow_duet", "allow_stitch"):
        found = problems(replace(base, **{name: True}), context)
        assert [p.field for p in found] == [name]
        assert "turned off for this account in TikTok" in found[0].message


def test_photos_allow_comments_only() -> None:
    photo = replace(AUDITED, kind="photo")
    base = replace(OK, caption=None, title="t")
    assert _messages(replace(base, allow_comment=True), photo) == []
    assert _messages(replace(base, allow_duet=True), photo) == ["Duets do not apply to photo posts."]
    assert _messages(replace(base, allow_stitch=True), photo) == ["Stitches do not apply to photo posts."]


def test_text_limits_count_utf16_units() -> None:
    emoji = "\U0001f600"
    assert _messages(replace(OK, caption=emoji * 1100)) == []
    assert "2202 characters" in _messages(replace(OK, caption=emoji * 1101))[0]
    photo = replace(AUDITED, kind="photo")
    assert "91 characters" in _messages(replace(OK, caption=None, title="x" * 91), photo)[0]
    assert "4001 characters" in _messages(replace(OK, caption=None, description="x" * 4001), photo)[0]


def test_disclosure_needs_a_box_and_boxes_need_disclosure() -> None:
    assert _messages(replace(OK, disclose=True)) == [NEED_DISCLOSURE_CHOICE]
    assert "disclosure is off" in _messages(replace(OK, brand_organic=True))[0]
    assert "disclosure is off" in _messages(replace(OK, branded_content=True))[0]
    assert _messages(replace(OK, disclose=True, brand_organic=True)) == []


def test_branded_content_is_never_private() -> None:
    found = _messages(replace(OK, privacy_level="SELF_ONLY", disclose=True, branded_content=True))
    assert found == [BRANDED_NOT_PRIVATE]
    assert _messages(replace(OK, privacy_level="SELF_ONLY", disclose=True, brand_organic=True)) == []


def test_consent_is_required() -> None:
    assert _messages(replace(OK, consent=False)) == [CONSENT_NEEDED]


@pytest.mark.parametrize(
    ("disclose", "brand", "branded"), list(product((False, True), (False, True), (False, True)))
)
def test_prompt_and_declaration_follow_the_boxes(disclose: bool, brand: bool, branded: bool) -> None:
    choices = replace(OK, disclose=disclose, brand_organic=brand, branded_content=branded)
    expected_prompt = None
    if disclose and branded:
        expected_prompt = PROMPT_BRANDED  # both ticked: Paid partnership, not Promotional
    elif disclose and brand:
        expected_prompt = PROMPT_YOUR_BRAND
    assert prompt(choices) == expected_prompt
    assert declaration(choices) == (DECLARATION_BRANDED if disclose and branded else DECLARATION_MUSIC)


def test_the_form_is_read_strictly() -> None:
    fields = {
        "privacy_level": ["SELF_ONLY"],
        "caption": ["line one\r\nline two"],
        "allow_comment": ["on"],
        "consent": ["on"],
        "action": ["post"],
    }
    choices, found = parse_form(fields, "video")
    assert found == []
    assert choices.caption == "line one\nline two" and choices.allow_comment and choices.consent
    _, found = parse_form({**fields, "allow_duet": ["true"]}, "video")
    assert [p.field for p in found] == ["allow_duet"]
    _, found = parse_form({**fields, "privacy_level": ["SELF_ONLY", "PUBLIC_TO_EVERYONE"]}, "video")
    assert "sent 2 times" in found[0].message
    _, found = parse_form({**fields, "disable_comment": ["false"]}, "video")
    assert "'disable_comment' is not a field" in found[0].message
    _, found = parse_form({**fields, "title": ["t"]}, "video")
    assert "'title' is not a field of a video post" in found[0].message
    _, found = parse_form({**fields, "caption": ["c"]}, "photo")
    assert "'caption' is not a field of a photo post" in found[0].message


def test_approved_settings_are_the_creators_choices_and_a_valid_manifest() -> None:
    author = {
        "video": "posts/me/a.mp4",
        "mode": "direct",
        "caption": "from the author",
        "allow_comment": True,
        "branded_content": True,
        "is_aigc": True,
    }
    choices = replace(OK, privacy_level="MUTUAL_FOLLOW_FRIENDS", caption="", allow_duet=True)
    settings = approved_settings(author, choices, "video")
    assert settings["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert "caption" not in settings  # the creator emptied it
    assert settings["allow_comment"] is False and settings["allow_duet"] is True
    assert settings["branded_content"] is False  # the page's choice wins over the author's
    assert settings["is_aigc"] is True  # not on the page: kept
    PostManifest.model_validate(settings)
    photo = approved_settings(
        {"photos": ["posts/me/a.jpg"], "title": "t", "allow_duet": False}, replace(OK, caption=None), "photo"
    )
    assert "allow_duet" not in photo and "title" not in photo
    PostManifest.model_validate(photo)

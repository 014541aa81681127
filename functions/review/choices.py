"""What the creator chooses on the review page, and every rule it is checked against on the server.

The page keeps the same rules in the browser (a disabled Post button, disabled options), but only as a
convenience: a submission is accepted only when `problems()` finds nothing, against creator_info fetched
again at the moment of posting (docs/reference/tiktok-direct-post-ux.md §2 A5 and §6). Nothing is silently
corrected: a choice the rules do not allow is refused with a sentence naming the rule.

The strings marked "exact" are the ones TikTok requires word for word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from functions.settings import AppStatus
from functions.tiktok.models import (
    PHOTO_DESCRIPTION_MAX,
    PHOTO_TITLE_MAX,
    VIDEO_TITLE_MAX,
    CreatorInfo,
    PrivacyLevel,
    utf16_length,
)

MUSIC_USAGE_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_CONTENT_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"
# exact
DECLARATION_MUSIC = "By posting, you agree to TikTok's Music Usage Confirmation"
DECLARATION_BRANDED = "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
PROMPT_YOUR_BRAND = "Your photo/video will be labeled as 'Promotional content'"
PROMPT_BRANDED = "Your photo/video will be labeled as 'Paid partnership'"
NEED_DISCLOSURE_CHOICE = "You need to indicate if your content promotes yourself, a third party, or both."
BRANDED_NOT_PRIVATE = "Branded content visibility cannot be set to private."
# ours
PROCESSING_NOTICE = (
    "After you post, TikTok may take a few minutes to process it before it appears on your profile."
)
CHOOSE_PRIVACY = "Choose who can view this post."
CONSENT_NEEDED = "Tick the declaration above the Post button to agree to it."
ONLY_ME_NO_BRANDED = "Branded content can't be posted as Only me: choose another audience to tick it."

PRIVACY_LABELS: Mapping[PrivacyLevel, str] = {
    PrivacyLevel.PUBLIC_TO_EVERYONE: "Everyone",
    PrivacyLevel.MUTUAL_FOLLOW_FRIENDS: "Friends",
    PrivacyLevel.FOLLOWER_OF_CREATOR: "Followers",
    PrivacyLevel.SELF_ONLY: "Only me",
}
CHECKBOXES = (
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "disclose",
    "brand_organic",
    "branded_content",
    "consent",
)
TEXT_FIELDS = ("privacy_level", "caption", "title", "description", "action")
FORM_FIELDS = frozenset(CHECKBOXES + TEXT_FIELDS)
CHECKED = "on"  # what a browser sends for a ticked checkbox without a value attribute

Kind = Literal["video", "photo"]


@dataclass(frozen=True)
class Problem:
    """One broken rule: the form field it belongs to (for the page's error links) and what is wrong."""

    field: str
    message: str


@dataclass(frozen=True)
class ReviewContext:
    """What the rules are checked against: the post's kind, fresh creator_info, the app's audit status,
    and the video's duration as the server measured it (None for photos or when unknown)."""

    kind: Kind
    creator: CreatorInfo
    app_status: AppStatus
    duration_seconds: float | None = None

    @property
    def max_duration(self) -> int | None:
        return self.creator.max_video_post_duration_sec if self.kind == "video" else None

    @property
    def options(self) -> list[PrivacyLevel]:
        """The privacy levels the page offers: creator_info's, in its order; SELF_ONLY alone when the app is
        not audited (TikTok's rule for unaudited clients)."""
        offered = list(dict.fromkeys(self.creator.privacy_level_options))
        if self.app_status is AppStatus.UNAUDITED:
            return [o for o in offered if o is PrivacyLevel.SELF_ONLY]
        return offered


@dataclass(frozen=True)
class Choices:
    privacy_level: str = ""
    caption: str | None = None
    title: str | None = None
    description: str | None = None
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    disclose: bool = False
    brand_organic: bool = False
    branded_content: bool = False
    consent: bool = False

    @property
    def privacy(self) -> PrivacyLevel | None:
        try:
            return PrivacyLevel(self.privacy_level)
        except ValueError:
            return None


def _text(value: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; TikTok counts characters, so keep plain LF.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def parse_form(fields: Mapping[str, Sequence[str]], kind: Kind) -> tuple[Choices, list[Problem]]:
    """The submitted form as Choices, with the problems of its shape (unknown or repeated fields, a
    checkbox with a value a browser never sends, text fields of the other post kind)."""
    problems: list[Problem] = []
    for name in sorted(set(fields) - FORM_FIELDS):
        problems.append(Problem("form", f"{name!r} is not a field of this form"))
    single: dict[str, str] = {}
    for name in sorted(FORM_FIELDS & set(fields)):
        values = list(fields[name])
        if len(values) != 1:
            problems.append(Problem(name, f"{name!r} was sent {len(values)} times"))
            continue
        single[name] = values[0]
    ticked: dict[str, bool] = {}
    for name in CHECKBOXES:
        value = single.get(name)
        if value is not None and value != CHECKED:
            problems.append(Problem(name, f"{name!r} must be ticked ('{CHECKED}') or left out"))
        ticked[name] = value == CHECKED
    wrong_kind = ("title", "description") if kind == "video" else ("caption",)
    for name in wrong_kind:
        if name in single:
            problems.append(Problem(name, f"{name!r} is not a field of a {kind} post"))
    choices = Choices(
        privacy_level=single.get("privacy_level", "").strip(),
        caption=_text(single["caption"]) if kind == "video" and "caption" in single else None,
        title=_text(single["title"]) if kind == "photo" and "title" in single else None,
        description=_text(single["description"]) if kind == "photo" and "description" in single else None,
        **ticked,
    )
    return choices, problems


def blockers(context: ReviewContext) -> list[Problem]:
    """Reasons the creator cannot post this at all right now, whatever they choose (the page disables
    Post and says why)."""
    out: list[Problem] = []
    creator = context.creator
    if context.app_status is AppStatus.UNAUDITED:
        if PrivacyLevel.PUBLIC_TO_EVERYONE in creator.privacy_level_options:
            out.append(
                Problem(
                    "privacy_level",
                    "This app is not audited by TikTok, so it can post only to private accounts: make the "
                    "TikTok account private, then open this page again.",
                )
            )
        elif PrivacyLevel.SELF_ONLY not in creator.privacy_level_options:
            out.append(
                Problem(
                    "privacy_level",
                    "This app is not audited by TikTok, so it can post only as Only me, which TikTok does "
                    "not offer for this account now.",
                )
            )
    elif not context.options:
        out.append(Problem("privacy_level", "TikTok offers no audience for this account's posts right now."))
    limit, duration = context.max_duration, context.duration_seconds
    if limit is not None and duration is not None and duration > limit:
        out.append(
            Problem(
                "preview",
                f"The video lasts {duration:.1f} seconds; this account may post videos of at most {limit} "
                "seconds.",
            )
        )
    return out


def problems(choices: Choices, context: ReviewContext) -> list[Problem]:
    """Every rule the choices break, against fresh creator_info; empty when the post may go out."""
    out = blockers(context)
    out += _privacy_problems(choices, context)
    out += _text_problems(choices, context.kind)
    out += _interaction_problems(choices, context)
    out += _disclosure_problems(choices)
    if not choices.consent:
        out.append(Problem("consent", CONSENT_NEEDED))
    return out


def _privacy_problems(choices: Choices, context: ReviewContext) -> list[Problem]:
    if not choices.privacy_level:
        return [Problem("privacy_level", CHOOSE_PRIVACY)]
    level = choices.privacy
    if level is None or level not in context.creator.privacy_level_options:
        offered = ", ".join(PRIVACY_LABELS[o] for o in context.options) or "none"
        return [
            Problem(
                "privacy_level",
                f"{choices.privacy_level!r} is not an audience TikTok offers for this account now "
                f"(offered: {offered}).",
            )
        ]
    if context.app_status is AppStatus.UNAUDITED and level is not PrivacyLevel.SELF_ONLY:
        return [
            Problem(
                "privacy_level",
                f"This app is not audited by TikTok, so it can post only as Only me, not {PRIVACY_LABELS[level]}.",
            )
        ]
    return []


def _text_problems(choices: Choices, kind: Kind) -> list[Problem]:
    out: list[Problem] = []
    limits = (
        (("caption", choices.caption, VIDEO_TITLE_MAX),)
        if kind == "video"
        else (
            ("title", choices.title, PHOTO_TITLE_MAX),
            ("description", choices.description, PHOTO_DESCRIPTION_MAX),
        )
    )
    for name, value, limit in limits:
        if value is not None and utf16_length(value) > limit:
            out.append(
                Problem(name, f"The {name} is {utf16_length(value)} characters long; TikTok allows {limit}.")
            )
    return out


def _interaction_problems(choices: Choices, context: ReviewContext) -> list[Problem]:
    out: list[Problem] = []
    creator = context.creator
    wanted = (
        ("allow_comment", "Comments", choices.allow_comment, creator.comment_disabled),
        ("allow_duet", "Duets", choices.allow_duet, creator.duet_disabled),
        ("allow_stitch", "Stitches", choices.allow_stitch, creator.stitch_disabled),
    )
    for name, label, asked, disabled in wanted:
        if not asked:
            continue
        if context.kind == "photo" and name != "allow_comment":
            out.append(Problem(name, f"{label} do not apply to photo posts."))
        elif disabled:
            out.append(
                Problem(
                    name, f"{label} are turned off for this account in TikTok, so they cannot be allowed."
                )
            )
    return out


def _disclosure_problems(choices: Choices) -> list[Problem]:
    out: list[Problem] = []
    if choices.disclose and not (choices.brand_organic or choices.branded_content):
        out.append(Problem("disclose", NEED_DISCLOSURE_CHOICE))
    if not choices.disclose and (choices.brand_organic or choices.branded_content):
        out.append(
            Problem(
                "disclose",
                "Your brand or Branded content is ticked while commercial content disclosure is off: turn "
                "disclosure on to label the post, or untick them.",
            )
        )
    if choices.branded_content and choices.privacy is PrivacyLevel.SELF_ONLY:
        out.append(Problem("branded_content", BRANDED_NOT_PRIVATE))
    return out


def declaration(choices: Choices) -> str:
    """The declaration the page shows above Post for these choices (guideline point 4)."""
    return DECLARATION_BRANDED if choices.disclose and choices.branded_content else DECLARATION_MUSIC


def prompt(choices: Choices) -> str | None:
    """The label prompt for the disclosure boxes, or None when no box is ticked."""
    if not choices.disclose:
        return None
    if choices.branded_content:
        return PROMPT_BRANDED
    return PROMPT_YOUR_BRAND if choices.brand_organic else None


def approved_settings(settings: Mapping[str, Any], choices: Choices, kind: Kind) -> dict[str, Any]:
    """The post's manifest settings with the creator's choices as the final word (only call it when
    `problems()` found nothing). Fields the page does not show (AI-generated label, cover, music) stay as
    the author wrote them."""
    out = {
        k: v
        for k, v in settings.items()
        if k not in {"caption", "title", "description", "allow_duet", "allow_stitch"}
    }
    out.update(
        privacy_level=choices.privacy_level,
        allow_comment=choices.allow_comment,
        brand_organic=choices.disclose and choices.brand_organic,
        branded_content=choices.disclose and choices.branded_content,
    )
    if kind == "video":
        out.update(allow_duet=choices.allow_duet, allow_stitch=choices.allow_stitch)
        texts = {"caption": choices.caption}
    else:
        texts = {"title": choices.title, "description": choices.description}
    out.update({k: v for k, v in texts.items() if v})
    return out

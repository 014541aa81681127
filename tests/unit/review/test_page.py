"""The review page's HTML against TikTok's checklist (docs/reference/tiktok-direct-post-ux.md §10), and its
security headers: no third-party assets, only our own hashed script and style."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

from functions.pages import SCRIPT, headers, origin_of
from functions.review.choices import (
    BRANDED_NOT_PRIVATE,
    DECLARATION_BRANDED,
    DECLARATION_MUSIC,
    NEED_DISCLOSURE_CHOICE,
    PROCESSING_NOTICE,
    PROMPT_BRANDED,
    PROMPT_YOUR_BRAND,
    Choices,
    Problem,
)
from functions.review.page import form_page, status_page
from functions.review.results import FormPage, Preview
from functions.tiktok.models import CreatorInfo
from tests.support.creators import PRIVATE

BUCKET_URL = "https://media-bucket.s3.eu-west-1.amazonaws.com/posts/me/a.mp4?versionId=v1&X-Amz-Signature=abc"
AVATAR = "https://p16-sign.tiktokcdn.com/avatar.jpeg?x-expires=1"
PUBLIC = CreatorInfo(
    creator_avatar_url=AVATAR,
    creator_username="pub",
    creator_nickname="Pub <b>Nick</b>",
    privacy_level_options=["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    max_video_post_duration_sec=60,
)


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def by_id(self, element_id: str) -> dict[str, str | None]:
        return next(attrs for _tag, attrs in self.elements if attrs.get("id") == element_id)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.elements if t == tag]


def _render(**changes: Any) -> tuple[str, dict[str, str], Elements]:
    page = FormPage(
        preview=Preview(kind="video", urls=[BUCKET_URL], duration_seconds=12.5),
        creator=PUBLIC,
        options=PUBLIC.privacy_level_options,
        expires_at=1_800_000_000,
        choices=Choices(caption="prefilled #tag"),
    )
    html, hdrs = form_page(replace(page, **changes))
    return html, hdrs, Elements(html)


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_account_is_named_with_nickname_username_and_avatar() -> None:
    html, _, doc = _render()
    assert "Posting to <strong>Pub &lt;b&gt;Nick&lt;/b&gt;</strong>" in html  # escaped, visible
    assert "@pub" in html
    (avatar,) = [i for i in doc.all("img") if i.get("src") == AVATAR]
    assert avatar["referrerpolicy"] == "no-referrer"


def test_privacy_lists_only_the_creators_options_and_starts_empty() -> None:
    _, _, doc = _render()
    select = doc.by_id("privacy_level")
    assert "required" in select
    options = [(o["value"], "selected" in o) for o in doc.all("option")]
    assert options == [
        ("", True),
        ("PUBLIC_TO_EVERYONE", False),
        ("MUTUAL_FOLLOW_FRIENDS", False),
        ("SELF_ONLY", False),
    ]
    only_me = next(o for o in doc.all("option") if o["value"] == "SELF_ONLY")
    assert "title" not in only_me  # no hover text while nothing makes Only me unavailable
    _, _, branded = _render(choices=Choices(disclose=True, branded_content=True))
    only_me = next(o for o in branded.all("option") if o["value"] == "SELF_ONLY")
    assert only_me["title"] == BRANDED_NOT_PRIVATE  # the why, where Branded content rules it out
    _, _, private = _render(creator=PRIVATE, options=PRIVATE.privacy_level_options)
    assert [o["value"] for o in private.all("option")] == [
        "",
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]


def test_every_box_starts_unticked_and_disabled_interactions_are_greyed_not_hidden() -> None:
    _, _, doc = _render()
    boxes = {i["id"]: i for i in doc.all("input") if i.get("type") == "checkbox"}
    assert set(boxes) == {
        "allow_comment",
        "allow_duet",
        "allow_stitch",
        "disclose",
        "brand_organic",
        "branded_content",
        "consent",
    }
    assert not any("checked" in b for b in boxes.values())
    assert not any("disabled" in b for b in boxes.values())
    html, _, private = _render(creator=PRIVATE, options=PRIVATE.privacy_level_options)
    for name in ("allow_comment", "allow_duet", "allow_stitch"):
        box = private.by_id(name)
        assert "disabled" in box and "checked" not in box
        assert private.by_id(box["aria-describedby"] or "")  # says why
    assert "turned off for this account in TikTok" in html


def test_photo_posts_offer_comment_only_and_show_every_photo() -> None:
    urls = [f"https://media-bucket.s3.eu-west-1.amazonaws.com/posts/me/{i}.jpg" for i in range(3)]
    _, hdrs, doc = _render(
        preview=Preview(kind="photo", urls=urls), choices=Choices(title="t", description="d")
    )
    ids = {i.get("id") for i in doc.all("input")}
    assert "allow_comment" in ids and "allow_duet" not in ids and "allow_stitch" not in ids
    assert [i["src"] for i in doc.all("img") if i.get("src") in urls] == urls
    assert doc.by_id("title")["value"] == "t"
    assert (
        "img-src https://media-bucket.s3.eu-west-1.amazonaws.com https://p16-sign.tiktokcdn.com"
        in (hdrs["Content-Security-Policy"])
    )


def test_the_preview_is_the_exact_object_and_the_limit_is_shown() -> None:
    html, _, doc = _render()
    video = doc.by_id("preview-video")
    assert video["src"] == BUCKET_URL and "controls" in video
    assert "12.5 seconds; this account may post videos of up to 60 seconds" in html
    assert doc.by_id("review")["data-max-duration"] == "60"


def test_caption_is_prefilled_and_editable_with_nothing_of_ours_added() -> None:
    html, _, doc = _render()
    assert ">prefilled #tag</textarea>" in html
    assert "readonly" not in doc.by_id("caption")


def test_disclosure_prompts_and_declarations_use_tiktoks_exact_words() -> None:
    html, _, doc = _render()
    for text in (PROMPT_YOUR_BRAND, PROMPT_BRANDED, NEED_DISCLOSURE_CHOICE):
        assert text.replace("'", "&#x27;") in html
    assert "By posting, you agree to TikTok's <a" in html
    music = [a for a in doc.all("a") if "music-usage-confirmation" in (a.get("href") or "")]
    branded = [a for a in doc.all("a") if "bc-policy" in (a.get("href") or "")]
    assert len(music) == 2 and len(branded) == 1  # both declarations link every policy they name
    text = re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'")
    assert DECLARATION_MUSIC in text and DECLARATION_BRANDED in text
    # Nothing is shown until a box is ticked: the prompts are hidden by the style sheet unless ticked.
    (style,) = doc.styles
    assert "#disclosure-options,.prompt,.decl-branded," in style
    assert "disclose" in doc.by_id("disclose")["id"] and doc.by_id("disclose")["role"] == "switch"


def test_the_declaration_and_the_processing_notice_come_before_post() -> None:
    html, _, _ = _render()
    consent, post = html.index('id="consent"'), html.index('id="post"')
    assert html.index(PROCESSING_NOTICE.replace("'", "&#x27;")) < consent < post
    assert html.index("decl-music") < post


def test_a_creator_who_cannot_post_gets_a_disabled_button_and_the_reason() -> None:
    blocker = Problem("creator", "TikTok says this account cannot post right now: daily limit")
    html, _, doc = _render(blockers=[blocker])
    assert "disabled" in doc.by_id("post")
    assert doc.by_id("review")["data-blocked"] == blocker.message
    assert doc.by_id("post-wrap")["title"] == blocker.message
    assert "Try again later" in html and 'role="alert"' in html


def test_problems_are_listed_linked_and_marked_on_their_fields() -> None:
    found = [Problem("privacy_level", "Choose who can view this post."), Problem("consent", "Tick it.")]
    html, _, doc = _render(problems=found, choices=Choices(privacy_level="SELF_ONLY", allow_comment=True))
    assert '<a href="#privacy_level">Choose who can view this post.</a>' in html
    select = doc.by_id("privacy_level")
    assert select["aria-invalid"] == "true" and "privacy_level-problem" in (select["aria-describedby"] or "")
    assert "selected" in next(o for o in doc.all("option") if o["value"] == "SELF_ONLY")  # their choice kept
    assert "checked" in doc.by_id("allow_comment")


def test_only_our_hashed_script_and_style_run_and_nothing_third_party_loads() -> None:
    _, hdrs, doc = _render()
    policy = hdrs["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    (script,) = doc.scripts
    (style,) = doc.styles
    assert script == SCRIPT
    assert f"script-src '{_sha(script)}'" in policy and f"style-src '{_sha(style)}'" in policy
    assert "media-src https://media-bucket.s3.eu-west-1.amazonaws.com;" in policy
    assert "img-src https://p16-sign.tiktokcdn.com;" in policy
    assert not doc.all("link") and not [s for s in doc.all("script") if s.get("src")]
    loaded = [a["src"] for _t, a in doc.elements if a.get("src")]
    assert all(origin_of(str(u)) and str(origin_of(str(u))) in policy for u in loaded)
    assert hdrs["Cache-Control"] == "no-store" and hdrs["Referrer-Policy"] == "no-referrer"
    assert hdrs["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in policy


def test_origins_are_https_or_loopback_http_only() -> None:
    assert origin_of("https://a.example/x?y") == "https://a.example"
    assert origin_of("http://127.0.0.1:9000/a") == "http://127.0.0.1:9000"
    assert origin_of("http://cdn.example/a") is None
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("https://a.example;script-src *") is None
    assert "img-src 'none'" in headers()["Content-Security-Policy"]


def test_the_status_page_refreshes_until_the_post_ends() -> None:
    post: dict[str, Any] = {
        "status": "PROCESSING",
        "prepared": {
            "source": "FILE_UPLOAD",
            "video": {"key": "posts/pub/a.mp4", "version_id": None, "size": 1, "content_type": "video/mp4"},
            "creator": {"username": "pub"},
        },
        "history": [{"at": 1_800_000_000, "status": "PROCESSING", "note": "TikTok publish_id p"}],
    }
    html, hdrs = status_page(post, note="Thank you")
    assert '<meta http-equiv="refresh" content="10">' in html
    assert "TikTok received it and is processing it." in html
    assert "may take a few minutes" in html and "Thank you" in html
    assert "script-src" in hdrs["Content-Security-Policy"]
    done, _ = status_page({**post, "status": "PUBLISH_COMPLETE", "tiktok_post_ids": ["7461"]})
    assert "http-equiv" not in done and "https://www.tiktok.com/@pub/video/7461" in done
    failed, _ = status_page({**post, "status": "FAILED", "fail_detail": "the <video> was too long"})
    assert "The post failed: the &lt;video&gt; was too long" in failed
    cancelled, _ = status_page({**post, "status": "CANCELLED"})
    assert "Nothing was sent to TikTok" in cancelled

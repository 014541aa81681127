"""The review page in a real browser: a direct post whose author chose no privacy waits in AWAITING_REVIEW;
headless Chromium opens its review link, finds the audience unset and Post disabled by the page's script,
picks Only me, ticks the declaration, posts, and lands on the status page while the post goes to the
sandbox as SELF_ONLY. Screenshots go to test-artifacts/ (review-empty, review-ready, review-posted)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.review.choices import BRANDED_NOT_PRIVATE, CHOOSE_PRIVACY, CONSENT_NEEDED, DECLARATION_MUSIC
from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import video
from tests.local.browser import ELEMENT, Browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ACCOUNT = "rev"
NAME = "browser-review"
ORIGIN = f"posts/{ACCOUNT}/{NAME}.json"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # the first run may install Chromium


@pytest.fixture(scope="module")
def system(cdk_out: Path) -> Iterator[EmbeddedSystem]:
    with EmbeddedSystem(cdk_out=cdk_out, env={Env.APP_STATUS: "audited"}, virtual_time=True) as running:
        answer = running.connect("sandbox_public", alias=ACCOUNT)
        assert answer.status_code == 200, answer.text
        yield running


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "chromium") as running:
        yield running


def _why(browser: Browser) -> str:
    return browser.text(browser.wait_for("#post-why"))


def _preview_settled(browser: Browser) -> None:
    """Until the preview has loaded the exact video (from the media server, as from CloudFront), so that a
    screenshot shows its first frame."""
    video = browser.wait_for("#preview-video")
    browser.wait_until(
        lambda: browser.execute("return arguments[0].readyState >= 1;", {ELEMENT: video}),
        "the preview loaded",
    )
    time.sleep(0.5)  # the media controls swap their spinner out a moment after the element settles


def test_a_creator_reviews_and_posts_in_the_browser(system: EmbeddedSystem, browser: Browser) -> None:
    system.put_object(f"posts/{ACCOUNT}/media/{NAME}.mp4", video(label=NAME), "video/mp4")
    manifest = {"video": f"media/{NAME}.mp4", "mode": "direct", "caption": "made in a real browser"}
    system.put_object(ORIGIN, json.dumps(manifest).encode(), "application/json")  # no privacy_level
    waiting = system.wait_for_post(ACCOUNT, ORIGIN, {"AWAITING_REVIEW", "FAILED"})
    assert waiting["status"] == "AWAITING_REVIEW", (waiting.get("fail_reason"), waiting.get("fail_detail"))
    link = system.api_get(f"/posts/{waiting['post_id']}")["review_url"]
    assert link.startswith(f"{system.api_url}/review/{waiting['post_id']}.")

    # The form as it opens: no audience chosen, nothing ticked, Post disabled with the reason beside it.
    browser.get(link)
    assert browser.title == "Review your TikTok post"
    privacy = browser.wait_for("#privacy_level")
    assert browser.prop(privacy, "value") == ""
    assert browser.prop(privacy, "selectedIndex") == 0
    placeholder = browser.wait_for("#privacy_level option[value='']")
    assert browser.selected(placeholder) and browser.text(placeholder) == "Select…"
    assert not browser.selected(browser.wait_for("#privacy_level option[value=SELF_ONLY]"))
    options = browser.execute(
        "return Array.from(arguments[0].options).map(function(o){return [o.value, o.text];});",
        {ELEMENT: privacy},
    )
    assert options == [
        ["", "Select…"],
        ["PUBLIC_TO_EVERYONE", "Everyone"],
        ["MUTUAL_FOLLOW_FRIENDS", "Friends"],
        ["SELF_ONLY", "Only me"],
    ]
    consent = browser.wait_for("#consent")
    assert not browser.selected(consent)
    for box in ("allow_comment", "allow_duet", "allow_stitch", "disclose"):
        assert not browser.selected(browser.wait_for(f"#{box}")), box
    post = browser.wait_for("#post")
    assert not browser.enabled(post)
    assert _why(browser) == CHOOSE_PRIVACY
    assert DECLARATION_MUSIC in browser.text(browser.wait_for("label[for=consent]"))
    assert browser.prop(browser.wait_for("#caption"), "value") == "made in a real browser"
    assert "Sandbox Public" in browser.text(browser.wait_for(".creator"))
    assert system.api_get(f"/posts/{waiting['post_id']}")["status"] == "AWAITING_REVIEW"
    _preview_settled(browser)
    browser.page_screenshot(ARTIFACTS / "review-empty.png")

    # Branded content rules out Only me and says why on hover; unticked, neither remains.
    only_me = browser.wait_for("#privacy_level option[value=SELF_ONLY]")
    assert browser.prop(only_me, "title") == ""
    browser.click("#disclose")
    browser.click("#branded_content")
    browser.wait_until(lambda: not browser.enabled(only_me), "Only me disabled by Branded content")
    assert browser.prop(only_me, "title") == BRANDED_NOT_PRIVATE
    browser.click("#branded_content")
    browser.click("#disclose")
    browser.wait_until(lambda: browser.enabled(only_me), "Only me available again")
    assert browser.prop(only_me, "title") == ""

    # An audience alone is not enough: the declaration must be ticked too.
    browser.click("#privacy_level option[value=SELF_ONLY]")
    browser.wait_until(lambda: browser.prop(privacy, "value") == "SELF_ONLY", "Only me chosen")
    browser.wait_until(lambda: _why(browser) == CONSENT_NEEDED, "the declaration is asked for")
    assert not browser.enabled(post)
    browser.click("#allow_comment")
    browser.click("#consent")
    browser.wait_until(lambda: browser.enabled(post), "Post enabled")
    # Back to the placeholder: Post is disabled again, with the reason beside it.
    browser.click("#privacy_level option[value='']")
    browser.wait_until(lambda: _why(browser) == CHOOSE_PRIVACY, "an audience is asked for again")
    assert not browser.enabled(post)
    browser.click("#privacy_level option[value=SELF_ONLY]")
    browser.wait_until(lambda: browser.prop(privacy, "value") == "SELF_ONLY", "Only me chosen again")
    assert browser.selected(consent) and browser.selected(browser.wait_for("#allow_comment"))
    browser.wait_until(lambda: browser.enabled(post), "Post enabled")
    assert _why(browser) == ""
    # Only me excludes Branded content: the script disables it.
    assert not browser.enabled(browser.wait_for("#branded_content"))
    browser.page_screenshot(ARTIFACTS / "review-ready.png")
    # Nothing refused by the page's policy, broken in its script, or failing to load.
    errors = [e["message"] for e in browser.console() if e["level"] == "SEVERE"]
    assert errors == [], errors

    browser.click("#post")
    browser.wait_for_url(f"{link}?posted=1")
    assert browser.title == "Your TikTok post"
    body = browser.text(browser.wait_for("main"))
    assert "Thank you: your choices are saved." in body
    assert "@sandbox_public" in body

    done = system.wait_for_post(ACCOUNT, ORIGIN, {"PUBLISH_COMPLETE", "FAILED"})
    assert done["status"] == "PUBLISH_COMPLETE", (done.get("fail_reason"), done.get("fail_detail"))
    assert done["review"]["decision"]["decision"] == "approved"
    assert done["review"]["decision"]["privacy_level"] == "SELF_ONLY"
    received = system.sandbox_post(done["publish_id"])["post_info"]
    assert received["privacy_level"] == "SELF_ONLY"
    assert received["title"] == "made in a real browser"
    assert received["disable_comment"] is False
    assert received["disable_duet"] is True and received["disable_stitch"] is True

    # The status page, once more after the post is out: published, no more refreshing.
    browser.get(f"{link}?posted=1")
    status = browser.text(browser.wait_for("p[role=status] strong"))
    assert status == "Published on TikTok.", browser.text(browser.wait_for("main"))
    assert browser.find("meta[http-equiv=refresh]") is None
    browser.page_screenshot(ARTIFACTS / "review-posted.png")

"""The connect flow in a real browser: headless Chromium opens the app's /connect, follows the redirect to
the sandbox's consent form, a creator is picked and the app authorized, and the callback's page says
"Connected". Over plain http on loopback the OAuth state cookie is not `Secure` (any client keeps it);
on https it is. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.settings import Env
from local.embedded import EmbeddedSystem
from tests.local.browser import Browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # the first run may install Chromium


@pytest.fixture(scope="module")
def system(cdk_out: Path) -> Iterator[EmbeddedSystem]:
    with EmbeddedSystem(cdk_out=cdk_out, env={Env.APP_STATUS: "audited"}) as running:
        yield running


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "chromium") as running:
        yield running


def test_a_creator_connects_through_the_consent_form(system: EmbeddedSystem, browser: Browser) -> None:
    browser.get(f"{system.api_url}/connect?alias=browser")
    browser.wait_for("form[action='/v2/auth/authorize/']")
    assert browser.url.startswith(f"{system.sandbox_url}/v2/auth/authorize/?")
    assert browser.title == "Authorize sandbox-client-key - TikTok sandbox"
    browser.screenshot(ARTIFACTS / "consent.png")

    browser.click("input[name=creator][value=sandbox_private]")
    assert browser.selected(browser.wait_for("input[name=creator][value=sandbox_private]"))
    browser.click("button[name=decision][value=allow]")

    browser.wait_for_url(f"{system.api_url}/oauth/callback?code=")
    heading = browser.wait_for("h1.ok, h1.bad")
    assert browser.text(heading) == "Connected: Sandbox Private", browser.text(browser.wait_for("body"))
    assert "posts/browser/" in browser.text(browser.wait_for("body"))
    assert [c for c in browser.cookies() if c["name"] == "tp_oauth"] == []  # cleared by the callback
    shot = browser.screenshot(ARTIFACTS / "connect.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    account = system.api_get("/accounts/browser")
    assert account["status"] == "connected"
    assert account["username"] == "sandbox_private"


def test_cancelling_on_the_consent_form_connects_nothing(system: EmbeddedSystem, browser: Browser) -> None:
    browser.get(f"{system.api_url}/connect?alias=cancelled")
    browser.click("button[name=decision][value=deny]")
    browser.wait_for_url(f"{system.api_url}/oauth/callback?error=access_denied")
    heading = browser.wait_for("h1.ok, h1.bad")
    assert browser.text(heading) == "Not connected"
    browser.screenshot(ARTIFACTS / "connect-cancelled.png")
    assert "cancelled" not in {a["account_id"] for a in system.api_get("/accounts")["accounts"]}

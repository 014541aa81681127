"""A real headless Chromium driven over W3C WebDriver: chromedriver on a loopback port, spoken to with
`requests` (no Selenium). Debian's `chromium` and `chromium-driver` packages are installed when missing.

    ensure_chromium()
    with Browser(profile_dir) as browser:
        browser.get("http://127.0.0.1:8000/connect")
        browser.click("button[value=allow]")
        browser.screenshot(Path("test-artifacts/connect.png"))
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference

# Headless, and nothing but the pages it is sent to: no sandbox (root in containers), no background
# traffic to Google (update checks, sync, QUIC probes), and every host name but localhost unresolvable.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--window-size=900,760",
)


class BrowserError(Exception):
    """WebDriver answered with an error, or the page never got there."""


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["apt-get", *args]
    if os.geteuid() != 0 and shutil.which("sudo"):
        command = ["sudo", "-n", *command]
    return subprocess.run(
        command,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver unless both are there (`apt-get update` first when
    the package lists are missing or stale)."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    install = _apt("install", "-y", *PACKAGES)
    if install.returncode != 0:
        update = _apt("update")
        install = _apt("install", "-y", *PACKAGES)
        if install.returncode != 0:
            raise BrowserError(
                f"apt-get could not install {' '.join(PACKAGES)}:\n{update.stderr[-2000:]}\n"
                f"{install.stdout[-2000:]}\n{install.stderr[-2000:]}"
            )
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise BrowserError(f"{PACKAGES} installed, but {CHROMIUM} or {CHROMEDRIVER} is missing")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    """One chromedriver and one Chromium session with a fresh profile in `profile_dir`."""

    def __init__(self, profile_dir: Path, *, timeout: float = 20.0) -> None:
        self.profile_dir = profile_dir
        self.timeout = timeout
        self._driver: subprocess.Popen[bytes] | None = None
        self._base = ""
        self._session = ""

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.quit()

    def start(self) -> Browser:
        port = free_port()
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self._driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={port}", f"--log-path={self.profile_dir / 'chromedriver.log'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._base = f"http://127.0.0.1:{port}"
        try:
            self._wait_ready()
            options = {
                "binary": str(CHROMIUM),
                "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile_dir / 'profile'}"],
            }
            capabilities = {"browserName": "chrome", "goog:chromeOptions": options}
            created = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
            self._session = f"/session/{created['sessionId']}"
        except BaseException:
            self.quit()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._driver is not None and self._driver.poll() is not None:
                raise BrowserError(f"chromedriver exited with {self._driver.returncode}")
            try:
                if requests.get(f"{self._base}/status", timeout=2).json()["value"]["ready"]:
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise BrowserError("chromedriver did not become ready")

    def quit(self) -> None:
        if self._session:
            with contextlib.suppress(BrowserError, requests.RequestException):
                self._call("DELETE", self._session)
            self._session = ""
        if self._driver is not None:
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
                self._driver.wait(timeout=10)
            self._driver = None

    # ------------------------------------------------------------------------------------- WebDriver

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(
            method, f"{self._base}{path}", json=body if method != "GET" else None, timeout=60
        )
        value = answer.json().get("value")
        if answer.status_code != 200:
            detail = value.get("message", value) if isinstance(value, dict) else value
            raise BrowserError(f"{method} {path}: HTTP {answer.status_code}: {detail}")
        return value

    def get(self, url: str) -> None:
        self._call("POST", f"{self._session}/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", f"{self._session}/url"))

    @property
    def title(self) -> str:
        return str(self._call("GET", f"{self._session}/title"))

    def find(self, css: str) -> str | None:
        """The element matching `css`, or None."""
        try:
            found = self._call("POST", f"{self._session}/element", {"using": "css selector", "value": css})
        except BrowserError as exc:
            if "no such element" in str(exc):
                return None
            raise
        return str(found[ELEMENT])

    def wait_for(self, css: str) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            element = self.find(css)
            if element is not None:
                return element
            time.sleep(0.1)
        raise BrowserError(f"no {css!r} on {self.url} within {self.timeout} s")

    def wait_for_url(self, prefix: str) -> str:
        """The current URL, once it starts with `prefix` (after a click that navigates)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if (url := self.url).startswith(prefix):
                return url
            time.sleep(0.1)
        raise BrowserError(f"still on {self.url} after {self.timeout} s, not on {prefix}")

    def click(self, css: str) -> None:
        element = self.wait_for(css)
        self._call("POST", f"{self._session}/element/{element}/click", {})

    def text(self, element: str) -> str:
        return str(self._call("GET", f"{self._session}/element/{element}/text"))

    def selected(self, element: str) -> bool:
        return bool(self._call("GET", f"{self._session}/element/{element}/selected"))

    def cookies(self) -> list[dict[str, Any]]:
        """The cookies of the current page's origin."""
        return list(self._call("GET", f"{self._session}/cookie"))

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", f"{self._session}/screenshot")))
        return path

    # ------------------------------------------------------------------------- forms and whole pages

    def enabled(self, element: str) -> bool:
        return bool(self._call("GET", f"{self._session}/element/{element}/enabled"))

    def prop(self, element: str, name: str) -> Any:
        """A DOM property of the element (`value`, `checked`, `selectedIndex`...)."""
        return self._call("GET", f"{self._session}/element/{element}/property/{name}")

    def execute(self, script: str, *args: Any) -> Any:
        """The value of a synchronous script run in the page (`arguments[0]`... are `args`)."""
        return self._call("POST", f"{self._session}/execute/sync", {"script": script, "args": list(args)})

    def wait_until(self, check: Callable[[], object], what: str) -> None:
        """Until `check()` is true (after a change that a page script reacts to)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise BrowserError(f"{what}: not so on {self.url} within {self.timeout} s")

    def page_screenshot(self, path: Path) -> Path:
        """The whole page, not only the window: the window is fitted to the page's height for the shot."""
        rect = self._call("GET", f"{self._session}/window/rect")
        width, height = rect["width"], rect["height"]
        measure = (
            "return [window.outerHeight - window.innerHeight, window.innerHeight,"
            " document.documentElement.scrollHeight];"
        )
        try:
            # Shrunk first, so that the scroll height is the content's, not the window's; then grown
            # until nothing scrolls (content sized in vh grows with the window).
            self._call("POST", f"{self._session}/window/rect", {"width": width, "height": 300})
            for _ in range(5):
                chrome, inner, content = self.execute(measure)
                if content <= inner:
                    break
                self._call(
                    "POST", f"{self._session}/window/rect", {"width": width, "height": chrome + content}
                )
            self.execute("window.scrollTo(0, 0);")
            return self.screenshot(path)
        finally:
            self._call("POST", f"{self._session}/window/rect", {"width": width, "height": height})

    def console(self) -> list[dict[str, Any]]:
        """The browser's log entries (console errors, blocked loads, CSP violations) since the last call."""
        return list(self._call("POST", f"{self._session}/se/log", {"type": "browser"}))

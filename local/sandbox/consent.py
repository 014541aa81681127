"""Completing the sandbox's consent page without a browser: GET the form, POST it as a browser
would, and return where TikTok would send the browser next (the redirect URI with code or error)."""

from __future__ import annotations

from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import requests


class ConsentError(RuntimeError):
    """The authorize request was refused with an error page (unknown client or redirect URI)."""


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: list[tuple[str, str]] = []
        self.checked: list[tuple[str, str]] = []
        self.creators: list[str] = []
        self.error = ""
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input":
            kind, name, value = values.get("type", "text"), values.get("name", ""), values.get("value", "")
            if kind == "hidden":
                self.hidden.append((name, value))
            elif kind == "checkbox" and "checked" in values:
                self.checked.append((name, value))
            elif kind == "radio" and name == "creator":
                self.creators.append(value)
        elif tag == "p" and values.get("id") == "error":
            self._in_error = True

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_error = False


def complete_consent(
    authorize_url: str,
    *,
    creator: str,
    decision: str = "allow",
    granted_scopes: Sequence[str] | None = None,
    session: requests.Session | None = None,
    timeout: float = 10.0,
) -> str:
    """Follow a full authorize URL (as a client's /connect redirect builds it) through the consent
    page. `granted_scopes` unticks the other scope boxes, as a user approving only some would."""
    http = session or requests.Session()
    page = http.get(authorize_url, allow_redirects=False, timeout=timeout)
    if page.is_redirect:
        return str(page.headers["Location"])  # refused before the page: error redirect
    form = _FormReader()
    form.feed(page.text)
    if page.status_code != 200 or not form.action:
        raise ConsentError(form.error.strip() or f"authorize page answered HTTP {page.status_code}")
    if creator not in form.creators:
        raise ConsentError(f"the consent page offers no creator {creator!r} (offers {form.creators})")
    fields = list(form.hidden)
    if granted_scopes is None:
        fields += form.checked
    else:
        fields += [("granted", s) for s in granted_scopes]
    fields += [("creator", creator), ("decision", decision)]
    answer = http.post(
        urljoin(authorize_url, form.action),
        data=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        timeout=timeout,
    )
    if not answer.is_redirect:
        reader = _FormReader()
        reader.feed(answer.text)
        raise ConsentError(reader.error.strip() or f"consent POST answered HTTP {answer.status_code}")
    return str(answer.headers["Location"])


def authorize(
    base_url: str,
    *,
    client_key: str,
    redirect_uri: str,
    scopes: Sequence[str] | str,
    state: str,
    creator: str,
    decision: str = "allow",
    granted_scopes: Sequence[str] | None = None,
    code_challenge: str | None = None,
    session: requests.Session | None = None,
) -> str:
    """Build the authorize URL as a client would, complete the consent, return the Location."""
    params = {
        "client_key": client_key,
        "scope": scopes if isinstance(scopes, str) else ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if code_challenge is not None:
        params.update(code_challenge=code_challenge, code_challenge_method="S256")
    url = f"{base_url.rstrip('/')}/v2/auth/authorize/?{urlencode(params)}"
    return complete_consent(
        url, creator=creator, decision=decision, granted_scopes=granted_scopes, session=session
    )

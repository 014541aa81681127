"""The review page's HTML: one self-contained document per answer, no third-party assets.

Everything is escaped. The one script and the one style sheet are inline and allowed by their SHA-256 in
the Content-Security-Policy (`default-src 'none'`), so nothing else can run. The page works without the
script: CSS shows the disclosure prompts and the declaration that match what is ticked, and the server
checks every rule again and answers with the form and its problems. The script only keeps Post disabled,
with the reason next to it, until the rules hold, and disables the options the rules exclude.

Images and video come from exactly two kinds of origin, each named in the policy: the operator's own
media bucket (a short-lived presigned URL of the exact object version that will be posted) and the avatar
URL TikTok's creator_info returned on this load.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from functions.post_status import TERMINAL, UNSUCCESSFUL
from functions.review.choices import (
    BRANDED_CONTENT_POLICY_URL,
    BRANDED_NOT_PRIVATE,
    CHOOSE_PRIVACY,
    CONSENT_NEEDED,
    MUSIC_USAGE_URL,
    NEED_DISCLOSURE_CHOICE,
    ONLY_ME_NO_BRANDED,
    PRIVACY_LABELS,
    PROCESSING_NOTICE,
    PROMPT_BRANDED,
    PROMPT_YOUR_BRAND,
    Choices,
    Kind,
    Problem,
)
from functions.tiktok.models import CreatorInfo, PrivacyLevel

REFRESH_SECONDS = 10
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#161823;"
    "line-height:1.45}h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    ".creator{display:flex;gap:.8rem;align-items:center}.creator img{border-radius:50%}"
    ".muted,.hint{color:#55575f}.hint{font-size:.9rem;margin:.2rem 0 .6rem}"
    "video,.photos img{max-width:100%;max-height:70vh;background:#000}"
    ".photos{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}.photos img{max-height:12rem}"
    "label{font-weight:600}fieldset{border:1px solid #d0d1d6;border-radius:.4rem;margin:1rem 0;padding:.6rem 1rem}"
    "legend{font-weight:600;padding:0 .3rem}.check{margin:.35rem 0}.check label{font-weight:400}"
    "textarea,input[type=text],select{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}"
    "input:disabled+label,.check.off label{color:#8a8b91}"
    ":focus-visible{outline:3px solid #0b57d0;outline-offset:2px}"
    ".errors,.blocked{border:2px solid #b3261e;padding:.6rem 1rem;border-radius:.4rem}.errors a,.bad{color:#b3261e}"
    ".ok{color:#0a7d32}.prompt{font-weight:600}.note{color:#8c4a00}"
    ".actions{display:flex;gap:1rem;align-items:center;margin-top:1rem;flex-wrap:wrap}"
    "button{font:inherit;padding:.55rem 1.4rem;border-radius:.3rem;border:1px solid #161823;cursor:pointer}"
    "button[value=post]{background:#fe2c55;border-color:#fe2c55;color:#fff}button:disabled{opacity:.45;cursor:not-allowed}"
    "button[value=discard]{background:#fff}"
    # Without the script, CSS alone shows what matches the ticked boxes (TikTok's prompts appear only then).
    "#disclosure-options,.prompt,.decl-branded,#privacy-note,#branded-private-note,#need-choice{display:none}"
    "form:has(#disclose:checked) #disclosure-options{display:block}"
    "form:has(#disclose:checked):has(#brand_organic:checked):not(:has(#branded_content:checked)) #prompt-brand"
    "{display:block}"
    "form:has(#disclose:checked):has(#branded_content:checked) #prompt-branded{display:block}"
    "form:has(#disclose:checked):not(:has(#brand_organic:checked)):not(:has(#branded_content:checked))"
    " #need-choice{display:block}"
    "form:has(#disclose:checked):has(#branded_content:checked) .decl-branded{display:inline}"
    "form:has(#disclose:checked):has(#branded_content:checked) .decl-music{display:none}"
    "form:has(#branded_content:checked) #privacy-note{display:block}"
    'form:has(#privacy_level option[value="SELF_ONLY"]:checked) #branded-private-note{display:block}'
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
)


def _script() -> str:
    messages = json.dumps(
        {
            "privacy": CHOOSE_PRIVACY,
            "disclosure": NEED_DISCLOSURE_CHOICE,
            "consent": CONSENT_NEEDED,
            "branded": BRANDED_NOT_PRIVATE,
        }
    ).replace("<", "\\u003c")
    return (
        "(function(){'use strict';"
        "var form=document.getElementById('review');if(!form){return;}"
        f"var M={messages};"
        "function el(id){return document.getElementById(id);}"
        "var privacy=el('privacy_level'),disclose=el('disclose'),brand=el('brand_organic'),"
        "branded=el('branded_content'),consent=el('consent'),post=el('post'),wrap=el('post-wrap'),"
        "why=el('post-why'),video=el('preview-video');"
        "var selfOnly=privacy?privacy.querySelector('option[value=\"SELF_ONLY\"]'):null;"
        "var brandedLocked=branded.hasAttribute('data-locked');var tooLong='';"
        "function update(){"
        "if(!disclose.checked){brand.checked=false;branded.checked=false;}"
        "if(selfOnly){selfOnly.disabled=branded.checked;selfOnly.title=branded.checked?M.branded:'';}"
        "branded.disabled=brandedLocked||privacy.value==='SELF_ONLY';"
        "if(branded.disabled){branded.checked=false;}"
        "var reason=form.getAttribute('data-blocked')||tooLong;"
        "if(!reason&&!privacy.value){reason=M.privacy;}"
        "if(!reason&&disclose.checked&&!brand.checked&&!branded.checked){reason=M.disclosure;}"
        "if(!reason&&branded.checked&&privacy.value==='SELF_ONLY'){reason=M.branded;}"
        "if(!reason&&!consent.checked){reason=M.consent;}"
        "post.disabled=reason!=='';wrap.title=reason;why.textContent=reason;}"
        "form.addEventListener('change',update);form.addEventListener('input',update);"
        "if(video){video.addEventListener('loadedmetadata',function(){"
        "var max=Number(form.getAttribute('data-max-duration'));"
        "if(max&&video.duration>max){tooLong='The video lasts '+video.duration.toFixed(1)+"
        "' seconds; this account may post videos of at most '+max+' seconds.';update();}});}"
        "update();})();"
    )


SCRIPT = _script()


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


SCRIPT_HASH = _hash(SCRIPT)
STYLE_HASH = _hash(_STYLE)

BASE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def origin_of(url: str) -> str | None:
    """The origin a CSP source may name for this URL: https anywhere, http only on loopback (local runs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if not host or any(c in parts.netloc for c in " ;,'\"") or parts.username or parts.password:
        return None
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK):
        return f"{parts.scheme}://{parts.netloc}"
    return None


def headers(*, media: Iterable[str] = (), images: Iterable[str] = ()) -> dict[str, str]:
    """The response headers, with a policy that allows this page's inline script and style and the
    origins of exactly these media and image URLs."""
    media_origins = sorted({o for o in map(origin_of, media) if o})
    image_origins = sorted({o for o in map(origin_of, images) if o})
    policy = [
        "default-src 'none'",
        f"style-src '{STYLE_HASH}'",
        f"script-src '{SCRIPT_HASH}'",
        "img-src " + (" ".join(image_origins) or "'none'"),
        "media-src " + (" ".join(media_origins) or "'none'"),
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    return {**BASE_HEADERS, "Content-Security-Policy": "; ".join(policy)}


def _document(
    title: str, body: str, *, refresh: int | None = None, refresh_url: str = "", script: bool = False
) -> str:
    target = f";url={refresh_url}" if refresh_url else ""
    meta_refresh = f'<meta http-equiv="refresh" content="{refresh}{escape(target)}">' if refresh else ""
    script_tag = f"<script>{SCRIPT}</script>" if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">'
        f"{meta_refresh}<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main>{script_tag}</body></html>"
    )


def _utc(ts: int | float | None) -> str:
    if ts is None:
        return "an unknown time"
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class Preview:
    kind: Kind
    urls: Sequence[str]
    duration_seconds: float | None = None


@dataclass(frozen=True)
class FormPage:
    """Everything the review form shows."""

    preview: Preview
    creator: CreatorInfo
    options: Sequence[PrivacyLevel]
    expires_at: int
    choices: Choices = field(default_factory=Choices)
    blockers: Sequence[Problem] = ()
    problems: Sequence[Problem] = ()
    facts: Sequence[str] = ()

    @property
    def kind(self) -> Kind:
        return self.preview.kind


def form_page(page: FormPage) -> tuple[str, dict[str, str]]:
    """(HTML, headers) of the review form."""
    creator = page.creator
    images = [*(page.preview.urls if page.kind == "photo" else ()), creator.creator_avatar_url]
    media = page.preview.urls if page.kind == "video" else ()
    blocked = " ".join(p.message for p in page.blockers)
    limit = creator.max_video_post_duration_sec if page.kind == "video" else None
    attrs = ' id="review" method="post"'
    if blocked:
        attrs += f' data-blocked="{escape(blocked)}"'
    if limit:
        attrs += f' data-max-duration="{int(limit)}"'
    body = (
        "<h1>Review your TikTok post</h1>"
        + _creator_header(creator)
        + _blockers(page.blockers)
        + _problem_summary(page.problems)
        + _preview(page.preview, limit)
        + "".join(f'<p class="muted">{escape(f)}</p>' for f in page.facts)
        + f"<form{attrs}>"
        + _texts(page)
        + _privacy(page)
        + _interactions(page)
        + _disclosure(page)
        + f'<p class="hint">{escape(PROCESSING_NOTICE)}</p>'
        + _consent(page)
        + _actions(page)
        + "</form>"
        + f'<p class="hint">This review link works until {escape(_utc(page.expires_at))}. After that the post '
        "is not published.</p>"
    )
    return _document("Review your TikTok post", body, script=True), headers(media=media, images=images)


def _creator_header(creator: CreatorInfo) -> str:
    avatar = ""
    if origin_of(creator.creator_avatar_url):
        avatar = (
            f'<img src="{escape(creator.creator_avatar_url)}" alt="" width="56" height="56" '
            'referrerpolicy="no-referrer">'
        )
    nickname = escape(creator.creator_nickname or creator.creator_username or "this TikTok account")
    username = (
        f' <span class="muted">@{escape(creator.creator_username)}</span>' if creator.creator_username else ""
    )
    return (
        f'<section class="creator" aria-label="TikTok account">{avatar}'
        f"<p>Posting to <strong>{nickname}</strong>{username}</p></section>"
    )


def _blockers(blockers: Sequence[Problem]) -> str:
    if not blockers:
        return ""
    items = "".join(f"<li>{escape(p.message)}</li>" for p in blockers)
    return (
        '<div class="blocked" role="alert"><h2>This post cannot be sent right now</h2>'
        f"<ul>{items}</ul><p>Nothing has been sent to TikTok. Try again later, or discard the post.</p></div>"
    )


def _problem_summary(problems: Sequence[Problem]) -> str:
    if not problems:
        return ""
    items = "".join(
        f'<li><a href="#{escape(p.field)}">{escape(p.message)}</a></li>'
        if p.field not in ("form", "preview")
        else f"<li>{escape(p.message)}</li>"
        for p in problems
    )
    return (
        f'<div class="errors" role="alert" id="problems"><h2>The post was not sent</h2><ul>{items}</ul></div>'
    )


def _preview(preview: Preview, limit: int | None) -> str:
    out = '<section aria-labelledby="preview-heading"><h2 id="preview-heading">Preview</h2>'
    if preview.kind == "video" and preview.urls:
        out += (
            f'<video id="preview-video" controls preload="metadata" src="{escape(preview.urls[0])}" '
            'aria-label="The video that will be posted"></video>'
        )
        duration = (
            f"{preview.duration_seconds:.1f} seconds"
            if preview.duration_seconds is not None
            else "unknown length"
        )
        limit_text = f"; this account may post videos of up to {limit} seconds" if limit else ""
        out += f'<p class="hint">Length: {escape(duration)}{escape(limit_text)}.</p>'
    else:
        count = len(preview.urls)
        out += '<ul class="photos">' + "".join(
            f'<li><img src="{escape(url)}" alt="Photo {i} of {count}"></li>'
            for i, url in enumerate(preview.urls, start=1)
        )
        out += "</ul>"
    return out + "</section>"


def _field_problem(page: FormPage, name: str, *described_by: str) -> tuple[str, str]:
    """(attributes, inline message) of a field: aria-describedby with its hints and, when it has a
    problem, aria-invalid and the problem's message."""
    found = [p for p in page.problems if p.field == name]
    ids = list(described_by)
    problem = ""
    if found:
        ids.append(f"{name}-problem")
        message = " ".join(p.message for p in found)
        problem = f'<p class="bad" id="{name}-problem">{escape(message)}</p>'
    attrs = (' aria-invalid="true"' if found else "") + (
        f' aria-describedby="{" ".join(ids)}"' if ids else ""
    )
    return attrs, problem


def _texts(page: FormPage) -> str:
    c = page.choices
    if page.kind == "video":
        attrs, problem = _field_problem(page, "caption", "caption-hint")
        return (
            '<label for="caption">Caption</label>'
            '<p class="hint" id="caption-hint">Up to 2,200 characters, hashtags included. Edit it as you '
            "like.</p>"
            f'<textarea id="caption" name="caption" rows="5" maxlength="2200"{attrs}>'
            f"{escape(c.caption or '')}</textarea>{problem}"
        )
    attrs_t, problem_t = _field_problem(page, "title")
    attrs_d, problem_d = _field_problem(page, "description")
    return (
        '<label for="title">Title</label>'
        f'<input type="text" id="title" name="title" maxlength="90" value="{escape(c.title or "")}"{attrs_t}>'
        f'{problem_t}<label for="description">Description</label>'
        f'<textarea id="description" name="description" rows="5" maxlength="4000"{attrs_d}>'
        f"{escape(c.description or '')}</textarea>{problem_d}"
    )


def _privacy(page: FormPage) -> str:
    c = page.choices
    attrs, problem = _field_problem(page, "privacy_level")
    # No default: the empty placeholder is selected until the creator picks (guideline point 2b).
    options = [f'<option value=""{" selected" if not c.privacy_level else ""}>Select…</option>']
    for level in page.options:
        extra = " selected" if c.privacy_level == level.value else ""
        if level is PrivacyLevel.SELF_ONLY and c.branded_content:  # the why, where it applies
            extra += f' title="{escape(BRANDED_NOT_PRIVATE)}"'
        options.append(f'<option value="{level.value}"{extra}>{escape(PRIVACY_LABELS[level])}</option>')
    return (
        '<label for="privacy_level">Who can view this post</label>'
        f'<select id="privacy_level" name="privacy_level" required{attrs}>'
        + "".join(options)
        + "</select>"
        + f'<p class="note" id="privacy-note">{escape(BRANDED_NOT_PRIVATE)} Only me is not available while '
        "Branded content is ticked.</p>" + problem
    )


def _check(
    name: str, label: str, *, checked: bool, disabled: bool = False, note: str = "", extra: str = ""
) -> str:
    attrs = (" checked" if checked and not disabled else "") + (" disabled" if disabled else "") + extra
    note_html = ""
    if note:
        attrs += f' aria-describedby="{name}-note"'
        note_html = f' <span class="muted" id="{name}-note">({escape(note)})</span>'
    return (
        f'<div class="check{" off" if disabled else ""}"><input type="checkbox" id="{name}" name="{name}"{attrs}>'
        f' <label for="{name}">{escape(label)}</label>{note_html}</div>'
    )


def _interactions(page: FormPage) -> str:
    c, creator = page.choices, page.creator
    # (field, label, whether the creator turned it off in TikTok); photos have comments only.
    shown = [("allow_comment", "Comment", creator.comment_disabled)]
    if page.kind == "video":
        shown += [
            ("allow_duet", "Duet", creator.duet_disabled),
            ("allow_stitch", "Stitch", creator.stitch_disabled),
        ]
    boxes = "".join(
        _check(
            name,
            label,
            checked=getattr(c, name),
            disabled=off,
            note="turned off for this account in TikTok" if off else "",
        )
        for name, label, off in shown
    )
    problems = "".join(_field_problem(page, n)[1] for n in ("allow_comment", "allow_duet", "allow_stitch"))
    return f"<fieldset><legend>Allow users to</legend>{boxes}{problems}</fieldset>"


def _disclosure(page: FormPage) -> str:
    c = page.choices
    only_me_left = list(page.options) == [PrivacyLevel.SELF_ONLY]
    branded_note = (
        "Branded content can't be private, and Only me is the only audience this account can post to now"
        if only_me_left
        else ""
    )
    problems = "".join(_field_problem(page, n)[1] for n in ("disclose", "brand_organic", "branded_content"))
    return (
        "<fieldset><legend>Content disclosure</legend>"
        + _check("disclose", "Disclose commercial content", checked=c.disclose, extra=' role="switch"')
        + '<p class="hint">Turn this on if this post promotes yourself, a brand, a product or a service.</p>'
        + '<div id="disclosure-options">'
        + _check("brand_organic", "Your brand", checked=c.disclose and c.brand_organic)
        + '<p class="hint">You are promoting yourself or your own business.</p>'
        + _check(
            "branded_content",
            "Branded content",
            checked=c.disclose and c.branded_content and not only_me_left,
            disabled=only_me_left,
            note=branded_note,
            extra=" data-locked" if only_me_left else "",
        )
        + '<p class="hint">You are promoting another brand or a third party.</p>'
        + f'<p class="note" id="branded-private-note">{escape(ONLY_ME_NO_BRANDED)}</p>'
        + '<div aria-live="polite">'
        + f'<p class="prompt" id="prompt-brand">{escape(PROMPT_YOUR_BRAND)}</p>'
        + f'<p class="prompt" id="prompt-branded">{escape(PROMPT_BRANDED)}</p>'
        + f'<p class="note" id="need-choice">{escape(NEED_DISCLOSURE_CHOICE)}</p>'
        + "</div></div>"
        + problems
        + "</fieldset>"
    )


def _link(text: str, url: str) -> str:
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(text)}</a>'


def _consent(page: FormPage) -> str:
    music = _link("Music Usage Confirmation", MUSIC_USAGE_URL)
    branded = _link("Branded Content Policy", BRANDED_CONTENT_POLICY_URL)
    attrs, problem = _field_problem(page, "consent")
    # Always visible above Post; the branded wording replaces the plain one while Branded content is ticked.
    return (
        '<div class="check consent">'
        f'<input type="checkbox" id="consent" name="consent" required{attrs}> <label for="consent">'
        f'<span class="decl-music">By posting, you agree to TikTok\'s {music}</span>'
        f'<span class="decl-branded">By posting, you agree to TikTok\'s {branded} and {music}.</span>'
        f"</label></div>{problem}"
    )


def _actions(page: FormPage) -> str:
    disabled = " disabled" if page.blockers else ""
    reason = " ".join(p.message for p in page.blockers)
    return (
        '<div class="actions">'
        f'<span id="post-wrap" title="{escape(reason)}">'
        f'<button type="submit" id="post" name="action" value="post"{disabled} aria-describedby="post-why">'
        "Post</button></span>"
        '<button type="submit" name="action" value="discard" formnovalidate>Discard</button>'
        f'<p id="post-why" class="note" aria-live="polite">{escape(reason)}</p>'
        "</div>"
    )


# ------------------------------------------------------------------------------------ status and errors


_STATUS_TEXT: Mapping[str, str] = {
    "RECEIVED": "Received; it is being checked.",
    "AWAITING_REVIEW": "Waiting for your review.",
    "WAITING_QUOTA": "Approved. It waits for a free posting slot (TikTok's daily limits), then goes out.",
    "INITIALIZING": "Approved. It is being sent to TikTok.",
    "UPLOADING": "Approved. The media is being sent to TikTok.",
    "PROCESSING": "TikTok received it and is processing it.",
    "SEND_TO_USER_INBOX": "Sent to your TikTok inbox: open the notification in the TikTok app to finish it.",
    "PUBLISH_COMPLETE": "Published on TikTok.",
}


def status_page(post: Mapping[str, Any], *, note: str = "") -> tuple[str, dict[str, str]]:
    """(HTML, headers) of a post that is no longer waiting for review: where it is, live."""
    status = str(post.get("status", ""))
    link = str((post.get("review") or {}).get("url") or "")  # without the one-time note of a redirect
    creator = (post.get("prepared") or {}).get("creator") or {}
    username = str(creator.get("username") or "")
    if status == "SCHEDULED":
        publish_at = (post.get("settings") or {}).get("publish_at")
        text = (
            f"Approved. It will be sent to TikTok at {publish_at}."
            if publish_at
            else "Approved. It is being sent to TikTok."
        )
    elif status == "FAILED":
        text = (
            f"The post failed: {post.get('fail_detail') or post.get('fail_reason') or 'see the post record'}"
        )
    elif status == "CANCELLED":
        text = (
            "The post was discarded. Nothing was sent to TikTok."
            if not post.get("publish_id")
            else "The post was cancelled."
        )
    else:
        text = _STATUS_TEXT.get(status, status)
    terminal = status in TERMINAL
    body = "<h1>Your TikTok post</h1>"
    if username:
        body += f'<p class="muted">Account: @{escape(username)}</p>'
    if note:
        body += f'<p role="status" class="ok">{escape(note)}</p>'
    css = "ok" if status == "PUBLISH_COMPLETE" else ("bad" if status in UNSUCCESSFUL else "")
    body += f'<p class="{css}" role="status"><strong>{escape(text)}</strong></p>'
    if not terminal:
        body += (
            f"<p>{escape(PROCESSING_NOTICE.replace('After you post, ', ''))}</p>"
            f'<p class="hint">This page refreshes every {REFRESH_SECONDS} seconds. '
            f'<a href="{escape(link)}">Refresh now</a>.</p>'
        )
    body += _published_links(post, username)
    body += _history(post.get("history") or [])
    page = _document(
        "Your TikTok post", body, refresh=None if terminal else REFRESH_SECONDS, refresh_url=link
    )
    return page, headers()


def _published_links(post: Mapping[str, Any], username: str) -> str:
    ids = [str(i) for i in post.get("tiktok_post_ids") or [] if str(i).isdigit()]
    if not ids or not username:
        return ""
    kind = "photo" if post.get("kind") == "photo" else "video"
    links = "".join(
        f"<li>{_link('Open it on TikTok', f'https://www.tiktok.com/@{quote(username)}/{kind}/{i}')}</li>"
        for i in ids
    )
    return f"<ul>{links}</ul>"


def _history(history: Sequence[Mapping[str, Any]]) -> str:
    if not history:
        return ""
    items = "".join(
        f"<li><time>{escape(_utc(h.get('at')))}</time>: {escape(str(h.get('status', '')))}"
        + (f" ({escape(str(h.get('note')))})" if h.get("note") else "")
        + "</li>"
        for h in history
    )
    return f'<h2>History</h2><ol class="muted">{items}</ol>'


def message_page(title: str, message: str) -> tuple[str, dict[str, str]]:
    """(HTML, headers) of a plain answer: an invalid or expired link, a missing post."""
    body = f'<h1 class="bad">{escape(title)}</h1><p>{escape(message)}</p>'
    return _document(title, body), headers()

"""Sandbox-only controls under /_sandbox/: inspection, clock, faults, reset, creator actions.

These answer in a plain sandbox shape (`{"error": "..."}` on failure), never TikTok's envelope, so a
client cannot mistake them for TikTok.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from local.sandbox import display, lifecycle, oauth
from local.sandbox.config import Faults
from local.sandbox.creators import Creator
from local.sandbox.ids import new_post_id
from local.sandbox.oauth import KNOWN_SCOPES
from local.sandbox.quirks import check_quirks
from local.sandbox.state import PUBLISH_COMPLETE, SEND_TO_USER_INBOX, ElsewhereVideo, Post
from local.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

PREFIX = "/_sandbox/"
ELSEWHERE_KEYS = frozenset({"title", "description", "privacy", "created_at", "duration"})
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
DEFAULT_ELSEWHERE_DURATION = 15


def _fail(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def _json_body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        value = json.loads(req.body)
    except (UnicodeDecodeError, ValueError):
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


def handle(app: SandboxApp, req: Request) -> Response:
    parts = [unquote(p) for p in req.path[len(PREFIX) :].strip("/").split("/") if p]
    try:
        return _route(app, req, parts)
    except ValueError as exc:
        return _fail(400, str(exc))


def _route(app: SandboxApp, req: Request, parts: list[str]) -> Response:  # noqa: PLR0911, PLR0912 - a flat routing table
    method = req.method
    head = parts[0] if parts else ""
    if head == "health" and method == "GET":
        return json_response(
            200, {"ok": True, "base_url": app.base_url, "scheduled": app.scheduler.pending()}
        )
    if head == "posts":
        return _posts(app, req, parts[1:])
    if head == "calls" and method == "GET":
        return json_response(200, _calls(app))
    if head == "webhooks" and method == "GET":
        return json_response(200, {"deliveries": app.webhooks.deliveries()})
    if head == "faults":
        if method == "POST":
            return json_response(200, app.faults.update(_json_body(req)).to_dict())
        if method == "DELETE":
            app.faults.replace(Faults())
        if method in ("GET", "DELETE"):
            return json_response(200, app.faults.faults.to_dict())
    if head == "clock":
        if method == "POST":
            seconds = _json_body(req).get("advance", 0)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError("advance must be a number of seconds")
            app.clock.advance(float(seconds))
        if method in ("GET", "POST"):
            return json_response(200, {"now": app.clock.now(), "offset": app.clock.offset})
    if head == "quirks" and method in ("GET", "POST"):
        if method == "POST":
            quirks = _json_body(req).get("quirks", [])
            if not isinstance(quirks, list) or not all(isinstance(q, str) for q in quirks):
                raise ValueError("quirks must be a list of names")
            app.quirks = check_quirks(quirks)
        return json_response(200, {"quirks": list(app.quirks)})
    if head == "reset" and method == "POST":
        app.reset()
        return json_response(200, {"reset": True})
    if head == "creators":
        return _creators(app, req, parts[1:])
    if head == "tokens" and method == "POST":
        return _mint_tokens(app, _json_body(req))
    if head == "avatars" and method == "GET" and len(parts) == 2:
        return Response(200, _avatar_jpeg(), "image/jpeg")
    if head == "covers" and method == "GET" and len(parts) == 2:
        return _cover(app, req)
    if head == "config" and method == "GET":
        return json_response(200, _public_config(app))
    return _fail(404, f"no sandbox control {method} {req.path}")


def _posts(app: SandboxApp, req: Request, rest: list[str]) -> Response:  # noqa: PLR0911 - a routing table
    with app.state.lock:
        if not rest and req.method == "GET":
            return json_response(200, {"posts": [p.to_dict() for p in app.state.posts.values()]})
        post = app.state.posts.get(rest[0]) if rest else None
        if post is None:
            return _fail(404, "no such publish_id")
        if len(rest) == 1 and req.method == "GET":
            return json_response(200, post.to_dict())
    action = rest[1] if len(rest) == 2 and req.method == "POST" else ""
    if action == "complete":
        return _complete(app, post, _json_body(req))
    if action == "take_down":
        if not post.publicly_available:
            return _fail(409, "the post is not publicly available")
        lifecycle.take_down(app, post)
        return json_response(200, post.to_dict())
    return _fail(404, f"no sandbox control {req.method} {req.path}")


def _complete(app: SandboxApp, post: Post, body: dict[str, Any]) -> Response:
    """The creator opens the inbox notification and posts the draft."""
    public = body.get("public", False)
    if not isinstance(public, bool):
        raise ValueError("public must be true or false")
    if post.mode != "inbox" or post.status not in (SEND_TO_USER_INBOX, PUBLISH_COMPLETE):
        return _fail(409, "only an inbox draft that reached SEND_TO_USER_INBOX can be completed")
    lifecycle.complete_inbox(app, post, public)
    with app.state.lock:
        return json_response(200, post.to_dict())


def _calls(app: SandboxApp) -> dict[str, Any]:
    with app.state.lock:
        by_token: dict[str, dict[str, int]] = defaultdict(dict)
        for (token, path), count in sorted(app.state.calls.items()):
            by_token[token][path] = count
        statuses: dict[str, dict[str, int]] = defaultdict(dict)
        for (path, status), count in sorted(app.state.responses.items()):
            statuses[path][str(status)] = count
        return {
            "total": sum(app.state.calls.values()),
            "by_token": by_token,
            "calls": [
                {"token": t, "endpoint": p, "count": c} for (t, p), c in sorted(app.state.calls.items())
            ],
            "statuses": statuses,
        }


def _creators(app: SandboxApp, req: Request, rest: list[str]) -> Response:
    if not rest and req.method == "GET":
        with app.state.lock:
            return json_response(200, {"creators": [c.to_dict() for c in app.state.creators.values()]})
    if not rest and req.method == "POST":
        creator = Creator.from_dict(_json_body(req))
        app.put_creator(creator, app.clock.now())
        return json_response(200, creator.to_dict())
    if len(rest) == 2 and rest[1] == "videos" and req.method == "POST":
        return _post_elsewhere(app, rest[0], _json_body(req))
    if len(rest) == 2 and rest[1] == "deauthorize" and req.method == "POST":
        with app.state.lock:
            creator_found = app.state.creators.get(rest[0])
        if creator_found is None:
            return _fail(404, "no such creator")
        reason = _json_body(req).get("reason", 1)
        if isinstance(reason, bool) or not isinstance(reason, int) or not 0 <= reason <= 5:
            raise ValueError("reason must be an integer 0-5 (see authorization.removed)")
        lifecycle.remove_authorization(app, creator_found.open_id, reason)
        return json_response(200, {"deauthorized": creator_found.username, "reason": reason})
    return _fail(404, f"no sandbox control {req.method} {req.path}")


def _post_elsewhere(app: SandboxApp, username: str, body: dict[str, Any]) -> Response:
    """The creator posts a video without this client (the TikTok app, another app); the Display API
    lists it when it is public."""
    unknown = sorted(set(body) - ELSEWHERE_KEYS)
    if unknown:
        raise ValueError(f"unknown video field(s): {', '.join(unknown)}")
    now = app.clock.now()
    with app.state.lock:
        creator = app.state.creators.get(username)
        if creator is None:
            return _fail(404, "no such creator")
        video = ElsewhereVideo(
            video_id=str(new_post_id()),
            open_id=creator.open_id,
            username=creator.username,
            title=_text(body, "title"),
            description=_text(body, "description"),
            privacy_level=_elsewhere_privacy(body, creator),
            created_at=_created_at(body, now),
            duration=_positive_int(body, "duration", DEFAULT_ELSEWHERE_DURATION),
        )
        return json_response(200, display.add_elsewhere_video(app, video, now))


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _elsewhere_privacy(body: dict[str, Any], creator: Creator) -> str:
    privacy = body.get("privacy", "PUBLIC_TO_EVERYONE")
    if privacy not in PRIVACY_LEVELS:
        raise ValueError(f"privacy must be one of {', '.join(PRIVACY_LEVELS)}")
    if creator.private and privacy == "PUBLIC_TO_EVERYONE":
        raise ValueError("a private account cannot post PUBLIC_TO_EVERYONE")
    return str(privacy)


def _created_at(body: dict[str, Any], now: float) -> float:
    """When it was posted (unix seconds on the sandbox clock): now unless said, never in the future."""
    value = body.get("created_at", now)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("created_at must be unix seconds")
    if not 0 <= value <= now:
        raise ValueError("created_at must be between 0 and the sandbox's now")
    return float(value)


def _positive_int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{key} must be a positive integer")
    return value


def _cover(app: SandboxApp, req: Request) -> Response:
    """The image behind a video's cover_image_url; like TikTok's CDN links it stops at x-expires."""
    expires = (req.query.get("x-expires") or [""])[-1]
    if not expires.isdigit() or int(expires) <= app.clock.now():
        return _fail(403, "the cover URL has expired")
    return Response(200, _avatar_jpeg(), "image/jpeg")


def _mint_tokens(app: SandboxApp, body: dict[str, Any]) -> Response:
    """Skip the consent page: tokens for a creator, as /v2/oauth/token/ would return them."""
    username = body.get("creator")
    scopes = body.get("scopes", ["user.info.basic", "video.upload", "video.publish"])
    if not isinstance(username, str):
        raise ValueError("creator must be a username")
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s in KNOWN_SCOPES for s in scopes)
    ):
        raise ValueError(f"scopes must be a non-empty list of: {', '.join(sorted(KNOWN_SCOPES))}")
    now = app.clock.now()
    with app.state.lock:
        creator = app.state.creators.get(username)
        if creator is None:
            return _fail(404, "no such creator")
        grant = oauth.new_grant(app, creator.open_id, tuple(dict.fromkeys(scopes)), now)
        return json_response(200, oauth.issue_tokens(app, grant, now))


def _public_config(app: SandboxApp) -> dict[str, Any]:
    config = app.config
    return {
        "client_key": config.client_key,
        "redirect_uris": config.redirect_uris,
        "webhook_urls": config.webhook_urls,
        "verified_prefixes": config.verified_prefixes,
        "audited": config.audited,
        "time_scale": config.time_scale,
        "access_token_ttl": config.access_token_ttl,
        "refresh_token_ttl": config.refresh_token_ttl,
        "posts_per_day": config.posts_per_day,
        "pending_inbox_cap": config.pending_inbox_cap,
        "rate_limits": config.rate_limits,
    }


@cache
def _avatar_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (100, 100), (254, 44, 85)).save(out, "JPEG")
    return out.getvalue()

"""What happens to a post once its bytes are in (docs/reference/tiktok-api.md §3.7, §5, §6.3): the media
checks,
then, after a scaled processing delay, PUBLISH_COMPLETE (direct) or SEND_TO_USER_INBOX (inbox), the
public post id after moderation, and the webhooks for each step. As documented, a direct post's
success is announced only by `post.publish.publicly_available`, and only for a public post;
`post.publish.complete` is for inbox drafts the creator posts (or, with the `direct_complete_webhook`
quirk, for direct posts too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.sandbox.ids import new_post_id
from local.sandbox.media_probe import probe_photo, probe_video
from local.sandbox.state import FAILED, PUBLISH_COMPLETE, SEND_TO_USER_INBOX, Post

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

PUBLIC = "PUBLIC_TO_EVERYONE"


def _current(app: SandboxApp, post: Post) -> bool:
    """False once a reset replaced the post: its late steps must not touch the new state."""
    return app.state.posts.get(post.publish_id) is post


def media_complete(app: SandboxApp, post: Post) -> None:
    """Every byte has arrived (last chunk or finished pull): check the media in the background."""
    with app.state.lock:
        post.media_complete = True
        post.history.append(
            {"at": app.clock.now(), "status": post.status, "fail_reason": "", "note": "media in"}
        )
    app.submit(lambda: _check(app, post))


def _check(app: SandboxApp, post: Post) -> None:
    with app.state.lock:
        creator = app.state.creators.get(post.username)
        max_duration = creator.max_video_post_duration_sec if creator else 600
        files = list(post.files)
    results = [
        probe_video(f.path, max_duration) if post.media_type == "VIDEO" else probe_photo(f.path)
        for f in files
    ]
    reason = next((r.fail_reason for r in results if r.fail_reason), "")
    if not reason:
        reason = app.faults.take_post_failure() or _spam_reason(app, post)
    size = sum(f.size for f in files)
    delay = app.config.processing_seconds
    if app.config.processing_bytes_per_second > 0:
        delay += size / app.config.processing_bytes_per_second
    with app.state.lock:
        post.probe = [r.to_dict() for r in results]
    app.scheduler.call_later(app.scaled(delay), lambda: _finish_processing(app, post, reason))


def _spam_reason(app: SandboxApp, post: Post) -> str:
    caption = " ".join(str(post.post_info.get(k, "")) for k in ("title", "description")).lower()
    return "spam_risk_text" if any(w.lower() in caption for w in app.config.spam_words if w) else ""


def _finish_processing(app: SandboxApp, post: Post, reason: str) -> None:
    with app.state.lock:
        if not _current(app, post) or post.status == FAILED:
            return  # cancelled, or the authorisation was removed meanwhile
        now = app.clock.now()
        if reason:
            fail(app, post, reason)
            return
        if post.mode == "inbox":
            post.set_status(SEND_TO_USER_INBOX, now, "inbox notification sent")
            _emit(app, post, "post.publish.inbox_delivered", {})
            return
        post.set_status(PUBLISH_COMPLETE, now, "posted")
        if app.quirk("direct_complete_webhook"):
            _emit(app, post, "post.publish.complete", {})
        if post.post_info.get("privacy_level") == PUBLIC:
            _schedule_moderation(app, post)


def _schedule_moderation(app: SandboxApp, post: Post) -> None:
    # §3.7: public posts go through moderation; the post id only exists once it passes.
    app.scheduler.call_later(
        app.scaled(app.config.moderation_seconds), lambda: _publicly_available(app, post)
    )


def _publicly_available(app: SandboxApp, post: Post) -> None:
    with app.state.lock:
        if not _current(app, post) or post.status != PUBLISH_COMPLETE or post.publicly_available:
            return
        post_id = new_post_id()
        post.post_ids.append(post_id)
        post.public_at.append(app.clock.now())
        post.publicly_available = True
        post.history.append(
            {"at": app.clock.now(), "status": post.status, "fail_reason": "", "note": "public"}
        )
        content = {} if app.quirk("no_public_post_id") else {"post_id": str(post_id)}
        _emit(app, post, "post.publish.publicly_available", content)


def fail(app: SandboxApp, post: Post, reason: str) -> None:
    """Move a post to FAILED and say so by webhook; the caller holds the state lock."""
    if post.status == FAILED:
        return
    post.set_status(FAILED, app.clock.now(), fail_reason=reason)
    _emit(app, post, "post.publish.failed", {"reason": reason})


def complete_inbox(app: SandboxApp, post: Post, public: bool) -> None:
    """The creator finished the draft in the app (a /_sandbox/ control). It may happen more than once
    per draft, and each time post.publish.complete fires (§6.3)."""
    with app.state.lock:
        post.completions += 1
        post.set_status(PUBLISH_COMPLETE, app.clock.now(), f"creator posted the draft ({post.completions})")
        _emit(app, post, "post.publish.complete", {})
        if public:
            post.post_info = {**post.post_info, "privacy_level": PUBLIC}
            post.publicly_available = False
            _schedule_moderation(app, post)


def take_down(app: SandboxApp, post: Post) -> None:
    """The post stopped being public; the event name's misspelling is TikTok's own (§6.3)."""
    with app.state.lock:
        post.publicly_available = False
        post.history.append(
            {"at": app.clock.now(), "status": post.status, "fail_reason": "", "note": "taken down"}
        )
        content = {"post_id": str(post.post_ids[-1])} if post.post_ids else {}
        _emit(app, post, "post.publish.no_longer_publicaly_available", content)


def remove_authorization(app: SandboxApp, open_id: str, reason: int) -> None:
    """Revoke every token the creator gave this client, stop their unfinished posts with auth_removed,
    and send authorization.removed (the token is already dead when it arrives, §6.3)."""
    with app.state.lock:
        for grant in app.state.grants.values():
            if grant.open_id == open_id:
                grant.revoked = True
        for post in app.state.posts.values():
            if post.open_id == open_id and post.status not in (FAILED, PUBLISH_COMPLETE, SEND_TO_USER_INBOX):
                fail(app, post, "auth_removed")
        app.webhooks.emit("authorization.removed", open_id, {"reason": reason})


def _emit(app: SandboxApp, post: Post, event: str, extra: dict[str, Any]) -> None:
    content = {"publish_id": post.publish_id, "publish_type": post.publish_type, **extra}
    app.webhooks.emit(event, post.open_id, content)

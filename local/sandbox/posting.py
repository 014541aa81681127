"""The Content Posting API (docs/reference/tiktok-api.md §2): creator_info, the three inits, status fetch,
cancel,
plus /v2/user/info/ for Login Kit clients. Every answer uses the v2 envelope (§2.1)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local.sandbox import endpoints, lifecycle, pull
from local.sandbox.chunks import check_chunk_plan
from local.sandbox.creators import Creator
from local.sandbox.errors import (
    ApiError,
    envelope,
    invalid_params,
    rate_limited,
    scope_not_authorized,
    token_invalid,
)
from local.sandbox.ids import new_publish_id, new_upload_id
from local.sandbox.limits import DAY, within
from local.sandbox.state import (
    FAILED,
    PROCESSING_DOWNLOAD,
    PROCESSING_UPLOAD,
    PUBLISH_COMPLETE,
    AccessToken,
    MediaFile,
    Post,
)
from local.sandbox.validation import INT32, boolean, integer, obj, parse_json_object, string, text
from local.sandbox.wire import Request, Response, json_response

if TYPE_CHECKING:
    from local.sandbox.app import SandboxApp

PUBLISH = "video.publish"
UPLOAD = "video.upload"
MAX_PHOTOS = 35
PHOTO_INBOX_MIN_APP = (31, 8)


def ok(data: dict[str, Any]) -> Response:
    return json_response(200, envelope(data))


def json_body(req: Request) -> dict[str, Any]:
    # The docs require `Content-Type: application/json; charset=UTF-8` on every call (§2).
    if req.media_type() != "application/json":
        raise invalid_params("Content-Type must be application/json; charset=UTF-8.")
    return parse_json_object(req.body)


def authenticate(app: SandboxApp, req: Request, path: str, scopes: tuple[str, ...]) -> AccessToken:
    """The caller's token, checked for life and for one of `scopes`, then counted against the
    per-token sliding minute of `path` (§7.1)."""
    presented = req.bearer()
    now = app.clock.now()
    with app.state.lock:
        token = app.state.access_tokens.get(presented) if presented else None
        grant = app.state.grants.get(token.grant_id) if token else None
        if token is None or grant is None or grant.revoked or token.expires_at <= now:
            raise token_invalid()
        if scopes and not any(s in token.scopes for s in scopes):
            raise scope_not_authorized(" or ".join(scopes))
        limit = app.config.rate_limits.get(path)
        if limit is not None and not app.state.rate.allow((token.token, path), limit, now):
            raise rate_limited()
        return token


def creator_of(app: SandboxApp, token: AccessToken) -> Creator:
    """The creator a token belongs to (call under the state lock)."""
    creator = app.state.creator_by_open_id(token.open_id)
    if creator is None:  # the creator was removed from the sandbox after consenting
        raise token_invalid("The user of this access token no longer exists.")
    return creator


def _cannot_post_now(app: SandboxApp, creator: Creator, now: float) -> ApiError | None:
    """The "can't post now" reasons shared by creator_info (as HTTP 200) and Direct Post init (403)."""
    state = app.state
    if creator.banned:
        return ApiError(
            403, "spam_risk_user_banned_from_posting", "This user is banned from making new posts."
        )
    if creator.is_unaudited(app.config.audited):
        posters, cap = state.unaudited_posters, app.config.unaudited_user_cap
    else:
        posters, cap = (
            state.active_posters,
            app.config.active_user_cap if app.config.active_user_cap is not None else -1,
        )
    if cap >= 0:
        recent = {oid for oid, at in posters.items() if now - at < DAY}
        if creator.open_id not in recent and len(recent) >= cap:
            return ApiError(
                403,
                "reached_active_user_cap",
                "The daily cap of users posting through this client is reached.",
            )
    # The cap is the creator's, shared with every app: videos posted elsewhere (public or not) count too.
    elsewhere = [v.created_at for v in state.elsewhere_videos if v.open_id == creator.open_id]
    if within([*state.direct_posts.get(creator.open_id, []), *elsewhere], now) >= app.post_cap(creator):
        return ApiError(
            403, "spam_risk_too_many_posts", "The user has reached the daily post cap; try again later."
        )
    return None


def creator_info(app: SandboxApp, req: Request) -> Response:
    token = authenticate(app, req, endpoints.CREATOR_INFO, (PUBLISH,))
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        blocked = _cannot_post_now(app, creator, now)
        if blocked is not None:
            # §2.2: "can't post now" is HTTP 200 on purpose, with the reason as error.code.
            return json_response(200, envelope({}, code=blocked.code, message=blocked.message))
        data = {
            "creator_avatar_url": f"{app.base_url}/_sandbox/avatars/{creator.username}.jpeg"
            f"?x-expires={int(now) + 7200}",
            "creator_username": creator.username,
            "creator_nickname": creator.nickname,
            "privacy_level_options": creator.privacy_level_options(
                app.config.audited, lists_public_when_unaudited=app.quirk("unaudited_lists_public")
            ),
            **creator.interaction_settings(),
            "max_video_post_duration_sec": creator.max_video_post_duration_sec,
        }
    return ok(data)


def _direct_post_rules(
    app: SandboxApp, creator: Creator, privacy: str | None, branded: bool, now: float
) -> None:
    """Who may Direct Post what, in the order TikTok reports it (§2.3 403s, §7.2, §7.3)."""
    if creator.banned:
        raise ApiError(
            403, "spam_risk_user_banned_from_posting", "This user is banned from making new posts."
        )
    if creator.is_unaudited(app.config.audited) and not creator.private:
        raise ApiError(
            403,
            "unaudited_client_can_only_post_to_private_accounts",
            "Unaudited clients can only post to private accounts.",
        )
    blocked = _cannot_post_now(app, creator, now)
    if blocked is not None:
        raise blocked
    options = creator.privacy_level_options(app.config.audited)
    if privacy is None or privacy not in options:
        raise ApiError(
            403, "privacy_level_option_mismatch", "privacy_level is missing or not offered to this creator."
        )
    if branded and privacy == "SELF_ONLY":
        raise ApiError(403, "privacy_level_option_mismatch", "Branded content cannot be posted as SELF_ONLY.")


def _inbox_rules(app: SandboxApp, creator: Creator, now: float) -> None:
    if creator.banned:
        raise ApiError(
            403, "spam_risk_user_banned_from_posting", "This user is banned from making new posts."
        )
    # §7.2: at most 5 shares the creator has not yet posted, in any 24 h.
    pending = sum(
        1
        for p in app.state.posts.values()
        if p.open_id == creator.open_id
        and p.mode == "inbox"
        and now - p.created_at < DAY
        and p.status not in (PUBLISH_COMPLETE, FAILED)
    )
    if pending >= app.config.pending_inbox_cap:
        raise ApiError(403, "spam_risk_too_many_pending_share", "The user has too many pending inbox shares.")


def _count_direct_post(app: SandboxApp, creator: Creator, now: float) -> None:
    app.state.direct_posts.setdefault(creator.open_id, []).append(now)
    if creator.is_unaudited(app.config.audited):
        app.state.unaudited_posters[creator.open_id] = now
    else:
        app.state.active_posters[creator.open_id] = now


def _video_post_info(body: dict[str, Any]) -> tuple[dict[str, Any], str | None, bool]:
    info = obj(body, "post_info", required=True) or {}
    privacy = string(info, "privacy_level", required=False, where="post_info")
    text(info, "title", limit=2200, where="post_info")
    for flag in (
        "disable_duet",
        "disable_stitch",
        "disable_comment",
        "brand_content_toggle",
        "brand_organic_toggle",
        "is_aigc",
    ):
        boolean(info, flag, where="post_info")
    # An out-of-range timestamp only means "first frame" (§2.3); a non-integer is a bad request.
    integer(info, "video_cover_timestamp_ms", required=False, where="post_info", bounds=INT32)
    return info, privacy, bool(info.get("brand_content_toggle"))


def _video_source(app: SandboxApp, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    source_info = obj(body, "source_info", required=True) or {}
    source = string(source_info, "source", required=True, where="source_info")
    if source == "FILE_UPLOAD":
        sizes = [
            integer(source_info, key, required=True, where="source_info") or 0
            for key in ("video_size", "chunk_size", "total_chunk_count")
        ]
        check_chunk_plan(sizes[0], sizes[1], sizes[2])
        if sizes[2] > 1 and app.quirk("multi_chunk_refused"):
            raise invalid_params("The chunk size is invalid.")
    elif source == "PULL_FROM_URL":
        url = string(source_info, "video_url", required=True, where="source_info") or ""
        if not url.strip():
            raise invalid_params("The field source_info.video_url is required.")
    else:
        raise invalid_params("source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
    return source_info, source


def _check_urls(app: SandboxApp, urls: list[str]) -> None:
    if not all(pull.is_verified(u, app.config.verified_prefixes) for u in urls):
        raise ApiError(
            403, "url_ownership_unverified", "The URL's domain or prefix is not verified for this client."
        )


def _new_post(
    app: SandboxApp,
    *,
    token: AccessToken,
    creator: Creator,
    endpoint: str,
    mode: str,
    media_type: str,
    source: str,
    post_info: dict[str, Any],
    source_info: dict[str, Any],
    is_aigc: bool,
    urls: list[str],
    now: float,
) -> Post:
    """Create and register the post; the caller holds the state lock."""
    publish_id = new_publish_id(media_type, mode, source)
    post = Post(
        publish_id=publish_id,
        open_id=creator.open_id,
        username=creator.username,
        access_token=token.token,
        mode=mode,
        media_type=media_type,
        source=source,
        endpoint=endpoint,
        post_info=post_info,
        source_info=source_info,
        is_aigc=is_aigc,
        created_at=now,
        status=PROCESSING_UPLOAD if source == "FILE_UPLOAD" else PROCESSING_DOWNLOAD,
    )
    post.history.append({"at": now, "status": post.status, "fail_reason": "", "note": "initialized"})
    stem = publish_id.replace("~", "_")
    if source == "FILE_UPLOAD":
        post.upload_id = new_upload_id()
        post.upload_token = secrets.token_urlsafe(24)
        post.upload_url = (
            f"{app.base_url}/upload/?upload_id={post.upload_id}&upload_token={post.upload_token}"
        )
        post.upload_expires_at = now + app.config.upload_url_ttl
        post.video_size = source_info["video_size"]
        post.chunk_size = source_info["chunk_size"]
        post.total_chunk_count = source_info["total_chunk_count"]
        path = app.storage / f"{stem}.bin"
        path.write_bytes(b"")
        post.files.append(MediaFile(path=path))
        app.state.uploads[post.upload_id] = publish_id
    else:
        post.files.extend(MediaFile(path=app.storage / f"{stem}.{i}.bin", url=u) for i, u in enumerate(urls))
    app.state.posts[publish_id] = post
    return post


def _init_answer(app: SandboxApp, post: Post) -> Response:
    data = {"publish_id": post.publish_id}
    if post.source == "FILE_UPLOAD":
        data["upload_url"] = post.upload_url
    if post.source == "PULL_FROM_URL":
        pull.start(app, post)
    if app.faults.take_drop_after_init():  # created and counted, but the caller never learns it
        return Response(0, abort=True)
    return ok(data)


def video_init(app: SandboxApp, req: Request) -> Response:
    """Direct Post of a video (§2.3)."""
    token = authenticate(app, req, endpoints.VIDEO_INIT, (PUBLISH,))
    body = json_body(req)
    post_info, privacy, branded = _video_post_info(body)

    def rules(creator: Creator, now: float) -> None:
        _direct_post_rules(app, creator, privacy, branded, now)

    return _video(
        app, token, body, endpoint=endpoints.VIDEO_INIT, post_info=post_info, rules=rules, direct=True
    )


def inbox_video_init(app: SandboxApp, req: Request) -> Response:
    """Upload a video to the creator's inbox as a draft (§2.4): source_info only, no caption."""
    token = authenticate(app, req, endpoints.INBOX_VIDEO_INIT, (UPLOAD,))

    def rules(creator: Creator, now: float) -> None:
        _inbox_rules(app, creator, now)

    return _video(
        app,
        token,
        json_body(req),
        endpoint=endpoints.INBOX_VIDEO_INIT,
        post_info={},
        rules=rules,
        direct=False,
    )


def _video(
    app: SandboxApp,
    token: AccessToken,
    body: dict[str, Any],
    *,
    endpoint: str,
    post_info: dict[str, Any],
    rules: Callable[[Creator, float], None],
    direct: bool,
) -> Response:
    """A video init once the endpoint's own checks passed: the creator's rules, the source, the post."""
    source_info, source = _video_source(app, body)
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        rules(creator, now)
        urls = [source_info["video_url"]] if source == "PULL_FROM_URL" else []
        _check_urls(app, urls)
        post = _new_post(
            app,
            token=token,
            creator=creator,
            endpoint=endpoint,
            mode="direct" if direct else "inbox",
            media_type="VIDEO",
            source=source,
            post_info=post_info,
            source_info=source_info,
            is_aigc=direct and bool(post_info.get("is_aigc")),
            urls=urls,
            now=now,
        )
        if direct:
            _count_direct_post(app, creator, now)
    return _init_answer(app, post)


def content_init(app: SandboxApp, req: Request) -> Response:
    """Photo post, direct or to the inbox (§2.5): PULL_FROM_URL only, 1-35 images."""
    token = authenticate(app, req, endpoints.CONTENT_INIT, (PUBLISH, UPLOAD))
    body = json_body(req)
    if string(body, "media_type", required=True) != "PHOTO":
        raise invalid_params("media_type must be PHOTO.")
    post_mode = string(body, "post_mode", required=True)
    if post_mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise invalid_params("post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
    needed = PUBLISH if post_mode == "DIRECT_POST" else UPLOAD
    if needed not in token.scopes:
        raise scope_not_authorized(needed)
    is_aigc = boolean(body, "is_aigc")
    post_info = obj(body, "post_info", required=post_mode == "DIRECT_POST") or {}
    text(post_info, "title", limit=90, where="post_info")
    text(post_info, "description", limit=4000, where="post_info")
    privacy = string(post_info, "privacy_level", required=False, where="post_info")
    for flag in ("disable_comment", "auto_add_music", "brand_content_toggle", "brand_organic_toggle"):
        boolean(post_info, flag, where="post_info")
    source_info = obj(body, "source_info", required=True) or {}
    if string(source_info, "source", required=True, where="source_info") != "PULL_FROM_URL":
        raise invalid_params("Photos can only be sent with source PULL_FROM_URL.")
    images = source_info.get("photo_images")
    if (
        not isinstance(images, list)
        or not images
        or not all(isinstance(u, str) and u.strip() for u in images)
    ):
        raise invalid_params("source_info.photo_images must be a list of 1 to 35 URLs.")
    if len(images) > MAX_PHOTOS:
        raise invalid_params("source_info.photo_images holds more than 35 URLs.")
    cover = integer(source_info, "photo_cover_index", required=True, where="source_info", bounds=INT32)
    if cover is None or not 0 <= cover < len(images):
        raise invalid_params("source_info.photo_cover_index must point at one of photo_images (from 0).")
    now = app.clock.now()
    with app.state.lock:
        creator = creator_of(app, token)
        if post_mode == "DIRECT_POST":
            _direct_post_rules(app, creator, privacy, bool(post_info.get("brand_content_toggle")), now)
        else:
            if not creator.app_version_at_least(PHOTO_INBOX_MIN_APP):
                raise ApiError(400, "app_version_check_failed", "The user's TikTok app is older than 31.8.")
            _inbox_rules(app, creator, now)
        _check_urls(app, images)
        post = _new_post(
            app,
            token=token,
            creator=creator,
            endpoint=endpoints.CONTENT_INIT,
            mode="direct" if post_mode == "DIRECT_POST" else "inbox",
            media_type="PHOTO",
            source="PULL_FROM_URL",
            post_info=post_info,
            source_info=source_info,
            is_aigc=bool(is_aigc),
            urls=list(images),
            now=now,
        )
        if post_mode == "DIRECT_POST":
            _count_direct_post(app, creator, now)
    return _init_answer(app, post)


def _own_post(app: SandboxApp, token: AccessToken, body: dict[str, Any]) -> Post:
    publish_id = string(body, "publish_id", required=True)
    post = app.state.posts.get(publish_id or "")
    if post is None:
        raise ApiError(400, "invalid_publish_id", "The publish_id does not exist.")
    # Any token of the same creator may ask (a refreshed token included); another creator may not.
    if post.open_id != token.open_id:
        raise ApiError(
            400, "token_not_authorized_for_specified_publish_id", "This token may not access this publish_id."
        )
    return post


def status_fetch(app: SandboxApp, req: Request) -> Response:
    token = authenticate(app, req, endpoints.STATUS_FETCH, (UPLOAD, PUBLISH))
    body = json_body(req)
    with app.state.lock:
        post = _own_post(app, token, body)
        data: dict[str, Any] = {"status": post.status}
        if post.status == FAILED:
            data["fail_reason"] = post.fail_reason
        # The misspelled key is TikTok's own (§2.6).
        public = post.publicly_available and not app.quirk("no_public_post_id")
        data["publicaly_available_post_id"] = list(post.post_ids) if public else []
        if post.source == "FILE_UPLOAD":
            data["uploaded_bytes"] = post.uploaded_bytes
        else:
            data["downloaded_bytes"] = post.downloaded_bytes
    return ok(data)


def cancel(app: SandboxApp, req: Request) -> Response:
    """Best-effort cancel (§2.7): only while bytes are still being transferred."""
    token = authenticate(app, req, endpoints.CANCEL, (UPLOAD, PUBLISH))
    body = json_body(req)
    with app.state.lock:
        post = _own_post(app, token, body)
        if post.media_complete or post.status not in (PROCESSING_DOWNLOAD, PROCESSING_UPLOAD):
            raise ApiError(400, "publish_not_cancellable", "The post is already processing or finished.")
        lifecycle.fail(app, post, "publish_cancelled")
    return json_response(200, envelope(None))


# /v2/user/info/ fields and the scope each needs (TikTok's Get User Info reference).
USER_FIELDS = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "username": "user.info.profile",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}

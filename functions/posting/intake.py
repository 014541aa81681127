"""From an S3 object or an API request to a post record and its workflow execution.

Bad input never reaches TikTok: an invalid manifest, a missing account or a bare video without saved
preferences is recorded as a FAILED post naming the problem. A valid post gets a RECEIVED record and one
execution named after the post, so a duplicate event starts nothing new.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.posting.manifest import (
    ACCOUNT_ID_PATTERN,
    POSTS_PREFIX,
    ManifestError,
    PostManifest,
    bare_video_manifest,
    check_publish_at,
    parse_manifest,
    resolve_media_key,
)
from functions.posting.records import (
    PostOrigin,
    failed_post,
    new_post,
    post_id_for_object,
    post_id_for_request,
)
from functions.store.errors import InvalidJsonError, NotFoundError, ObjectTooLargeError

if TYPE_CHECKING:
    from functions.store.accounts import Account, AccountStore
    from functions.store.media import MediaStore
    from functions.store.posts import PostStore

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")
MANIFEST_SUFFIX = ".json"
# Photos TikTok takes, and those the repair step turns into JPEG: all are posted through a manifest.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".webp", ".png", ".heic", ".heif", ".avif", ".gif", ".bmp")
# Objects under a media/ folder are parts of manifests (photos, videos named by a manifest), never posts.
MEDIA_FOLDER = "media"


@dataclass(frozen=True)
class Intake:
    post: dict[str, Any] | None  # None: the object is not a post (media for a manifest, a folder marker)
    started: bool = False
    note: str = ""
    duplicate: bool = False  # the post existed already: this delivery or request made nothing new


StartExecution = Callable[[str], None]  # post_id -> start the workflow named after it (idempotent)
PostEvent = Callable[[dict[str, Any]], None]  # emits "Post Failed" for a post rejected at intake


class PostIntake:
    def __init__(
        self,
        *,
        posts: PostStore,
        accounts: AccountStore,
        media: MediaStore,
        start_execution: StartExecution,
        post_failed: PostEvent,
    ) -> None:
        self._posts = posts
        self._accounts = accounts
        self._media = media
        self._start = start_execution
        self._post_failed = post_failed

    def from_object(self, *, bucket: str, key: str, version_id: str | None, now: int) -> Intake:
        parts = key.split("/")
        if not key.startswith(POSTS_PREFIX) or len(parts) < 3 or key.endswith("/"):
            return Intake(None, note="not a post: outside posts/<account>/")
        if MEDIA_FOLDER in parts[2:-1]:
            return Intake(None, note="media for a manifest")
        account_id = parts[1]
        kind = _kind_of(key)
        if kind == "photo":
            return Intake(None, note="a photo: photos are posted through a manifest")
        post_id = post_id_for_object(bucket, key, version_id)

        origin = PostOrigin(post_id, account_id, "s3", bucket, key)

        def record(manifest: PostManifest | None, media_keys: list[str]) -> dict[str, Any]:
            post = new_post(origin, manifest=manifest, media_keys=media_keys, now=now)
            post["media"]["origin_version_id"] = version_id
            return post

        base = record(None, [])
        try:
            if kind == "unknown":
                raise ManifestError(
                    [
                        f"{posixpath.basename(key)} is neither a video (.mp4, .mov, .webm) nor a manifest (.json)"
                    ]
                )
            account = self._account(account_id)
            if kind == "manifest":
                raw = self._media.get_json(bucket, key, version_id)
                manifest = parse_manifest(raw if isinstance(raw, dict) else json.dumps(raw))
                if manifest.account not in (None, account_id):
                    raise ManifestError(
                        [
                            f"account: the manifest names {manifest.account!r} but lies under "
                            f"posts/{account_id}/"
                        ]
                    )
            else:
                manifest = bare_video_manifest(key, account.preferences)
            check_publish_at(manifest, now)
            keys = [resolve_media_key(key, name, account_id) for name in manifest.media_keys()]
        except (ManifestError, InvalidJsonError, ObjectTooLargeError, NotFoundError) as exc:
            return self._reject(base, "invalid_manifest", str(exc), now)
        except _NoAccountError as exc:
            return self._reject(base, "account_not_connected", str(exc), now)
        post = record(manifest, keys)
        if kind == "video":
            post["media"]["version_ids"] = {key: version_id}
        return self._accept(post, now)

    def from_request(self, *, bucket: str, body: dict[str, Any], now: int) -> Intake:
        """POST /posts: raises ManifestError for a body that is not a post at all (the API answers 400);
        a valid manifest for a missing account is recorded as a failed post, like an S3 one."""
        manifest = parse_manifest(body)
        if manifest.account is None:
            raise ManifestError(["account: required in POST /posts (the connected account to post to)"])
        account_id = manifest.account
        post_id = post_id_for_request(account_id, body)
        check_publish_at(manifest, now)
        keys = [resolve_media_key("", name, account_id) for name in manifest.media_keys()]
        post = new_post(
            PostOrigin(post_id, account_id, "api", bucket, None), manifest=manifest, media_keys=keys, now=now
        )
        try:
            self._account(account_id)
        except _NoAccountError as exc:
            return self._reject(post, "account_not_connected", str(exc), now)
        return self._accept(post, now)

    def _account(self, account_id: str) -> Account:
        if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
            raise _NoAccountError(f"{account_id!r} is not a valid account name")
        account = self._accounts.get(account_id)
        if account is None:
            raise _NoAccountError(
                f"no connected account {account_id!r}: connect it at /connect?alias={account_id}"
            )
        return account

    def _reject(self, base: dict[str, Any], reason: str, detail: str, now: int) -> Intake:
        post = failed_post(base, reason=reason, detail=detail, now=now)
        created = self._posts.create(post, now)
        if created:
            self._post_failed(post)
        current = self._posts.get(post["post_id"]) or post
        return Intake(current, started=False, note=detail, duplicate=not created)

    def _accept(self, post: dict[str, Any], now: int) -> Intake:
        created = self._posts.create(post, now)  # False on a duplicate: the existing record decides below
        current = self._posts.get(post["post_id"]) or post
        if current.get("status") != "RECEIVED":
            return Intake(current, started=False, note="already under way", duplicate=not created)
        # Also for a duplicate still RECEIVED: the first delivery may have died before starting it. The
        # execution is named after the post, so this never starts a second one.
        self._start(post["post_id"])
        return Intake(
            current, started=created, note="" if created else "already under way", duplicate=not created
        )


class _NoAccountError(Exception):
    pass


def _kind_of(key: str) -> str:
    lower = key.lower()
    if lower.endswith(MANIFEST_SUFFIX):
        return "manifest"
    if lower.endswith(VIDEO_SUFFIXES):
        return "video"
    if lower.endswith(PHOTO_SUFFIXES):
        return "photo"
    return "unknown"

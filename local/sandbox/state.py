"""The sandbox's in-memory model: authorisations, tokens, posts, counters. One lock guards it all."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.sandbox.creators import Creator
from local.sandbox.limits import SlidingWindow

# docs/reference/tiktok-api.md §5.1
PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"


@dataclass
class AuthCode:
    code: str
    client_key: str
    open_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    expires_at: float
    code_challenge: str | None = None
    used: bool = False


@dataclass
class Grant:
    """One consent of one creator to the client; every token descends from one."""

    grant_id: str
    open_id: str
    scopes: tuple[str, ...]
    refresh_expires_at: float  # fixed at the first issue: rotated refresh tokens inherit it
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant_id: str
    open_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    open_id: str
    expires_at: float
    rotated: bool = False


@dataclass
class PutRecord:
    """What one PUT to an upload URL carried and how it was answered."""

    at: float
    headers: dict[str, str]
    status: int
    outcome: str
    bytes_stored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "headers": self.headers,
            "status": self.status,
            "outcome": self.outcome,
            "bytes_stored": self.bytes_stored,
        }


@dataclass
class MediaFile:
    """One stored media file: the uploaded video, a pulled video, or one pulled photo."""

    path: Path
    url: str | None = None
    size: int = 0
    sha256: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "bytes": self.size, "sha256": self.sha256, "error": self.error}


@dataclass
class Post:
    publish_id: str
    open_id: str
    username: str
    access_token: str
    mode: str  # "direct" | "inbox"
    media_type: str  # "VIDEO" | "PHOTO"
    source: str  # "FILE_UPLOAD" | "PULL_FROM_URL"
    endpoint: str
    post_info: dict[str, Any]
    source_info: dict[str, Any]
    is_aigc: bool
    created_at: float
    status: str
    fail_reason: str = ""
    # FILE_UPLOAD
    upload_id: str = ""
    upload_token: str = ""
    upload_url: str = ""
    upload_expires_at: float = 0.0
    video_size: int = 0
    chunk_size: int = 0
    total_chunk_count: int = 0
    uploaded_bytes: int = 0
    chunks_received: int = 0
    put_in_progress: bool = False
    puts: list[PutRecord] = field(default_factory=list)
    hasher: Any = field(default_factory=hashlib.sha256, repr=False)
    # PULL_FROM_URL
    downloaded_bytes: int = 0
    media_complete: bool = False  # every byte is in: processing has begun
    files: list[MediaFile] = field(default_factory=list)
    probe: list[dict[str, Any]] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    public_at: list[float] = field(default_factory=list)  # when each of post_ids was minted
    publicly_available: bool = False
    completions: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def publish_type(self) -> str:
        # §6.3 names only INBOX_SHARE; DIRECT_PUBLISH is what sample payloads in the wild show.
        return "INBOX_SHARE" if self.mode == "inbox" else "DIRECT_PUBLISH"

    def set_status(self, status: str, now: float, note: str = "", fail_reason: str = "") -> None:
        self.status = status
        if fail_reason:
            self.fail_reason = fail_reason
        self.history.append({"at": now, "status": status, "fail_reason": fail_reason, "note": note})

    def chunk_range(self, index: int) -> tuple[int, int]:
        """Inclusive byte range of chunk `index` under the declared plan (the last absorbs the rest)."""
        start = index * self.chunk_size
        end = self.video_size - 1 if index == self.total_chunk_count - 1 else start + self.chunk_size - 1
        return start, end

    def to_dict(self) -> dict[str, Any]:
        sha = self.files[0].sha256 if self.media_type == "VIDEO" and self.files else ""
        return {
            "publish_id": self.publish_id,
            "creator_username": self.username,
            "open_id": self.open_id,
            "mode": self.mode,
            "media_type": self.media_type,
            "endpoint": self.endpoint,
            "publish_type": self.publish_type,
            "post_info": self.post_info,
            "source_info": self.source_info,
            "source": self.source,
            "is_aigc": self.is_aigc,
            "created_at": self.created_at,
            "status": self.status,
            "fail_reason": self.fail_reason,
            "bytes_received": sum(f.size for f in self.files),
            "sha256": sha,
            "files": [f.to_dict() for f in self.files],
            "upload": {
                "upload_url": self.upload_url,
                "expires_at": self.upload_expires_at,
                "video_size": self.video_size,
                "chunk_size": self.chunk_size,
                "total_chunk_count": self.total_chunk_count,
                "uploaded_bytes": self.uploaded_bytes,
                "chunks_received": self.chunks_received,
                "puts": [p.to_dict() for p in self.puts],
            }
            if self.source == "FILE_UPLOAD"
            else None,
            "downloaded_bytes": self.downloaded_bytes,
            "probe": self.probe,
            "post_ids": self.post_ids,
            "publicly_available": self.publicly_available,
            "completions": self.completions,
            "history": self.history,
        }


@dataclass
class ElsewhereVideo:
    """A video the creator posted without this client (the TikTok app, another app), made by
    POST /_sandbox/creators/<username>/videos. Only PUBLIC_TO_EVERYONE ones reach the Display API."""

    video_id: str
    open_id: str
    username: str
    title: str
    description: str
    privacy_level: str
    created_at: float
    duration: int


@dataclass
class SandboxState:
    creators: dict[str, Creator] = field(default_factory=dict)  # by username
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)  # by publish_id, in creation order
    uploads: dict[str, str] = field(default_factory=dict)  # upload_id -> publish_id
    elsewhere_videos: list[ElsewhereVideo] = field(default_factory=list)
    # Direct Post inits per open_id (24 h cap, §7.2) and when each open_id last posted directly
    # through unaudited rules (the 5-user cap).
    direct_posts: dict[str, list[float]] = field(default_factory=dict)
    unaudited_posters: dict[str, float] = field(default_factory=dict)
    active_posters: dict[str, float] = field(default_factory=dict)
    rate: SlidingWindow = field(default_factory=SlidingWindow)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (token, path)
    responses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (path, status)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def creator_by_open_id(self, open_id: str) -> Creator | None:
        return next((c for c in self.creators.values() if c.open_id == open_id), None)


def clear_state(state: SandboxState) -> None:
    """Empty everything in place (keeping the lock), for POST /_sandbox/reset."""
    with state.lock:
        state.creators.clear()
        state.codes.clear()
        state.grants.clear()
        state.access_tokens.clear()
        state.refresh_tokens.clear()
        state.posts.clear()
        state.uploads.clear()
        state.elsewhere_videos.clear()
        state.direct_posts.clear()
        state.unaudited_posters.clear()
        state.active_posters.clear()
        state.rate.clear()
        state.calls.clear()
        state.responses.clear()

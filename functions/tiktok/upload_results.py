"""What a chunk upload reports (UploadResult), where a new attempt starts (resume_offset), and a network
failure told without the upload URL's secret query (functions/tiktok/upload.py uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from functions.tiktok.chunks import ChunkPlan


@dataclass(frozen=True)
class UploadResult:
    bytes_acknowledged: int  # bytes TikTok confirmed, from byte 0; where the next attempt resumes
    complete: bool
    puts: int
    retries: int
    stopped_early: bool = False  # True when it stopped between chunks for the deadline
    cancelled: bool = False  # True when `before_final_chunk` refused the final chunk: it was never sent


def resume_offset(
    plan: ChunkPlan, *, stored_offset: int | None = None, uploaded_bytes: int | None = None
) -> int:
    """Where a new attempt should start, from what we know of TikTok's progress.

    There is no documented way to ask the upload URL for its progress without sending a chunk. TikTok's
    status fetch reports `uploaded_bytes`, which is authoritative when present; otherwise the offset we
    stored after the last acknowledged chunk. Either is rounded down to a chunk boundary, and if TikTok
    holds something else the first PUT gets 416 with its real count, and the uploader realigns.
    """
    known = uploaded_bytes if uploaded_bytes is not None else stored_offset
    return plan.boundary_at_or_below(known or 0)


class UploadTransportError(Exception):
    """A network failure of a chunk PUT, with the upload URL's secret query removed from the text."""


def scrubbed(exc: BaseException, url: str) -> UploadTransportError:
    text = str(exc)
    query = urlsplit(url).query
    for secret in (url, query):
        if secret:
            text = text.replace(secret, "[redacted]")
    return UploadTransportError(f"{type(exc).__name__}: {text}")

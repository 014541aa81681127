"""FILE_UPLOAD chunk arithmetic (docs/reference/tiktok-api.md §3.1), checked at init so a 4 GB video never
has to be
sent to be refused. "MB" is read as 2^20 bytes: the docs call 4,194,304 bytes "4 MB"."""

from __future__ import annotations

from local.sandbox.errors import ApiError, invalid_params

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_FINAL_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO = 4 * 1024 * MB  # §3.5: up to 4 GB


def check_chunk_plan(video_size: int, chunk_size: int, total_chunk_count: int) -> None:
    """Raise TikTok's 400 for a plan it would refuse; return quietly for one it accepts."""
    problem = chunk_plan_problem(video_size, chunk_size, total_chunk_count)
    if problem:
        raise problem


def chunk_plan_problem(  # noqa: PLR0911 - one return per documented rule
    video_size: int, chunk_size: int, total_chunk_count: int
) -> ApiError | None:
    if video_size <= 0:
        return invalid_params("The video size is invalid.")
    if video_size > MAX_VIDEO:
        return invalid_params("The video size is larger than 4 GB.")
    if chunk_size <= 0:
        return invalid_params("The chunk size is invalid")
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return invalid_params("The total chunk count is invalid")
    if video_size < MIN_CHUNK:
        # Under 5 MB: one piece, chunk_size equal to the whole video.
        if chunk_size != video_size or total_chunk_count != 1:
            return invalid_params("The chunk size is invalid")
        return None
    if chunk_size < MIN_CHUNK or chunk_size > MAX_CHUNK:
        return invalid_params("The chunk size is invalid")
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        # "Videos with a total size greater than 64 MB must be uploaded in multiple chunks."
        return invalid_params("The chunk size is invalid")
    # floor(), never ceil(): the trailing bytes ride on the last chunk.
    if total_chunk_count != video_size // chunk_size:
        return invalid_params("The total chunk count is invalid")
    last = video_size - (total_chunk_count - 1) * chunk_size
    if last > MAX_FINAL_CHUNK:
        return invalid_params("The chunk size is invalid")
    return None

"""Everything that speaks TikTok: the HTTP client, chunk uploads, models, errors, chunk plan, signatures.

Only light, pure-stdlib names are re-exported here so `import functions.tiktok` stays cheap on a cold
start. Import the heavy parts from their modules where they are needed:
`functions.tiktok.client.TikTokClient`, `functions.tiktok.upload.ChunkUploader`, `functions.tiktok.models`.
"""

from functions.tiktok.chunks import DEFAULT_CHUNK_SIZE, MB, TIKTOK_RULES, ChunkPlan, ChunkRules, plan_chunks
from functions.tiktok.error_codes import ErrorKind
from functions.tiktok.errors import (
    OAuthError,
    TikTokError,
    TikTokQuotaError,
    TikTokReauthError,
    TikTokRetryableError,
    TikTokTerminalError,
    UnknownOutcomeError,
    UploadError,
    UploadOffsetMismatchError,
    UploadRejectedError,
    UploadRetriesExhaustedError,
    UploadSourceError,
    UploadTaskMissingError,
    UploadUrlExpiredError,
    error_from_envelope,
)
from functions.tiktok.fail_reasons import FailReason, describe_fail_reason
from functions.tiktok.signature import SignatureCheck, sign, verify

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MB",
    "TIKTOK_RULES",
    "ChunkPlan",
    "ChunkRules",
    "ErrorKind",
    "FailReason",
    "OAuthError",
    "SignatureCheck",
    "TikTokError",
    "TikTokQuotaError",
    "TikTokReauthError",
    "TikTokRetryableError",
    "TikTokTerminalError",
    "UnknownOutcomeError",
    "UploadError",
    "UploadOffsetMismatchError",
    "UploadRejectedError",
    "UploadRetriesExhaustedError",
    "UploadSourceError",
    "UploadTaskMissingError",
    "UploadUrlExpiredError",
    "describe_fail_reason",
    "error_from_envelope",
    "plan_chunks",
    "sign",
    "verify",
]

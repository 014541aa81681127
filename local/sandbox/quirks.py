"""Behaviours reported from real integrations where TikTok differs from its docs
(docs/reference/tiktok-in-the-field.md), each switched on by name. Off, the sandbox follows the docs.

`python -m local.sandbox --quirks content_range_count,multi_chunk_refused`, `SandboxConfig(quirks=[...])`,
or `EmbeddedSystem(sandbox_config={"quirks": [...]})`.
"""

from __future__ import annotations

from collections.abc import Iterable

QUIRKS: dict[str, str] = {
    "content_range_count": "a chunk's answer gives Content-Range 'bytes 0-N/TOTAL' with N the byte count, "
    "not the index of the last byte held (one more than RFC 9110 reads it)",
    "multi_chunk_refused": "a FILE_UPLOAD init declaring more than one chunk is refused with 400 "
    "invalid_params 'The chunk size is invalid'",
    "final_chunk_repeat_404": "a chunk sent again after the upload completed gets 404 (no upload task), "
    "not 416",
    "no_public_post_id": "publicaly_available_post_id is never sent, neither in the status nor in webhooks",
    "unaudited_lists_public": "creator_info of an unaudited app still lists PUBLIC_TO_EVERYONE (the init "
    "is refused with unaudited_client_can_only_post_to_private_accounts)",
    "direct_complete_webhook": "post.publish.complete is sent for direct posts too (documented for inbox "
    "drafts only)",
}


def check_quirks(names: Iterable[str]) -> list[str]:
    """The names, checked: an unknown one is an error that lists the known ones."""
    found = list(dict.fromkeys(names))
    unknown = sorted(set(found) - set(QUIRKS))
    if unknown:
        raise ValueError(f"unknown quirk(s): {', '.join(unknown)}; known: {', '.join(QUIRKS)}")
    return found

"""Identifiers shaped like TikTok's examples (docs/reference/tiktok-api.md §8): log ids, tokens, publish ids,
codes."""

from __future__ import annotations

import secrets
import string
import time

_DIGITS = string.digits


def new_log_id() -> str:
    # A timestamp followed by upper-case hex, like 202210112248442CB9319E1FB30C1073F3.
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def new_token(prefix: str) -> str:
    """`act.` / `rft.` followed by an opaque string; long enough to be unguessable."""
    return f"{prefix}{secrets.token_urlsafe(40)}"


def new_auth_code() -> str:
    # Real codes carry characters that must be URL-decoded (`*`, `!`); keeping them here makes a
    # client that forgets to decode fail against the sandbox as it would against TikTok.
    return f"{secrets.token_urlsafe(24)}*0!{secrets.token_urlsafe(12)}"


def new_number(digits: int = 18) -> str:
    return "".join(secrets.choice(_DIGITS) for _ in range(digits)).lstrip("0") or "1"


def new_publish_id(media: str, mode: str, source: str) -> str:
    """`v_pub_file~v2-1.<n>`, `v_pub_url~v2.<n>`, `v_inbox_file~v2.<n>`, `p_pub_url~v2.<n>`, ..."""
    kind = "v" if media == "VIDEO" else "p"
    where = "pub" if mode == "direct" else "inbox"
    how = "file" if source == "FILE_UPLOAD" else "url"
    version = "v2-1" if (kind, where, how) == ("v", "pub", "file") else "v2"
    return f"{kind}_{where}_{how}~{version}.{new_number()}"


def new_upload_id() -> str:
    return new_number(19)


def new_post_id() -> int:
    # 19 digits that still fit an int64 (§2.6 types the ids list<int64>).
    return 10**18 + secrets.randbelow(8 * 10**18)

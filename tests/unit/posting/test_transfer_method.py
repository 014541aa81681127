"""Which TikTok refusals concern the way a video is sent (and so allow the other way) and which the post."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from functions.posting.transfer_method import both_refused_reason, fallback_for, refusal, refuses_method
from functions.tiktok.errors import TikTokError

pytestmark = pytest.mark.unit

CHUNKS = TikTokError("invalid_params", "The chunk size is invalid.", http_status=400)
UNVERIFIED = TikTokError("url_ownership_unverified", "The URL is not verified.", http_status=403)
OTHER_PARAMS = TikTokError("invalid_params", "The title is too long.", http_status=400)
SPAM = TikTokError("spam_risk_too_many_posts", "Too many posts.", http_status=403)


def wiring(media_base_url: str = "https://media.example.com") -> Any:
    return SimpleNamespace(settings=SimpleNamespace(media_base_url=media_base_url))


def manifest(kind: str = "video") -> Any:
    return SimpleNamespace(kind=kind)


@pytest.mark.parametrize(
    ("source", "error", "expected"),
    [
        ("FILE_UPLOAD", CHUNKS, "PULL_FROM_URL"),
        ("PULL_FROM_URL", UNVERIFIED, "FILE_UPLOAD"),
        ("FILE_UPLOAD", OTHER_PARAMS, None),  # a bad post: the other way would be refused as well
        ("FILE_UPLOAD", SPAM, None),
        ("PULL_FROM_URL", CHUNKS, None),  # not about a pull
        ("FILE_UPLOAD", UNVERIFIED, None),
    ],
)
def test_only_a_refusal_of_the_method_has_a_fallback(
    source: str, error: TikTokError, expected: str | None
) -> None:
    assert fallback_for(wiring(), manifest(), source, error) == expected
    assert refuses_method(error, source) is (expected is not None)


def test_photos_and_deployments_without_a_media_domain_have_none() -> None:
    assert fallback_for(wiring(), manifest("photo"), "PULL_FROM_URL", UNVERIFIED) is None
    assert fallback_for(wiring(media_base_url=""), manifest(), "FILE_UPLOAD", CHUNKS) is None


def test_both_refusals_are_named_with_tiktoks_words() -> None:
    reason = both_refused_reason([refusal("PULL_FROM_URL", UNVERIFIED), refusal("FILE_UPLOAD", CHUNKS)])
    assert "PULL_FROM_URL: url_ownership_unverified (The URL is not verified.)" in reason
    assert "FILE_UPLOAD: invalid_params (The chunk size is invalid.)" in reason
    assert "Verify the media domain" in reason

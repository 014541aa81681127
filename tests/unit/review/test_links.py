"""Review links: one post, one expiry, one purpose; any change to the link breaks it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.review.links import LinkError, sign, url_of, verify

KEY = b"k" * 64
POST = "0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000


def test_a_signed_link_names_its_post_and_expiry_and_nothing_else() -> None:
    link = sign(KEY, POST, NOW + 3600)
    assert link.token.startswith(f"{POST}.{NOW + 3600}.")
    assert verify(KEY, link.token, NOW) == link
    assert url_of("https://api.example.com/review/", link) == f"https://api.example.com/review/{link.token}"
    # The only parts are the post id, the expiry and a 256-bit signature.
    assert len(link.token.split(".")[2]) == 43


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(POST, "f" + POST[1:]),  # another post
        lambda t: t.replace(f".{NOW + 3600}.", f".{NOW + 7200}."),  # a later expiry
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a changed signature
        lambda t: t + "x",
        lambda t: t.replace(".", "-", 1),
        lambda _t: "",
        lambda _t: "../../etc/passwd",
    ],
)
def test_a_changed_link_is_refused_as_invalid(tamper: object) -> None:
    token = sign(KEY, POST, NOW + 3600).token
    with pytest.raises(LinkError) as info:
        verify(KEY, tamper(token), NOW)  # type: ignore[operator]
    assert not info.value.expired
    assert str(info.value) == "this review link is not valid"


def test_a_link_signed_with_another_key_is_invalid() -> None:
    token = sign(b"o" * 64, POST, NOW + 3600).token
    with pytest.raises(LinkError, match="not valid"):
        verify(KEY, token, NOW)


def test_a_genuine_link_expires_at_its_time() -> None:
    token = sign(KEY, POST, NOW + 10).token
    verify(KEY, token, NOW + 9)
    with pytest.raises(LinkError) as info:
        verify(KEY, token, NOW + 10)
    assert info.value.expired and info.value.post_id == POST


def test_short_keys_and_odd_post_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign(b"short", POST, NOW)
    with pytest.raises(ValueError, match="post id"):
        sign(KEY, "a.b", NOW)


@given(st.text(max_size=200))
def test_any_text_is_a_link_or_a_link_error(token: str) -> None:
    try:
        verify(KEY, token, NOW)
    except LinkError:
        return
    raise AssertionError("a random text verified")

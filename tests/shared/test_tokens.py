"""Signed link tokens: round trip, tampering refused."""

import pytest

from shared.tokens import TokenInvalid, sign_token, verify_token


def test_round_trip() -> None:
    token = sign_token({"k": "c", "p": "p1", "l": "https://shop.example/x"}, "s3cret")
    assert verify_token(token, "s3cret")["l"] == "https://shop.example/x"


@pytest.mark.parametrize(
    "mutate", [lambda t: t[:-2] + "AA", lambda t: "x" + t, lambda t: t.split(".")[0], lambda t: ""]
)
def test_tampered_tokens_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    token = sign_token({"k": "c", "p": "p1", "l": "https://shop.example/x"}, "s3cret")
    with pytest.raises(TokenInvalid):
        verify_token(mutate(token), "s3cret")


def test_other_secret_is_refused() -> None:
    with pytest.raises(TokenInvalid):
        verify_token(sign_token({"p": "1"}, "a"), "b")

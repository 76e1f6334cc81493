"""HMAC-signed tokens for email open, click and unsubscribe links (signed by campaigns, read by tracking)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson


class TokenInvalid(ValueError):
    """The token was tampered with or is malformed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(payload: dict[str, Any], secret: str) -> str:
    """`<payload>.<signature>`, both base64url; the payload is compact JSON."""
    body = _b64(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18]
    return f"{body}.{_b64(signature)}"


def verify_token(token: str, secret: str) -> dict[str, Any]:
    """The payload of a token whose signature is right, else `TokenInvalid`."""
    body, _, signature = token.partition(".")
    if not body or not signature or len(token) > 4096:
        raise TokenInvalid("malformed token")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:18]
    try:
        if not hmac.compare_digest(_unb64(signature), expected):
            raise TokenInvalid("bad signature")
        payload = orjson.loads(_unb64(body))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise TokenInvalid("malformed token") from exc
    if not isinstance(payload, dict):
        raise TokenInvalid("malformed token")
    return payload

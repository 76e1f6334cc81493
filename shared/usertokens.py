"""User tokens: short-lived JWTs (EdDSA over Ed25519) that the console signs for the person behind a forwarded
request; the services check them with the console's public key and enforce the role themselves."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ISSUER = "tessera-console"
AUDIENCE = "tessera"
ALGORITHM = "EdDSA"
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 10  # clocks of the console's and a service's host may differ a little
ROLES = ("analyst", "marketer", "admin")


class UserTokenInvalid(ValueError):
    """The token is malformed, forged, expired, or not meant for the services; the message says which."""


def generate_signing_key() -> str:
    """A new Ed25519 private key, PEM (PKCS #8)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def read_pem(text: str) -> str:
    """A PEM as given in a setting: real newlines, or `\\n` escapes (a one-line `.env` value)."""
    return text.replace("\\n", "\n").strip() + "\n"


def public_key_pem(private_pem: str) -> str:
    """The public half of a PEM private key, PEM (SubjectPublicKeyInfo)."""
    key = _private_key(private_pem)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public.decode()


def load_or_create_signing_key(path: Path) -> str:
    """The private key kept at `path`, generated (owner-only file) when there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            return path.read_text()
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_signing_key())
    return path.read_text()


def _private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(read_pem(pem).encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the console's signing key must be an Ed25519 key")
    return key


class UserTokenSigner:
    """Signs user tokens with the console's private key."""

    def __init__(self, private_pem: str, *, ttl_seconds: int = MAX_LIFETIME_SECONDS) -> None:
        if not 0 < ttl_seconds <= MAX_LIFETIME_SECONDS:
            raise ValueError(f"a user token lives at most {MAX_LIFETIME_SECONDS} s")
        self._key = _private_key(private_pem)
        self._ttl = ttl_seconds

    def sign(self, *, user_id: str, email: str, role: str, now: float | None = None) -> str:
        """A token for one user: sub, email, role, iat, exp, iss, aud."""
        issued = int(time.time() if now is None else now)
        claims = {"sub": user_id, "email": email, "role": role, "iat": issued, "exp": issued + self._ttl,
                  "iss": ISSUER, "aud": AUDIENCE}  # fmt: skip
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class UserTokenVerifier:
    """Checks user tokens with the console's public key."""

    def __init__(self, public_pem: str) -> None:
        key = serialization.load_pem_public_key(read_pem(public_pem).encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the console's public key must be an Ed25519 key")
        self._key = key

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token, else `UserTokenInvalid` saying why."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "role", "iat", "exp", "iss", "aud"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError as exc:
            raise UserTokenInvalid("the user token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise UserTokenInvalid(f"the user token is not valid ({type(exc).__name__})") from exc
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS or claims["iat"] > time.time() + LEEWAY_SECONDS:
            raise UserTokenInvalid("the user token lives longer than the console issues them")
        if claims["role"] not in ROLES or not isinstance(claims["sub"], str):
            raise UserTokenInvalid("the user token names no known role")
        return claims


def looks_like_token(credential: str) -> bool:
    """True for a JWT (three dot-separated parts); API keys have no dots."""
    return credential.count(".") == 2

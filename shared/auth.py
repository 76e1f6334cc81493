"""API keys with roles (admin, marketer, analyst read-only); keys are only ever held as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi import Request

from shared.config import ApiKeySpec, Role
from shared.errors import Forbidden, Unauthorized

ROLE_RANK: dict[str, int] = {"analyst": 0, "marketer": 1, "admin": 2}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key, the only form in which keys are stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(prefix: str) -> str:
    """A new random key with a readable prefix (`tsk_…` API keys, `twk_…` write keys)."""
    return f"{prefix}_{secrets.token_urlsafe(24)}"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's name and role."""

    name: str
    role: Role

    def can(self, role: Role) -> bool:
        """True when this principal's role is at least `role`."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class KeyRing:
    """The API keys a service accepts, by hash."""

    def __init__(self, admin_key: str | None, specs: Iterable[ApiKeySpec]) -> None:
        self._by_hash: dict[str, Principal] = {s.sha256: Principal(s.name, s.role) for s in specs}
        if admin_key:
            self._by_hash[hash_key(admin_key)] = Principal("admin", "admin")

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a presented key, compared in constant time."""
        digest = hash_key(key)
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        return None


def presented_key(request: Request) -> str | None:
    """The API key from `Authorization: Bearer …` or `X-API-Key`."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def authenticate(request: Request) -> Principal:
    """The caller's principal, or 401."""
    key = presented_key(request)
    if not key:
        raise Unauthorized("An API key is required (Authorization: Bearer <key> or X-API-Key).")
    principal = request.app.state.keyring.authenticate(key)
    if principal is None:
        raise Unauthorized("The API key is not valid.")
    return principal


def require_role(role: Role) -> Callable[[Request], Principal]:
    """A dependency that lets through callers whose role is at least `role`."""

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if not principal.can(role):
            raise Forbidden(f"This needs the {role} role; the key has the {principal.role} role.")
        return principal

    return dependency


def authorize(request: Request) -> Principal:
    """Router-wide rule: analysts may read; writing needs a marketer or admin key."""
    return require_role("analyst" if request.method in READ_METHODS else "marketer")(request)

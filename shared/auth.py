"""Who is calling: an API key with a role (admin, marketer, analyst read-only), kept only as SHA-256, from the
environment or looked up at the console; or a console user's short-lived token. Every service enforces roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx
import structlog
from fastapi import Request

from shared.config import ApiKeySpec, CommonSettings, Role
from shared.errors import Forbidden, Unauthorized, Unavailable
from shared.usertokens import UserTokenInvalid, UserTokenVerifier, looks_like_token

ROLE_RANK: dict[str, int] = {"analyst": 0, "marketer": 1, "admin": 2}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_CREDENTIAL_LENGTH = 4096
CACHE_LIMIT = 10_000


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key, the only form in which keys are stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(prefix: str) -> str:
    """A new random key with a readable prefix (`tsk_…` API keys, `twk_…` write keys)."""
    return f"{prefix}_{secrets.token_urlsafe(24)}"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key (its name and role) or a console user (`user_id` set)."""

    name: str
    role: Role
    user_id: str | None = None

    def can(self, role: Role) -> bool:
        """True when this principal's role is at least `role`."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def actor(self) -> str:
        """How logs name the caller: `user:<id>` or `key:<name>` (never an e-mail address)."""
        return f"user:{self.user_id}" if self.user_id else f"key:{self.name}"


@dataclass(frozen=True, slots=True)
class ConsoleLink:
    """Where the console answers questions about its API keys, and the secret its internal API wants."""

    url: str
    secret: str
    cache_seconds: float = 30.0


class KeyRing:
    """The credentials a service accepts: keys from the environment (by hash), keys the console issued (asked over
    HTTP, answers cached for `cache_seconds`, negative ones too) and user tokens the console signed."""

    def __init__(
        self,
        admin_key: str | None,
        specs: Iterable[ApiKeySpec],
        *,
        console: ConsoleLink | None = None,
        public_key: str = "",
    ) -> None:
        self._by_hash: dict[str, Principal] = {s.sha256: Principal(s.name, s.role) for s in specs}
        if admin_key:
            self._by_hash[hash_key(admin_key)] = Principal("admin", "admin")
        self._console = console
        self._verifier = UserTokenVerifier(public_key) if public_key.strip() else None
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self._client: httpx.AsyncClient | None = None

    def authenticate(self, key: str) -> Principal | None:
        """The principal for a key from the environment, compared in constant time."""
        digest = hash_key(key)
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        return None

    async def resolve(self, credential: str) -> Principal | None:
        """The principal for a user token or an API key (environment first, then the console), or None."""
        if len(credential) > MAX_CREDENTIAL_LENGTH:
            return None
        if looks_like_token(credential):
            return self._user(credential)
        return self.authenticate(credential) or await self._console_key(hash_key(credential))

    def _user(self, token: str) -> Principal:
        if self._verifier is None:
            raise Unauthorized("User tokens are not accepted here: this service has no console public key.")
        try:
            claims = self._verifier.verify(token)
        except UserTokenInvalid as exc:
            reason = str(exc)
            raise Unauthorized(f"{reason[:1].upper()}{reason[1:]}.") from exc
        return Principal(name=f"user:{claims['sub']}", role=claims["role"], user_id=claims["sub"])

    async def _console_key(self, digest: str) -> Principal | None:
        if self._console is None:
            return None
        cached = self._cache.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        principal = await self._ask_console(self._console, digest)
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[digest] = (principal, time.monotonic() + self._console.cache_seconds)
        return principal

    async def _ask_console(self, console: ConsoleLink, digest: str) -> Principal | None:
        self._client = self._client or httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        url, headers = f"{console.url.rstrip('/')}/internal/keys/verify", {"Authorization": f"Bearer {console.secret}"}
        try:
            response = await self._client.post(url, json={"sha256": digest}, headers=headers)
        except httpx.HTTPError as exc:
            raise _console_away() from exc
        if response.status_code == 404:
            return None
        try:
            body = response.json() if response.status_code == 200 else {}
            if body.get("role") in ROLE_RANK:
                return Principal(name=str(body["name"]), role=body["role"])
        except (ValueError, AttributeError, KeyError):
            pass
        raise _console_away()

    async def aclose(self) -> None:
        """Close the connection to the console, if one was opened."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _console_away() -> Unavailable:
    message = "The console, which knows this API key, did not answer; try again."
    return Unavailable(message, headers={"Retry-After": "5"})


def presented_key(request: Request) -> str | None:
    """The API key or user token from `Authorization: Bearer …` or `X-API-Key`."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


async def authenticate(request: Request) -> Principal:
    """The caller's principal, or 401; the caller is bound to the request's log lines."""
    key = presented_key(request)
    if not key:
        raise Unauthorized("An API key is required (Authorization: Bearer <key> or X-API-Key).")
    keyring: KeyRing = request.app.state.keyring
    principal = await keyring.resolve(key)
    if principal is None:
        raise Unauthorized("The API key is not valid.")
    structlog.contextvars.bind_contextvars(actor=principal.actor)
    return principal


def require_role(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that lets through callers whose role is at least `role`."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.can(role):
            who = "your account" if principal.user_id else "the key"
            raise Forbidden(f"This needs the {role} role; {who} has the {principal.role} role.")
        return principal

    return dependency


async def authorize(request: Request) -> Principal:
    """Router-wide rule: analysts may read; writing needs a marketer or admin key."""
    return await require_role("analyst" if request.method in READ_METHODS else "marketer")(request)


def keyring_for(settings: CommonSettings) -> KeyRing:
    """The key ring a service's settings describe."""
    secret = settings.console_internal_secret.get_secret_value() if settings.console_internal_secret else ""
    link = ConsoleLink(settings.console_url, secret, settings.console_key_cache_seconds)
    console = link if settings.console_url else None
    admin = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    return KeyRing(admin, settings.api_keys, console=console, public_key=settings.console_public_key)

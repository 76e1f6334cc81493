"""The console's request helpers: who is signed in (cookie, CSRF), admins only, same-origin logins, client address."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

import structlog
from fastapi import Depends, Request, Response

from services.console import sessions
from services.console.audit import Actor, network_of
from services.console.config import Settings
from services.console.exceptions import CsrfRefused
from services.console.mail import SmtpConfig
from services.console.passwords import Passwords
from services.console.proxy import Forwarder
from services.console.sessions import LoginPolicy, SessionPolicy
from shared.errors import Forbidden, Unauthorized
from shared.usertokens import UserTokenSigner

COOKIE = "tessera_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Console:
    """What the console's routes share: hashing, signing, forwarding, the rules for logins and sessions."""

    settings: Settings
    passwords: Passwords
    signer: UserTokenSigner
    forwarder: Forwarder
    login_policy: LoginPolicy
    session_policy: SessionPolicy
    smtp: SmtpConfig | None
    trusted_proxies: tuple[Network, ...]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user behind a request's session cookie."""

    user_id: str
    email: str
    name: str
    role: str
    session_id: str
    csrf_token: str
    expires_at: datetime
    ip: str | None

    @property
    def actor(self) -> Actor:
        """This user as the actor of an audit entry."""
        return Actor(self.user_id, self.email, self.ip)


def console_of(request: Request) -> Console:
    """The console's shared parts."""
    console: Console = request.app.state.runtime.extras["console"]
    return console


def client_address(request: Request) -> str | None:
    """The caller's address; `X-Forwarded-For` counts only when the peer is a trusted proxy."""
    trusted = console_of(request).trusted_proxies
    peer = request.client.host if request.client else None
    if not peer or not _is_trusted(peer, trusted):
        return peer
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not _is_trusted(hop, trusted):
            return hop
    return forwarded[0] if forwarded else peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def anonymous_actor(request: Request, email: str | None = None) -> Actor:
    """Someone not logged in (yet), named by the e-mail they gave, from their client's network."""
    return Actor(None, email, network_of(client_address(request)))


async def signed_in(request: Request) -> SignedIn:
    """The session's user, or 401; an unsafe request must also carry the session's CSRF token (else 403)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("Log in first.")
    console = console_of(request)
    async with request.app.state.runtime.sessions() as session:  # its own short transaction, committed at once
        found = await sessions.resolve(session, token[:200], console.session_policy)
        if session.dirty or session.deleted:  # the idle clock slid or the session ended; else nothing to commit
            await session.commit()
    if found is None:
        raise Unauthorized("Your session has ended; log in again.")
    row, user = found
    if request.method in UNSAFE and not sessions.csrf_matches(row, request.headers.get("x-csrf-token")):
        raise CsrfRefused("This request needs your session's X-CSRF-Token header.")
    structlog.contextvars.bind_contextvars(actor=f"user:{user.id}")
    expires = sessions.expiry(row, console.session_policy)
    return SignedIn(user.id, user.email, user.name, user.role, row.id, row.csrf_token, expires,
                    network_of(client_address(request)))  # fmt: skip


CurrentUser = Annotated[SignedIn, Depends(signed_in)]


async def admin(user: CurrentUser) -> SignedIn:
    """The signed-in user if an admin, else 403."""
    if user.role != "admin":
        raise Forbidden(f"This needs the admin role; your account has the {user.role} role.")
    return user


AdminUser = Annotated[SignedIn, Depends(admin)]


def same_origin(request: Request) -> None:
    """Requests that open a session (login, setup, accepting an invitation) must not come from another site."""
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        raise CsrfRefused("A login from another site is refused.")
    origin = request.headers.get("origin")
    if origin and origin not in _own_origins(request):
        raise CsrfRefused("A login from another site is refused.")


def _own_origins(request: Request) -> set[str]:
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
    settings = console_of(request).settings
    public = urlsplit(settings.public_url)
    own |= {origin.rstrip("/") for origin in settings.allowed_origins}
    return own | ({f"{public.scheme}://{public.netloc}"} if public.netloc else set())


def public_base(request: Request) -> str:
    """How browsers reach the console: the setting, else this request's base URL."""
    return (console_of(request).settings.public_url or str(request.base_url)).rstrip("/")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HTTP-only, SameSite=Lax, Secure over HTTPS (or when the setting says so)."""
    console = console_of(request)
    secure = request.url.scheme == "https" or console.settings.secure_cookies
    max_age = int(console.session_policy.absolute.total_seconds())
    response.set_cookie(COOKIE, token, max_age=max_age, path="/", secure=secure, httponly=True, samesite="lax")


def clear_session_cookie(request: Request, response: Response) -> None:
    """Remove the session cookie from the browser."""
    secure = request.url.scheme == "https" or console_of(request).settings.secure_cookies
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="lax")

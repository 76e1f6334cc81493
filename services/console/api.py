"""Logging in and out, the first admin, the signed-in user and their password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import select

from services.console import people, sessions
from services.console.deps import (
    CurrentUser,
    anonymous_actor,
    clear_session_cookie,
    client_address,
    console_of,
    same_origin,
    set_session_cookie,
)  # fmt: skip
from services.console.models import User
from services.console.schemas import LoginRequest, MeRead, PasswordChange, SetupRequest, StatusRead
from services.console.sessions import Opened
from shared.deps import SessionDep
from shared.errors import error_response

router = APIRouter(prefix="/api/auth", tags=["auth"])
WRONG = "E-mail or password is wrong."
REFUSALS: dict[int | str, dict[str, Any]] = {401: {"description": WRONG}, 429: {"description": "Locked out for now"}}


def signed_in_as(request: Request, response: Response, user: User, opened: Opened) -> MeRead:
    """The new session's cookie on the response, and the user it belongs to."""
    set_session_cookie(request, response, opened.token)
    expires = sessions.expiry(opened.session, console_of(request).session_policy)
    return MeRead(id=user.id, email=user.email, name=user.name, role=user.role,  # type: ignore[arg-type]
                  csrf_token=opened.session.csrf_token, expires_at=expires)  # fmt: skip


@router.get("/status", response_model=StatusRead)
async def get_status(session: SessionDep) -> StatusRead:
    """Whether the console still waits for its first admin (public)."""
    return StatusRead(needs_setup=await people.needs_setup(session))


@router.post("/setup", response_model=MeRead, dependencies=[Depends(same_origin)])
async def set_up(body: SetupRequest, session: SessionDep, request: Request, response: Response) -> MeRead:
    """Create the first admin with the one-time token `tessera up` printed, and log them in (public)."""
    console = console_of(request)
    expected = console.settings.setup_token.get_secret_value() if console.settings.setup_token else None
    fields = {"email": body.email, "name": body.name, "password": body.password}
    user = await people.set_up(session, console.passwords, expected=expected, token=body.token, fields=fields,
                               actor=anonymous_actor(request, body.email))  # fmt: skip
    return signed_in_as(request, response, user, await sessions.open_session(session, user, console.session_policy))


@router.post("/login", response_model=MeRead, dependencies=[Depends(same_origin)], responses=REFUSALS)
async def log_in(body: LoginRequest, session: SessionDep, request: Request, response: Response) -> Any:
    """Log in; a wrong e-mail and a wrong password get the same answer, and repeated failures lock out (429)."""
    console, email = console_of(request), body.email.strip().lower()
    outcome = await sessions.login(session, console.passwords, email=email, password=body.password,
                                   address=client_address(request), actor=anonymous_actor(request, email),
                                   policies=(console.login_policy, console.session_policy))  # fmt: skip
    # Answered, not raised: the failure just recorded must be committed.
    if outcome.retry_after is not None:
        message = f"Too many login attempts; try again in {outcome.retry_after} s."
        return error_response(429, "rate_limited", message, headers={"Retry-After": str(outcome.retry_after)})
    if outcome.user is None or outcome.opened is None:
        return error_response(401, "unauthorized", WRONG)
    return signed_in_as(request, response, outcome.user, outcome.opened)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(me: CurrentUser, session: SessionDep, request: Request, response: Response) -> None:
    """End this session."""
    await sessions.end_session(session, me.session_id, me.actor)
    clear_session_cookie(request, response)


@router.get("/me", response_model=MeRead)
async def get_me(me: CurrentUser) -> MeRead:
    """The signed-in user, the CSRF token for unsafe requests, and when the session ends if left idle."""
    return MeRead(id=me.user_id, email=me.email, name=me.name, role=me.role,  # type: ignore[arg-type]
                  csrf_token=me.csrf_token, expires_at=me.expires_at)  # fmt: skip


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, me: CurrentUser, session: SessionDep, request: Request) -> None:
    """Change your password; your other sessions end."""
    user = await session.scalar(select(User).where(User.id == me.user_id))
    assert user is not None  # the session was just found live, with its user
    await people.change_password(session, console_of(request).passwords, user, current=body.current_password,
                                 new=body.new_password, keep_session=me.session_id)  # fmt: skip

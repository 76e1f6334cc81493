"""People (admins): users and their roles, invitations; and the public side of an invitation link."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response, status

from services.console import mail, people, sessions
from services.console.api import signed_in_as
from services.console.deps import AdminUser, anonymous_actor, console_of, public_base, same_origin
from services.console.models import Invitation
from services.console.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationInfo,
    InvitationRead,
    MeRead,
    UserRead,
    UserUpdate,
)  # fmt: skip
from shared.db import utcnow
from shared.deps import SessionDep

router = APIRouter(prefix="/api", tags=["people"])


def _invitation(invitation: Invitation, creators: dict[str, str], link: str | None = None) -> InvitationRead:
    return InvitationRead(
        id=invitation.id, email=invitation.email, role=invitation.role,  # type: ignore[arg-type]
        expires_at=invitation.expires_at, accepted_at=invitation.accepted_at, link=link, mailed=invitation.mailed,
        created_by=creators.get(invitation.created_by or ""),
    )  # fmt: skip


@router.get("/users", response_model=list[UserRead])
async def list_users(_: AdminUser, session: SessionDep) -> list[UserRead]:
    """Every user (admins)."""
    return [UserRead.model_validate(user) for user in await people.list_users(session)]


@router.patch("/users/{user_id}", response_model=UserRead)
async def update_user(user_id: str, body: UserUpdate, me: AdminUser, session: SessionDep) -> UserRead:
    """Change a user's name, role, or whether they may log in (admins); deactivating ends their sessions at once."""
    changes = body.model_dump(exclude_none=True)
    return UserRead.model_validate(await people.update_user(session, me.actor, user_id, changes))


@router.get("/invitations", response_model=list[InvitationRead])
async def list_invitations(_: AdminUser, session: SessionDep) -> list[InvitationRead]:
    """Every invitation, newest first (admins); links are shown only when an invitation is made."""
    rows = await people.list_invitations(session)
    creators = await people.emails_of(session, (row.created_by for row in rows))
    return [_invitation(row, creators) for row in rows]


@router.post("/invitations", response_model=InvitationRead, status_code=status.HTTP_201_CREATED)
async def create_invitation(
    body: InvitationCreate, me: AdminUser, session: SessionDep, request: Request
) -> InvitationRead:
    """Invite someone by e-mail with a role (admins): the link works once, for 72 hours; it is mailed when SMTP is
    configured and always in this answer."""
    console = console_of(request)
    hours = console.settings.invitation_hours
    invitation, token = await people.invite(session, me.actor, email=body.email, role=body.role,
                                            lifetime=timedelta(hours=hours))  # fmt: skip
    link = f"{public_base(request)}/invite/{token}"
    if console.smtp is not None:
        message = mail.invitation_message(console.smtp.sender, invitation.email, link, invitation.role, hours)
        invitation.mailed = await mail.send(console.smtp, message)
    return _invitation(invitation, {me.user_id: me.email}, link)


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_invitation(invitation_id: str, me: AdminUser, session: SessionDep) -> None:
    """Withdraw an invitation (admins): its link stops working."""
    await people.delete_invitation(session, me.actor, invitation_id)


@router.get("/invitations/{token}/info", response_model=InvitationInfo)
async def get_invitation_info(token: str, session: SessionDep) -> InvitationInfo:
    """What an invitation link offers and whether it still works (public)."""
    invitation = await people.invitation_of(session, token)
    reason = people.why_invalid(invitation, utcnow())
    return InvitationInfo(email=invitation.email, role=invitation.role, valid=reason is None, reason=reason)  # type: ignore[arg-type]


@router.post("/invitations/{token}/accept", response_model=MeRead, dependencies=[Depends(same_origin)])
async def accept_invitation(
    token: str, body: InvitationAccept, session: SessionDep, request: Request, response: Response
) -> MeRead:
    """Accept an invitation with a name and password, and log in (public; the link works once)."""
    console = console_of(request)
    user = await people.accept(session, console.passwords, token=token, name=body.name, password=body.password,
                               actor=anonymous_actor(request))  # fmt: skip
    return signed_in_as(request, response, user, await sessions.open_session(session, user, console.session_policy))

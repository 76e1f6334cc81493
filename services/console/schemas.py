"""The console API's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.console.config import EMAIL
from services.console.passwords import MAX_LENGTH, MIN_LENGTH
from shared.pipeline import PipelineRead

Role = Literal["admin", "marketer", "analyst"]


def _email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.match(email):
        raise ValueError("not an e-mail address")
    return email


Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
NewPassword = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
AnyPassword = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
Token = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class StatusRead(BaseModel):
    """Whether the console still waits for its first admin."""

    needs_setup: bool


class SetupRequest(Body):
    """The first admin, with the one-time setup token."""

    token: Token
    email: Email
    name: Name
    password: NewPassword


class LoginRequest(Body):
    """E-mail and password."""

    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: AnyPassword


class MeRead(BaseModel):
    """The logged-in user, the CSRF token unsafe requests must carry, and when the session ends if left idle."""

    id: str
    email: str
    name: str
    role: Role
    csrf_token: str
    expires_at: datetime


class PasswordChange(Body):
    """The current password and a new one."""

    current_password: AnyPassword
    new_password: NewPassword


class UserRead(BaseModel):
    """A user."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserUpdate(Body):
    """What an admin may change about a user."""

    role: Role | None = None
    active: bool | None = None
    name: Name | None = None


class InvitationCreate(Body):
    """Whom to invite, with which role."""

    email: Email
    role: Role


class InvitationRead(BaseModel):
    """An invitation; `link` only in the answer that created it (the token is kept only as a hash)."""

    id: str
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None
    link: str | None
    mailed: bool
    created_by: str | None  # the inviting admin's e-mail address


class InvitationInfo(BaseModel):
    """What an invitation link offers, and whether it still works (`reason`: used or expired)."""

    email: str
    role: Role
    valid: bool
    reason: Literal["used", "expired"] | None = None


class InvitationAccept(Body):
    """The new user's name and password."""

    name: Name
    password: NewPassword


class ApiKeyCreate(Body):
    """A key for an integration."""

    name: Name
    role: Role


class ApiKeyRead(BaseModel):
    """An API key (never the key itself after its creation)."""

    id: str
    name: str
    role: Role
    hint: str
    created_at: datetime
    created_by: str | None  # the creating admin's e-mail address
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """A new API key, shown this once."""

    key: str


class AuditRead(BaseModel):
    """One audit entry; `ip` is the client's network (host part cut off)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: str | None
    actor_email: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]
    ip: str | None


class AuditPage(BaseModel):
    """Audit entries, newest first; `next_cursor` fetches the older ones."""

    items: list[AuditRead]
    next_cursor: str | None


class OverviewRead(BaseModel):
    """The platform at a glance; null where a service did not answer (`unavailable` says which and why)."""

    profiles: int | None
    events_today: int | None
    segments: int | None
    campaigns: int | None
    pipeline: dict[str, PipelineRead | None]
    unavailable: dict[str, str]
    checked_at: datetime


class KeyVerifyRequest(Body):
    """A service asks about an API key by its SHA-256."""

    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class KeyVerifyRead(BaseModel):
    """A live console-issued key's name and role."""

    name: str
    role: Role

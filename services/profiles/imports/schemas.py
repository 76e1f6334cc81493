"""Response models of the imports API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class ImportErrorRead(BaseModel):
    """A rejected row: its line in the file (none for a job-level failure) and why."""

    line: int | None
    reason: str


class ImportJobRead(BaseModel):
    """An import job and its progress: `running` while rows are published, `published` when every accepted row is on
    the event stream, `done` once profiles applied every one of them (only then do reports and fits see them)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["customers", "orders"]
    status: Literal["running", "published", "done", "failed"]
    rows_read: int
    accepted: int
    published: int = 0
    applied: int = 0
    rejected: int
    errors: list[ImportErrorRead]
    created_at: datetime
    finished_at: datetime | None

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
    """An import job and its progress; `done` means every accepted row is on the event stream."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["customers", "orders"]
    status: Literal["running", "done", "failed"]
    rows_read: int
    accepted: int
    rejected: int
    errors: list[ImportErrorRead]
    created_at: datetime
    finished_at: datetime | None

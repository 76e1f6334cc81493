"""The campaigns service's table metadata, shared by its sub-domains' models (one Alembic history)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.inbox import inbox_table
from shared.membership import membership_changes_table
from shared.outbox import outbox_table

BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
processed_messages = inbox_table(Base.metadata)
membership_changes = membership_changes_table(Base.metadata)

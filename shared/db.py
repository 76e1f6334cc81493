"""Async SQLAlchemy engines, sessions, column types and migrations common to every service."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def new_metadata() -> MetaData:
    """A MetaData with the project's naming convention, one per service."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new random 128-bit identifier, as 32 hex digits (the shape of a UUID4 hex)."""
    return os.urandom(16).hex()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode across process crashes
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `sqlite+aiosqlite` or `postgresql+asyncpg`, SQLite in WAL mode, JSON via orjson."""
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep objects readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the block succeeds, roll back if it raises."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def _alembic_config(service: str, connection: Connection) -> Any:
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    config = Config()
    config.set_main_option("script_location", str(root / "services" / service / "migrations"))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, service: str, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(service, connection), revision)


def _downgrade(connection: Connection, service: str, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(service, connection), revision)


async def migrate(engine: AsyncEngine, service: str, revision: str = "head") -> None:
    """Apply a service's Alembic migrations up to `revision`."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Replicas start together; one migrates while the others wait on this lock, then find nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"migrate:{service}"})
        await conn.run_sync(_upgrade, service, revision)


async def downgrade(engine: AsyncEngine, service: str, revision: str = "base") -> None:
    """Revert a service's Alembic migrations down to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, service, revision)


async def upsert(
    session: AsyncSession,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    keys: list[str],
    add: tuple[str, ...] = (),
    replace: tuple[str, ...] = (),
) -> None:
    """Insert rows; on a key clash add the `add` columns and overwrite the `replace` ones (one statement)."""
    if not rows:
        return
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - the two supported backends both have ON CONFLICT
        raise NotImplementedError(f"upsert on {dialect}")
    statement = insert(table)
    changes = {c: table.c[c] + statement.excluded[c] for c in add}
    changes |= {c: statement.excluded[c] for c in replace}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), rows)

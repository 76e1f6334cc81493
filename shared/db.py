"""Async SQLAlchemy engines, sessions, column types and migrations common to every service."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, Date, DateTime, MetaData, event, text
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
    cursor.execute("PRAGMA wal_autocheckpoint=10000")  # fewer, larger checkpoints under a steady write load
    cursor.close()


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `sqlite+aiosqlite` or `postgresql+asyncpg`, SQLite in WAL mode, JSON via orjson."""
    kwargs.setdefault("hide_parameters", True)  # SQL parameters (names, addresses) never reach exception text or logs
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


def dialect_name(session: AsyncSession) -> str:
    """`sqlite` or `postgresql`: the backend a session talks to."""
    return session.get_bind().dialect.name


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep objects readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def take_write_lock(session: AsyncSession, table: Any) -> None:
    """On SQLite, take the database's write lock now, before this transaction reads anything it will write back:
    pysqlite runs SELECTs outside any transaction until the first write, so a read-modify-write would otherwise
    work on a row another connection changed in between. PostgreSQL locks rows instead (`FOR UPDATE`): no-op there."""
    if dialect_name(session) != "sqlite":
        return
    key = next(iter(table.primary_key.columns)).name
    # A write that matches nothing still opens the write transaction (RESERVED lock), waiting on busy_timeout.
    await session.execute(text(f'UPDATE "{table.name}" SET "{key}" = "{key}" WHERE 0'))


async def transaction_lock(session: AsyncSession, name: str, table: Any, *, shared: bool = False) -> None:
    """Serialise the transactions that take this lock until they end, across processes and replicas: a PostgreSQL
    advisory transaction lock on `name` (`shared`: holders of the shared lock run together, and wait for or hold off
    the exclusive one); on SQLite the database's write lock (`take_write_lock` on `table`)."""
    if dialect_name(session) == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await session.execute(text(f"SELECT {function}(hashtext(:name))"), {"name": name})
    else:
        await take_write_lock(session, table)


def try_lock(engine: AsyncEngine, name: str) -> AbstractAsyncContextManager[bool]:
    """Hold the lock `name` across processes and replicas for the block if nobody else holds it (True), else False
    at once: a PostgreSQL session advisory lock on a connection of its own; on SQLite an exclusive `flock` on a file
    beside the database. Either is let go when the block ends or when its holder dies."""
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        return _advisory_lock(engine, name)
    if not database or database == ":memory:":
        return _memory_lock(name)
    return _file_lock(database, name)


@asynccontextmanager
async def _advisory_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    async with engine.connect() as connection:
        held = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": name}))
        await connection.commit()  # the lock outlives the transaction; an idle transaction would hold a snapshot
        try:
            yield held
        finally:
            if held:
                try:
                    await connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
                    await connection.commit()
                except Exception:  # a connection that died took its lock with it; it must not go back to the pool
                    await connection.invalidate()


@asynccontextmanager
async def _file_lock(database: str, name: str) -> AsyncIterator[bool]:
    folder = Path(f"{database}.locks")
    folder.mkdir(exist_ok=True)
    with open(folder / f"{sha256(name.encode()).hexdigest()[:32]}.lock", "a") as handle:  # noqa: ASYNC230
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # never waits: another holder means False
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


_MEMORY_LOCKS: set[str] = set()  # an in-memory database lives in one process: so do its locks


@asynccontextmanager
async def _memory_lock(name: str) -> AsyncIterator[bool]:
    held = name not in _MEMORY_LOCKS
    _MEMORY_LOCKS.add(name)
    try:
        yield held
    finally:
        if held:
            _MEMORY_LOCKS.discard(name)


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


@asynccontextmanager
async def sqlite_file_lock(database: str | None) -> AsyncIterator[None]:
    """Hold an exclusive lock beside a SQLite file (nothing for in-memory databases): several worker processes
    starting on one fresh file must not create its tables at the same moment."""
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.lock", "a") as handle:  # noqa: ASYNC230 - opening a lock file does not block
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def migrate(engine: AsyncEngine, service: str, revision: str = "head") -> None:
    """Apply a service's Alembic migrations up to `revision`."""
    lock = sqlite_file_lock(engine.url.database) if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    async with lock, engine.begin() as conn:
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
    dialect = dialect_name(session)
    if dialect == "sqlite":
        sets = [f'"{c}" = "{table.name}"."{c}" + excluded."{c}"' for c in add]
        sets += [f'"{c}" = excluded."{c}"' for c in replace]
        targets = ", ".join(f'"{k}"' for k in keys)
        await _sqlite_executemany(session, table, rows, f"ON CONFLICT ({targets}) DO UPDATE SET {', '.join(sets)}")
        return
    if dialect != "postgresql":  # pragma: no cover - the two supported backends both have ON CONFLICT
        raise NotImplementedError(f"upsert on {dialect}")
    from sqlalchemy.dialects.postgresql import insert

    statement = insert(table)
    changes = {c: table.c[c] + statement.excluded[c] for c in add}
    changes |= {c: statement.excluded[c] for c in replace}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), rows)


async def insert_new(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], keys: list[str], *, chunk: int = 1000
) -> None:
    """Insert rows whose key is not stored yet, in chunks (PostgreSQL and SQLite: ON CONFLICT DO NOTHING)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if dialect_name(session) == "postgresql" else sqlite
    for start in range(0, len(rows), chunk):
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=keys)
        await session.execute(statement, rows[start : start + chunk])


async def update_many(session: AsyncSession, table: Any, rows: list[dict[str, Any]], *, key: str) -> None:
    """Update rows (same keys in each) by their `key` column; straight to the driver on SQLite."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if dialect_name(session) == "sqlite":
        convert = [(name, _sqlite_value(table.c[name].type)) for name in [*columns, key]]
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        params = [tuple(to(row[name]) for name, to in convert) for row in rows]
        connection = await session.connection()
        await connection.exec_driver_sql(f'UPDATE "{table.name}" SET {sets} WHERE "{key}" = ?', params)
        return
    from sqlalchemy import bindparam, update

    renamed = [{(f"_{key}" if k == key else k): v for k, v in row.items()} for row in rows]
    await session.execute(update(table).where(table.c[key] == bindparam(f"_{key}")), renamed)


def _sqlite_value(column_type: Any) -> Any:
    """How the SQLite fast path stores a value, exactly as SQLAlchemy's own types would."""
    if isinstance(column_type, UTCDateTime):
        return lambda v: v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if v else None
    if isinstance(column_type, JSON):
        return lambda v: _json_text(v) if v is not None else None
    if isinstance(column_type, Date):
        return lambda v: v.isoformat() if v is not None else None
    return lambda v: v


async def insert_many(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys. On SQLite the rows go straight to the driver, because
    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself; elsewhere a Core insert."""
    if not rows:
        return
    if dialect_name(session) != "sqlite":
        await session.execute(table.insert(), rows)
        return
    await _sqlite_executemany(session, table, rows, "")


async def _sqlite_executemany(session: AsyncSession, table: Any, rows: list[dict[str, Any]], suffix: str) -> None:
    columns = [c for c in table.columns if c.name in rows[0]]
    convert = [(c.name, _sqlite_value(c.type)) for c in columns]
    names, marks = ", ".join(f'"{c.name}"' for c in columns), ", ".join("?" * len(columns))
    params = [tuple(to(row[name]) for name, to in convert) for row in rows]
    connection = await session.connection()
    await connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) {suffix}', params)

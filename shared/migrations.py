"""The body of every service's Alembic `env.py`: online migrations on a given or configured URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection

from shared.db import make_engine


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_new_engine(url: str, metadata: MetaData) -> None:
    engine = make_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as conn:
        await conn.run_sync(_configure_and_run, metadata)
    await engine.dispose()


def run_migrations(metadata: MetaData, database_url: Callable[[], str]) -> None:
    """Migrate the connection handed in by the app, or the service's configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, metadata)
        return
    url = context.config.get_main_option("sqlalchemy.url") or database_url()
    asyncio.run(_run_with_new_engine(url, metadata))

"""Every service's migrations apply and revert on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import inspect

from shared.db import downgrade, make_engine, migrate

SERVICES = ["tracking", "profiles", "segmentation", "campaigns", "console"]


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_downgrade_upgrade(database_url: str, service: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate(engine, service)
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert "outbox" in tables and "alembic_version" in tables
        await downgrade(engine, service)
        async with engine.connect() as conn:
            assert set(await conn.run_sync(lambda c: inspect(c).get_table_names())) <= {"alembic_version"}
        await migrate(engine, service)
    finally:
        await engine.dispose()


async def test_workers_migrating_one_fresh_sqlite_file_at_once_all_succeed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    engines = [make_engine(url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate(engine, "tracking") for engine in engines))
        async with engines[0].connect() as conn:
            assert "outbox" in set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_build_exactly_the_models(fresh_database, service: str) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL (which enforces types and lengths): nothing the models declare is missing or different."""
    from importlib import import_module

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(await fresh_database("postgres", f"drift_{service}"))
    metadata = import_module(f"services.{service}.models").Base.metadata
    try:
        await migrate(engine, service)
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
        assert diff == []
    finally:
        await engine.dispose()

"""Every service's migrations apply and revert on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import inspect

from shared.db import downgrade, make_engine, migrate

SERVICES = ["tracking", "profiles", "segmentation", "campaigns"]


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

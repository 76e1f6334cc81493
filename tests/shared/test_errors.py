"""describe_error: what may be stored or logged about an exception; real database errors on both backends."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import CheckConstraint, Column, Integer, String, Table, insert
from sqlalchemy.exc import DBAPIError

from shared.db import make_engine, new_metadata
from shared.errors import describe_error

EMAIL = "ada.lovelace@example.com"
metadata = new_metadata()
people = Table(
    "people", metadata, Column("id", Integer, primary_key=True), Column("email", String(100), unique=True),
    Column("age", Integer), CheckConstraint("age >= 0", name="age"),
)  # fmt: skip


async def failing_insert(database_url: str, row: dict[str, object]) -> DBAPIError:
    """The error of inserting `row` after a first person with EMAIL, on an engine from make_engine."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(people), {"id": 1, "email": EMAIL, "age": 36})
        with pytest.raises(DBAPIError) as caught:
            async with engine.begin() as connection:
                await connection.execute(insert(people), row)
        return caught.value
    finally:
        await engine.dispose()


class TestDescribeError:
    async def test_a_unique_violation_names_class_code_and_constraint_never_the_values(self, database_url: str) -> None:
        exc = await failing_insert(database_url, {"id": 2, "email": EMAIL, "age": 1})
        described = describe_error(exc)
        assert described.startswith("IntegrityError (") and EMAIL not in described and "INSERT" not in described
        if database_url.startswith("postgresql"):
            assert described == "IntegrityError (UniqueViolationError, SQLSTATE 23505, constraint uq_people_email)"
        else:
            assert described == "IntegrityError (IntegrityError, SQLITE_CONSTRAINT_UNIQUE)"

    async def test_a_check_violation_names_its_constraint(self, database_url: str) -> None:
        exc = await failing_insert(database_url, {"id": 2, "email": "grace@example.com", "age": -1})
        described = describe_error(exc)
        assert "grace" not in described and "-1" not in described
        if database_url.startswith("postgresql"):
            assert described == "IntegrityError (CheckViolationError, SQLSTATE 23514, constraint ck_people_age)"
        else:
            assert described == "IntegrityError (IntegrityError, SQLITE_CONSTRAINT_CHECK)"

    @pytest.mark.parametrize(
        "exc",
        [ValueError(f"bad address {EMAIL}"), KeyError(EMAIL), httpx.ConnectError(f"cannot reach http://{EMAIL}/")],
    )
    def test_other_errors_are_their_class_only(self, exc: BaseException) -> None:
        assert describe_error(exc) == type(exc).__name__


async def test_the_engine_hides_sql_parameters_from_error_text(database_url: str) -> None:
    exc = await failing_insert(database_url, {"id": 2, "email": EMAIL, "age": 1})
    assert "parameters hidden" in str(exc)
    if database_url.startswith("sqlite"):
        assert EMAIL not in str(exc)  # PostgreSQL's own DETAIL still quotes the key: hence describe_error

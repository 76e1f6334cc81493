"""insert_many / upsert / update_many: the SQLite driver fast path and the portable path read back the same."""

from datetime import UTC, date, datetime

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, select

from shared.db import JSONType, UTCDateTime, insert_many, make_engine, make_session_factory, update_many, upsert

metadata = MetaData()
things = Table(
    "things", metadata,
    Column("id", String(10), primary_key=True), Column("at", UTCDateTime), Column("doc", JSONType),
    Column("day", Date), Column("n", Integer), Column("blob", LargeBinary),
)  # fmt: skip
AT = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)


async def test_written_rows_read_back_through_sqlalchemy_types(database_url: str) -> None:
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with make_session_factory(engine)() as session:
        await insert_many(session, things, [
            {"id": "a", "at": AT, "doc": {"k": [1, "é"]}, "day": date(2026, 3, 4), "n": 1, "blob": b"\x00\xff"},
            {"id": "b", "at": AT.replace(microsecond=0), "doc": {}, "day": date(2026, 1, 1), "n": 5, "blob": b""},
        ])  # fmt: skip
        await upsert(session, things, [{"id": "a", "at": AT, "doc": {"k": 2}, "day": date(2026, 3, 4), "n": 10,
                                        "blob": b"x"}], keys=["id"], add=("n",), replace=("doc",))  # fmt: skip
        await update_many(session, things, [{"id": "b", "n": 7, "at": AT}], key="id")
        rows = {r.id: r for r in await session.execute(select(things))}
        await session.commit()
    await engine.dispose()
    assert rows["a"].at == AT and rows["a"].doc == {"k": 2} and rows["a"].n == 11 and rows["a"].blob == b"\x00\xff"
    assert rows["a"].day == date(2026, 3, 4)
    assert rows["b"].at == AT and rows["b"].n == 7 and rows["b"].doc == {}

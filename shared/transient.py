"""Which failures say "the world is not ready" (retry, never reject) rather than "this message is bad"."""

from __future__ import annotations

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

# PostgreSQL SQLSTATEs that go away by themselves: serialization failure, deadlock, lock not available,
# admin/crash shutdown, cannot connect now ("starting up"), too many connections, out of memory/disk, and the
# whole connection-exception class 08.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "53200", "53100"})
UNIQUE_VIOLATION = "23505"
NOT_DATABASE = (KafkaError, ConnectionError, OSError, TimeoutError)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL), if it has one."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def is_transient(exc: BaseException) -> bool:
    """A failure of the broker, the network or the database itself (deadlock, serialization, shutdown, starting up,
    lock timeout, lost connection, SQLite busy): retrying later succeeds."""
    if isinstance(exc, NOT_DATABASE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = sqlstate(exc)
    if exc.connection_invalidated or state in TRANSIENT_SQLSTATES or (state or "").startswith("08"):
        return True
    # Without a SQLSTATE (SQLite: "database is locked", a vanished connection) these classes are the driver's
    # own "not now" errors; on PostgreSQL they carry a SQLSTATE and are judged by it above.
    return state is None and isinstance(exc, OperationalError | InterfaceError)


def is_unique_race(exc: BaseException) -> bool:
    """A unique-key violation: another writer inserted the same key first; a retry that re-reads resolves it."""
    if not isinstance(exc, IntegrityError):
        return False
    state = sqlstate(exc)
    return state == UNIQUE_VIOLATION or (state is None and "UNIQUE constraint failed" in str(exc.orig))

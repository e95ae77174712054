"""Database engine and the shared schema metadata.

One synchronous SQLAlchemy engine per process, used from worker threads (never
on the event loop): SQLite in WAL mode with a busy timeout by default, or
PostgreSQL by URL. Every table module registers its tables on `metadata` (for
queries); the schema itself is made and versioned by `monitor.storage.migrations`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url

from monitor.storage.reads import utc
from monitor.storage.urls import with_absolute

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

log = logging.getLogger(__name__)

metadata = MetaData()

PG_CONNECT_TIMEOUT_S = 10
DATABASE_MODE = 0o640  # a new SQLite database file: owner rw, group r, others nothing


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Binding a naive datetime is an error; values are stored in UTC and read back
    aware in UTC (SQLite keeps no zone, PostgreSQL answers in the session's zone).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime given; commwatch stores aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return utc(value)  # the one reading of stored times (SQL text reads use it too)


def open_engine(url: str, busy_timeout_s: float = 5.0) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        # without it a blackholed server hangs a connect for the kernel's SYN timeout (~2 min)
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args
    )


def _sqlite_engine(url: str, busy_timeout_s: float) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "do_connect")
    def _private_file(*_args: Any) -> None:
        if database and database != ":memory:":
            _create_private(Path(database))  # SQLite itself would create it 0644

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _create_private(path: Path) -> None:
    """Create the database file 0640 (owner rw, group r) whatever the umask says.

    Under systemd UMask=0027 does this; outside it (a shell with umask 022) SQLite
    would create a world-readable 0644 file. Its -wal and -shm files take the
    database file's mode.
    """
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DATABASE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, DATABASE_MODE)
    finally:
        os.close(descriptor)


def database_missing(url: str) -> bool:
    """True for a SQLite file that does not exist yet (opening it would create it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not Path(database).exists()


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and status."""
    return make_url(url).render_as_string(hide_password=True)


def describe_database(url: str) -> str:
    """The URL for people: password hidden; a relative SQLite path also shown absolute."""
    shown = redact_url(url)
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return shown
    return with_absolute(shown, database)


def dialect_insert(connection: Connection, table: Table) -> PgInsert | SqliteInsert:
    """An INSERT that knows ON CONFLICT, for this connection's backend (PostgreSQL or SQLite)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def insert_new(
    connection: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]
) -> PgInsert | SqliteInsert:
    """INSERT … ON CONFLICT (keys) DO NOTHING: a row that is already there is left alone."""
    return (
        dialect_insert(connection, table)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(keys))
    )

"""Database engine and the shared schema metadata.

One synchronous SQLAlchemy engine per process, used from worker threads (never
on the event loop): SQLite in WAL mode with a busy timeout by default, or
PostgreSQL by URL. Every table module registers its tables on `metadata`;
`create_schema` creates whatever is missing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

metadata = MetaData()


def open_engine(url: str, busy_timeout_s: float = 5.0) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_engine(url: str, busy_timeout_s: float) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def create_schema(engine: Engine) -> None:
    """Create every registered table that does not exist yet."""
    import monitor.models  # noqa: F401  (registers the core tables)

    metadata.create_all(engine)


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and status."""
    return make_url(url).render_as_string(hide_password=True)

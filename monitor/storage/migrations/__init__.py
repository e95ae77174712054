"""The versioned schema: Alembic revisions (explicit DDL) under `versions/`, and the checks.

- `inspect_schema(engine)` reads where a database stands (cheap: no Alembic
  import), `require_current` refuses anything but the current revision, and
  `upgrade(engine)` brings a database to `HEAD` through Alembic (creating it
  when empty, adopting one made by 0.1.0, which kept no revision).
- On PostgreSQL both take an advisory lock for this schema (shared for a
  check, exclusive for a migration) and set `lock_timeout`, so processes
  starting at once neither race nor hang behind a long transaction.
- Every table's DDL lives in the revision scripts; the table modules
  (monitor.storage.tables, monitor.incidents.tables, dispatch.models) describe
  the same tables for queries. tests/monitor/storage/test_migrations.py
  compares both on SQLite and PostgreSQL.

A new revision: copy the newest file in `versions/`, set `revision` and
`down_revision`, write its DDL with `op`, bump `HEAD`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from monitor.storage.engine import describe_database

HEAD = "0004"
REVISIONS = ("0001", "0002", "0003", "0004")  # oldest first
SCRIPTS = Path(__file__).parent
VERSION_TABLE = "alembic_version"
TABLES_0_1_0 = frozenset(
    {
        *("nodes", "probe_samples", "state_changes", "node_states"),
        *("incidents", "incident_events", "notice_requests"),
        *("dispatch_notices", "dispatch_deliveries"),
    }
)
LOCK_WAIT_S = 120  # how long a second process waits for another's migration
DDL_LOCK_TIMEOUT_S = 10  # how long one DDL statement waits for a table lock


class SchemaError(Exception):
    """The database cannot be used as it is; the message says what to run."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands."""

    revision: str | None  # None: no revision recorded
    empty: bool  # no tables at all (a new database)

    @property
    def label(self) -> str:
        """The revision as people read it."""
        if self.revision is not None:
            return self.revision
        return "empty" if self.empty else "0.1.0 (no revision)"

    @property
    def current(self) -> bool:
        return self.revision == HEAD


def inspect_schema(engine: Engine) -> SchemaState:
    """The database's revision, read under a shared lock on PostgreSQL."""
    with engine.connect() as conn, _locked(conn, shared=True):
        return _state(conn)


def _state(conn: Connection) -> SchemaState:
    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in tables:
        return SchemaState(None, empty=not tables)
    revision = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return SchemaState(str(revision) if revision is not None else None, empty=False)


def require_current(engine: Engine, config_dir: str | None = None) -> SchemaState:
    """The state if current; else SchemaError in one line naming `commwatch db upgrade`."""
    state = inspect_schema(engine)
    if state.current:
        return state
    raise SchemaError(behind_message(engine, state, config_dir))


def behind_message(engine: Engine, state: SchemaState, config_dir: str | None) -> str:
    """One line: which database, where it stands, the command to run."""
    url = describe_database(engine.url.render_as_string(hide_password=False))
    option = f" -c {config_dir}" if config_dir else ""
    if state.revision is not None and state.revision not in REVISIONS:
        return (
            f"database {url} is at schema revision {state.revision}, unknown to this commwatch "
            f"(head {HEAD}): it was upgraded by a newer commwatch; install that version"
        )
    if state.empty:
        return (
            f"database {url} is empty (a new database): create its schema with "
            f"`commwatch db upgrade{option}` or start `commwatch run{option}`"
        )
    return (
        f"database {url} is at schema revision {state.label}, this commwatch needs {HEAD}: "
        f"run `commwatch db upgrade{option}`"
    )


def prepare(
    engine: Engine,
    config_dir: str | None = None,
    create: Callable[[Engine], tuple[SchemaState, SchemaState]] | None = None,
) -> SchemaState | None:
    """For `run`: create the schema of an empty database (its state then), None if current.

    A database that is behind or ahead is refused (SchemaError): only `db upgrade`
    changes the schema of a database that holds data. `create` upgrades the
    empty database (default `upgrade`; the daemon runs it in a child process).
    """
    state = inspect_schema(engine)
    if state.current:
        return None
    if not state.empty:
        raise SchemaError(behind_message(engine, state, config_dir))
    return (create or upgrade)(engine)[1]


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the database to HEAD under the migration lock; (before, after)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # we say what changed, once
    from alembic import command
    from alembic.config import Config as AlembicConfig

    settings = AlembicConfig()
    settings.set_main_option("script_location", str(SCRIPTS))
    with engine.connect() as conn, _locked(conn, shared=False):
        before = _state(conn)
        if before.revision is not None and before.revision not in REVISIONS:
            raise SchemaError(behind_message(engine, before, None))
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET lock_timeout = '{DDL_LOCK_TIMEOUT_S}s'"))
        conn.commit()
        settings.attributes["connection"] = conn
        command.upgrade(settings, HEAD)  # env.py runs the revisions on this connection
        conn.commit()
        return before, _state(conn)


@contextmanager
def _locked(conn: Connection, shared: bool) -> Iterator[None]:
    """PostgreSQL: hold this schema's advisory lock (waiting at most LOCK_WAIT_S)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    kind = "pg_advisory_lock_shared" if shared else "pg_advisory_lock"
    release = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
    key = "hashtext('commwatch schema ' || current_schema())"
    conn.execute(text(f"SET lock_timeout = '{LOCK_WAIT_S}s'"))
    conn.execute(text(f"SELECT {kind}({key})"))
    conn.commit()  # the session-level lock outlives the transaction that took it
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(text(f"SELECT {release}({key})"))
        conn.execute(text("RESET lock_timeout"))
        conn.commit()

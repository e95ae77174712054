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
`down_revision`, write its DDL with `op`, bump `HEAD` and `REVISIONS`
(in `monitor.storage.revisions`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from monitor.storage import revisions
from monitor.storage.engine import describe_database
from monitor.storage.revisions import (  # the revisions are listed there (no SQLAlchemy)
    HEAD as HEAD,
)
from monitor.storage.revisions import (
    REVISION_SQL,
    VERSION_TABLE,
    schema_state,
)
from monitor.storage.revisions import REVISIONS as REVISIONS
from monitor.storage.revisions import SchemaError as SchemaError
from monitor.storage.revisions import SchemaState as SchemaState

SCRIPTS = Path(__file__).parent
TABLES_0_1_0 = frozenset(
    {
        *("nodes", "probe_samples", "state_changes", "node_states"),
        *("incidents", "incident_events", "notice_requests"),
        *("dispatch_notices", "dispatch_deliveries"),
    }
)
LOCK_WAIT_S = 120  # how long a second process waits for another's migration
DDL_LOCK_TIMEOUT_S = 10  # how long one DDL statement waits for a table lock


def inspect_schema(engine: Engine) -> SchemaState:
    """The database's revision, read under a shared lock on PostgreSQL."""
    with engine.connect() as conn, _locked(conn, shared=True):
        return _state(conn)


def _state(conn: Connection) -> SchemaState:
    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in tables:
        return schema_state(tables, None)
    return schema_state(tables, list(conn.execute(text(REVISION_SQL)).scalars()))


def require_current(engine: Engine, config_dir: str | None = None) -> SchemaState:
    """The state if current; else SchemaError in one line naming `commwatch db upgrade`."""
    state = inspect_schema(engine)
    if state.current:
        return state
    raise SchemaError(behind_message(engine, state, config_dir))


def behind_message(engine: Engine, state: SchemaState, config_dir: str | None) -> str:
    """One line: which database, where it stands, the command to run."""
    url = describe_database(engine.url.render_as_string(hide_password=False))
    return revisions.behind_message(url, state, config_dir)


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


def upgrade(engine: Engine, to: str = HEAD) -> tuple[SchemaState, SchemaState]:
    """Bring the database to HEAD (or to `to`) under the migration lock; (before, after)."""
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
        command.upgrade(settings, to)  # env.py runs the revisions on this connection
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

"""Shared fixtures: the database (every store test runs on SQLite and on PostgreSQL).

Shared fixtures: pytest finds them here; import only the helper types (`from tests.conftest import Db`).

- SQLite: a fresh file under tmp_path (WAL, as in production).
- PostgreSQL: one database `commwatch_test_<random>` per test module, created
  through the `test` database and dropped (WITH (FORCE)) at the end; one schema
  per test, selected with `search_path`, so tests and parallel runs never see
  each other's rows. The URL carries a password (trust auth ignores it) so the
  tests can check that no log line or error leaks it.
- PostgreSQL unreachable: skip with the reason on a laptop, fail under CI=true
  (`tests.requirements.missing`). Override the server with COMMWATCH_TEST_PG.
"""

from __future__ import annotations

import itertools
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL, Engine
from sqlalchemy.engine import make_url

from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from monitor.storage.store import Store
from tests.requirements import missing

PG_SERVER = os.environ.get(
    "COMMWATCH_TEST_PG", "postgresql+psycopg://root:hunter2@127.0.0.1:5432/test"
)
PG_PASSWORD = make_url(PG_SERVER).password
_schemas = itertools.count(1)


def _libpq(url: URL) -> str:
    """A psycopg conninfo for a SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Db:
    """One test's database: its URL and a way to make writers wait."""

    kind: str  # "sqlite" | "postgresql"
    url: str
    schema: str | None = None

    def engine(self, busy_timeout_s: float = 5.0) -> Engine:
        """An engine; on PostgreSQL `busy_timeout_s` becomes lock_timeout (as SQLite's)."""
        if self.kind == "sqlite":
            return open_engine(self.url, busy_timeout_s)
        options = f"-csearch_path={self.schema} -clock_timeout={int(busy_timeout_s * 1000)}"
        url = make_url(self.url).update_query_dict({"options": options})
        return open_engine(url.render_as_string(hide_password=False), busy_timeout_s)

    def hold_write_lock(self) -> AbstractContextManager[None]:
        """Block every writer (readers still read) until the block exits."""
        return _sqlite_lock(self.url) if self.kind == "sqlite" else _pg_lock(self.url, self.schema)


@contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock; WAL readers are unaffected
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@contextmanager
def _pg_lock(url: str, schema: str | None) -> Iterator[None]:
    with psycopg.connect(_libpq(make_url(url))) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        for table in ("probe_samples", "state_changes", "node_states"):
            conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # SELECT still allowed
        yield
        conn.rollback()


@pytest.fixture(autouse=True)
def state_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test's own $STATE_DIRECTORY (as systemd gives the daemon), inherited by daemons
    it starts: defaults such as `[console] state_dir` and the file notifier's outbox never
    land in the checkout's ./var, and two tests never share a control socket."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    return state


@pytest.fixture(scope="session")
def pg_server() -> Iterator[URL]:
    """A throwaway database on the PostgreSQL server, dropped at the end."""
    admin = make_url(PG_SERVER)
    try:
        conn = psycopg.connect(_libpq(admin), autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        missing(f"PostgreSQL unreachable at {admin.render_as_string()}: {exc}")
    name = f"commwatch_test_{secrets.token_hex(6)}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return Db("sqlite", f"sqlite:///{tmp_path / 'commwatch.db'}")
    server: URL = request.getfixturevalue("pg_server")
    schema = f"t{next(_schemas)}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return Db("postgresql", server.render_as_string(hide_password=False), schema)


@pytest.fixture
def store(db: Db) -> Iterator[Store]:
    """A Store on a created schema."""
    engine = db.engine()
    create_schema(engine)
    yield Store(engine)
    engine.dispose()

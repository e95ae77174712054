"""`Reader` over the stdlib sqlite3, read-only: `commwatch status` on SQLite without SQLAlchemy.

The file is opened `mode=ro` (a URI): a missing file is an error, never
created, and nothing is written to it — no journal, no schema, no pragma that
changes the file. A database in WAL mode (as the daemon keeps it) is read
while the daemon writes; the busy timeout covers the moments a reader must wait.
When no other connection has a WAL database open, SQLite makes its `-wal`
(empty) and `-shm` index files beside it for the read and, read-only, leaves
them there; the next writer uses them (as root, SQLite gives them the database
file's owner).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from monitor.storage.reads import Row
from monitor.storage.revisions import REVISION_SQL, VERSION_TABLE, SchemaState, schema_state

TABLES_SQL = (  # as SQLAlchemy's inspector lists them
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~'"
)


class SqliteReader:
    """A read-only sqlite3 connection that runs SQL text with `:name` parameters."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
        self.connection = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
        self.connection.row_factory = sqlite3.Row

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        """All rows of `sql` (`sqlite3.Row`: by column name)."""
        rows: list[sqlite3.Row] = self.connection.execute(sql, dict(params or {})).fetchall()
        return rows

    def schema(self) -> SchemaState:
        """Where the database stands (`monitor.storage.revisions`), as Alembic records it."""
        tables = {row["name"] for row in self.rows(TABLES_SQL)}
        if VERSION_TABLE not in tables:
            return schema_state(tables, None)
        return schema_state(tables, [row["version_num"] for row in self.rows(REVISION_SQL)])

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

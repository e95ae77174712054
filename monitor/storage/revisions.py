"""The schema revisions this commwatch knows, where a database stands, what to say when behind.

No SQLAlchemy and no Alembic here: `commwatch status` on SQLite checks the
revision through `monitor.storage.sqlite_reads`; everything else through
`monitor.storage.migrations` (which makes and upgrades schemas with Alembic).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

HEAD = "0005"
REVISIONS = ("0001", "0002", "0003", "0004", "0005")  # oldest first
VERSION_TABLE = "alembic_version"
REVISION_SQL = f"SELECT version_num FROM {VERSION_TABLE}"


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


def schema_state(tables: Collection[str], versions: Sequence[object] | None) -> SchemaState:
    """The state from the database's table names and `REVISION_SQL`'s values (None: not read)."""
    if VERSION_TABLE not in tables:
        return SchemaState(None, empty=not tables)
    revision = versions[0] if versions else None
    return SchemaState(str(revision) if revision is not None else None, empty=False)


def behind_message(url: str, state: SchemaState, config_dir: str | None) -> str:
    """One line: which database (`url` as people read it), where it stands, the command to run."""
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

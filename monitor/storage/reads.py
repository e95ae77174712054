"""Reading the database without SQLAlchemy: SQL text, a reader protocol, value converters.

`commwatch status` on SQLite starts without SQLAlchemy (docs/benchmarks.md):
its queries are SQL text with `:name` parameters, run by a `Reader` —
`monitor.storage.sqlite_reads.SqliteReader` (stdlib sqlite3, read-only) or
`monitor.storage.engine_reads.EngineReader` (SQLAlchemy: PostgreSQL, and the
daemon's answer on its control socket). Both run the same SQL, and the same
converters turn rows into objects: the converters accept what either driver
returns (SQLite: text times, 0/1, JSON text; PostgreSQL: datetime, bool,
parsed JSON) as well as the typed values of SQLAlchemy table queries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol


class Row(Protocol):
    """A row by column name: a dict, or SQLAlchemy's RowMapping."""

    def __getitem__(self, key: str, /) -> Any: ...


class Reader(Protocol):
    """Runs one SELECT and returns its rows as mappings (column name → value)."""

    errors: tuple[type[BaseException], ...]  # what a failed read raises (the driver's errors)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        """The rows of `sql` with `params` bound by name (`:name`)."""
        ...

    def close(self) -> None:
        """Release what the reader opened."""
        ...


def aware(value: datetime | str) -> datetime:
    """A time read back (a column, an aggregate; text on SQLite): naive ones are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc(value: datetime | str | None) -> datetime | None:
    """A stored time as `monitor.storage.engine.UtcDateTime` reads it: aware, in UTC."""
    if value is None:
        return None
    found = aware(value)
    return found if found.tzinfo is UTC else found.astimezone(UTC)


def utc_required(value: datetime | str) -> datetime:
    """`utc` of a NOT NULL column."""
    found = utc(value)
    assert found is not None
    return found


def flag(value: object) -> bool | None:
    """A boolean column (0/1 on SQLite)."""
    return None if value is None else bool(value)


def json_value(value: object) -> Any:
    """A JSON column: parsed already (PostgreSQL, SQLAlchemy's JSON type) or JSON text."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def placeholders(name: str, values: Sequence[object]) -> tuple[str, dict[str, object]]:
    """`:name0, :name1, …` for an IN list, and its parameters."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{key}" for key in params), params

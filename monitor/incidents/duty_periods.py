"""Periods entered on duty (保障期, maintenance windows): one table each, the same life.

Each is a row with `start_at`/`end_at`, ended early by setting `ended_at` (and who
did it). Loading one, listing them newest first and ending one are the same for
both; `monitor.incidents.guarantees` and `monitor.incidents.maintenance` keep what
differs (their columns, checks and how they join the running config).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Table, select, update

from monitor.incidents.authority import Actor, RefusedError


class Period(Protocol):
    """What ending a period reads of its record."""

    @property
    def name(self) -> str: ...
    @property
    def end_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...


P = TypeVar("P", bound=Period)
Convert = Callable[[Any], P]  # a row's mapping → its record


def load_one(connection: Connection, table: Table, record_id: int, convert: Convert[P]) -> P | None:
    """One period by id, or None."""
    row = connection.execute(select(table).where(table.c.id == record_id)).first()
    return convert(row._mapping) if row else None


def load_all(connection: Connection, table: Table, convert: Convert[P]) -> list[P]:
    """Every stored period, newest start first."""
    query = select(table).order_by(table.c.start_at.desc())
    return [convert(row._mapping) for row in connection.execute(query)]


def end_now(
    connection: Connection,
    table: Table,
    record_id: int,
    ending: tuple[Actor, datetime],
    convert: Convert[P],
    *,
    what: str,
    clause: str,
    hint: str = "",
) -> P:
    """End period `record_id` now for `by` (`ending` = (by, now)); refused when unknown or over.

    `what` names the period in the refusal (保障期, 维护窗口), `clause` the rule, `hint`
    where to look up ids.
    """
    by, now = ending
    record = load_one(connection, table, record_id, convert)
    if record is None:
        raise RefusedError(f"拒绝：没有{what}#{record_id}{hint}", clause)
    if record.ended_at is not None or record.end_at <= now:
        raise RefusedError(f"拒绝：{what}#{record_id}（{record.name}）已结束", clause)
    stmt = update(table).where(table.c.id == record_id)
    connection.execute(stmt.values(ended_at=now, ended_by=by.id, ended_by_name=by.name))
    ended = load_one(connection, table, record_id, convert)
    assert ended is not None
    return ended

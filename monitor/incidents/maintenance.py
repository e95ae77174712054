"""Maintenance windows entered on duty (the console), beside nodes.toml's [[maintenance]].

A window over nodes, systems or streets suppresses *opening* incidents for what
it covers (never following or restoring one), as nodes.toml's do. Entering and
ending one is the duty's (anyone on the duty list with a role, §4.2 (2)), and
records who did it. `with_windows(config, records)` gives the daemon a Config
whose `inventory.maintenance` holds both kinds (the node table and the scorer
read it).

    add(engine, config, name, start, end, by, nodes=…, systems=…, streets=…) -> MaintenanceRecord
    end(engine, window_id, by, now) -> MaintenanceRecord
    records(connection) -> [MaintenanceRecord]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, insert

from monitor.config import Config
from monitor.incidents import duty_periods
from monitor.incidents.authority import DUTY_CLAUSE, Actor, RefusedError, check_duty
from monitor.incidents.tables import maintenance_windows

if TYPE_CHECKING:
    from monitor.config.windows import MaintenanceWindow

CLAUSE = "§3.1.2 维护窗口内不立事件"


@dataclass(frozen=True)
class MaintenanceRecord:
    """One row of `maintenance_windows`."""

    id: int
    name: str
    start_at: datetime
    end_at: datetime
    nodes: tuple[str, ...]
    systems: tuple[str, ...]
    streets: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    created_by_name: str | None
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_by_name: str | None = None

    def active(self, now: datetime) -> bool:
        """In force now: started, not past its end, not ended early."""
        return self.ended_at is None and self.start_at <= now < self.end_at

    @property
    def scope(self) -> tuple[str, ...]:
        """Everything it covers."""
        return (*self.nodes, *self.systems, *self.streets)


def check_new(
    config: Config,
    name: str,
    start: datetime,
    end: datetime,
    scope: tuple[Sequence[str], Sequence[str], Sequence[str]],
) -> None:
    """A window to add: a name, end after start, a known scope (RefusedError otherwise)."""
    if not name.strip():
        raise RefusedError("拒绝：维护窗口须有名称", DUTY_CLAUSE)
    if end <= start:
        raise RefusedError(
            f"拒绝：维护窗口结束时间（{end.isoformat()}）须晚于开始时间（{start.isoformat()}）",
            CLAUSE,
        )
    nodes, systems, streets = scope
    if not (nodes or systems or streets):
        raise RefusedError("拒绝：维护窗口须至少指定一个节点、系统或街道", CLAUSE)
    for kind, given, known in (
        ("节点", nodes, config.nodes),
        ("系统", systems, config.systems),
        ("街道", streets, config.streets),
    ):
        unknown = [g for g in given if g not in known]
        if unknown:
            raise RefusedError(f"拒绝：配置中没有{kind} {'、'.join(unknown)}", CLAUSE)


def add(
    engine: Engine,
    config: Config,
    name: str,
    start: datetime,
    end: datetime,
    by: Actor,
    now: datetime,
    scope: tuple[Sequence[str], Sequence[str], Sequence[str]],
) -> MaintenanceRecord:
    """Store a window entered by `by`; returns it."""
    check_duty(by, "登记维护窗口")
    check_new(config, name, start, end, scope)
    nodes, systems, streets = scope
    values = {
        "name": name.strip(), "start_at": start, "end_at": end, "nodes": list(nodes),
        "systems": list(systems), "streets": list(streets), "created_at": now,
        "created_by": by.id, "created_by_name": by.name,
    }  # fmt: skip
    with engine.begin() as connection:
        stmt = insert(maintenance_windows).values(**values).returning(maintenance_windows.c.id)
        record = load(connection, int(connection.execute(stmt).scalar_one()))
    assert record is not None
    return record


def end(engine: Engine, window_id: int, by: Actor, now: datetime) -> MaintenanceRecord:
    """End a stored window now; refused when unknown or already over."""
    check_duty(by, "结束维护窗口")
    with engine.begin() as connection:
        return duty_periods.end_now(
            connection, maintenance_windows, window_id, (by, now), _record,
            what="维护窗口", clause=CLAUSE, hint="（commwatch window list）",
        )  # fmt: skip


def load(connection: Connection, window_id: int) -> MaintenanceRecord | None:
    """One window by id."""
    return duty_periods.load_one(connection, maintenance_windows, window_id, _record)


def records(connection: Connection) -> list[MaintenanceRecord]:
    """Every stored window, newest start first."""
    return duty_periods.load_all(connection, maintenance_windows, _record)


def windows(config: Config, stored: Sequence[MaintenanceRecord]) -> list[MaintenanceWindow]:
    """nodes.toml's windows and the stored ones not ended before they began."""
    merged = list(config.inventory.maintenance)
    for r in stored:
        if r.ended_at is not None and r.ended_at <= r.start_at:
            continue
        # pydantic loads only now: a daemon without windows entered on duty never needs it
        from monitor.config.windows import MaintenanceWindow

        stop = min(r.end_at, r.ended_at) if r.ended_at else r.end_at
        merged.append(
            MaintenanceWindow(
                name=r.name,
                start=r.start_at,
                end=stop,
                nodes=list(r.nodes),
                systems=list(r.systems),
                streets=list(r.streets),
            )
        )
    return merged


def with_windows(config: Config, stored: Sequence[MaintenanceRecord]) -> Config:
    """The config with the stored windows added to inventory.maintenance."""
    if not stored:
        return config
    inventory = config.inventory.model_copy(update={"maintenance": windows(config, stored)})
    return dataclasses.replace(config, inventory=inventory)


def _record(m: object) -> MaintenanceRecord:
    row = dict(m)  # type: ignore[call-overload]
    for key in ("nodes", "systems", "streets"):
        row[key] = tuple(row.get(key) or ())
    return MaintenanceRecord(**row)

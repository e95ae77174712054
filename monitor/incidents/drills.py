"""演练 (§6.1 "定期组织预案培训和演练"): a drill runs the plan as in a real event, marked.

While a drill is on, incidents entered by hand (`event add`) — and, with
`--include-monitor`, the monitor's own detections — are drill incidents
(`incidents.drill`): every notice and report about them is marked 【演练】 and
goes only to the drill's recipients (`[dispatch] drill_people`/`drill_units`,
default the HQ office); they never count as real incidents (metrics, lists).
Ending the drill gives the exercise report (`dispatch.drill_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from monitor.incidents.authority import Actor, RefusedError, check_duty
from monitor.incidents.tables import drills

CLAUSE = "§6.1 演练"


@dataclass(frozen=True)
class Drill:
    """One row of `drills`."""

    id: int
    name: str
    started_at: datetime
    started_by: str | None
    started_by_name: str | None
    include_monitor: bool
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_by_name: str | None = None


def active(connection: Connection) -> Drill | None:
    """The drill going on, if any."""
    query = select(drills).where(drills.c.ended_at.is_(None)).order_by(drills.c.id.desc())
    row = connection.execute(query.limit(1)).first()
    return Drill(**row._mapping) if row else None


def load(connection: Connection, drill_id: int) -> Drill | None:
    """One drill by id."""
    row = connection.execute(select(drills).where(drills.c.id == drill_id)).first()
    return Drill(**row._mapping) if row else None


def latest(connection: Connection) -> Drill | None:
    """The newest drill."""
    row = connection.execute(select(drills).order_by(drills.c.id.desc()).limit(1)).first()
    return Drill(**row._mapping) if row else None


def start(
    connection: Connection, name: str, by: Actor, now: datetime, include_monitor: bool
) -> Drill:
    """Start a drill; refused while another one is on."""
    check_duty(by, "开始演练")
    if not name.strip():
        raise RefusedError("拒绝：演练须有名称（--name）", CLAUSE)
    going = active(connection)
    if going is not None:
        raise RefusedError(f"拒绝：演练#{going.id}（{going.name}）尚未结束", CLAUSE)
    values = {
        "name": name.strip(), "started_at": now, "started_by": by.id,
        "started_by_name": by.name, "include_monitor": include_monitor,
    }  # fmt: skip
    new_id = connection.execute(insert(drills).values(**values).returning(drills.c.id))
    drill = load(connection, int(new_id.scalar_one()))
    assert drill is not None
    return drill


def end(connection: Connection, by: Actor, now: datetime) -> Drill:
    """End the drill going on."""
    check_duty(by, "结束演练")
    going = active(connection)
    if going is None:
        raise RefusedError("拒绝：当前没有进行中的演练（drill start）", CLAUSE)
    stmt = update(drills).where(drills.c.id == going.id)
    connection.execute(stmt.values(ended_at=now, ended_by=by.id, ended_by_name=by.name))
    ended = load(connection, going.id)
    assert ended is not None
    return ended


def marks(connection: Connection, source: str) -> bool:
    """True when an incident opened now from `source` is a drill incident."""
    going = active(connection)
    return going is not None and (source != "monitor" or going.include_monitor)

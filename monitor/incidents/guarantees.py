"""保障期 (§3.1.2 (4)) entered on duty: scheduled periods with stricter thresholds, never incidents.

"党政机关重要集会或社会重大活动要求通信网络予以保障的" is a *period* during which
the systems concerned are judged more strictly (`monitor.nodes.windows`), not an
event to report. `commwatch guarantee add` stores one in `guarantee_periods`;
`periods(config, records)` merges them with plan.toml's [[guarantee]] as the
`GuaranteePeriod`s the scorer and the node table read; `with_periods` gives the
daemon a Config that holds both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert

from monitor.config import Config
from monitor.incidents import duty_periods
from monitor.incidents.authority import Actor, RefusedError, check_duty
from monitor.incidents.tables import guarantee_periods

if TYPE_CHECKING:
    from monitor.config.windows import GuaranteePeriod

CLAUSE = "§3.1.2 (4) 重要集会或重大活动保障"
MARKERS = ("保障期", "保障")  # how a report names a guarantee requirement


@dataclass(frozen=True)
class GuaranteeRecord:
    """One row of `guarantee_periods`."""

    id: int
    name: str
    start_at: datetime
    end_at: datetime
    systems: tuple[str, ...]
    fail_after: int
    created_at: datetime
    created_by: str | None
    created_by_name: str | None
    ended_at: datetime | None = None
    ended_by: str | None = None
    ended_by_name: str | None = None

    def active(self, now: datetime) -> bool:
        """In force now: started, not past its end, not ended early."""
        return self.ended_at is None and self.start_at <= now < self.end_at


def check_new(
    config: Config, name: str, start: datetime, end: datetime, systems: Sequence[str]
) -> None:
    """A period to add: a name, end after start, known systems (RefusedError otherwise)."""
    if not name.strip():
        raise RefusedError("拒绝：保障期须有名称（--name）", CLAUSE)
    if end <= start:
        raise RefusedError(
            f"拒绝：保障期结束时间（--end {end.isoformat()}）"
            f"须晚于开始时间（--start {start.isoformat()}）",
            CLAUSE,
        )
    unknown = [s for s in systems if s not in config.systems]
    if unknown:
        known = "、".join(config.systems) or "（无）"
        raise RefusedError(
            f"拒绝：nodes.toml 中没有系统 {'、'.join(unknown)}（--system）；可用：{known}"
        )


def add(
    connection: Connection,
    name: str,
    start: datetime,
    end: datetime,
    systems: Sequence[str],
    fail_after: int,
    by: Actor | None,
    now: datetime,
) -> int:
    """Store a period; returns its id."""
    if by is not None:
        check_duty(by, "登记保障期")
    values = {
        "name": name.strip(),
        "start_at": start,
        "end_at": end,
        "systems": list(systems),
        "fail_after": fail_after,
        "created_at": now,
        "created_by": by.id if by else None,
        "created_by_name": by.name if by else None,
    }
    stmt = insert(guarantee_periods).values(**values).returning(guarantee_periods.c.id)
    return int(connection.execute(stmt).scalar_one())


def end(connection: Connection, period_id: int, by: Actor, now: datetime) -> GuaranteeRecord:
    """End a period early (or record that it is over); refused when unknown or already ended."""
    check_duty(by, "结束保障期")
    return duty_periods.end_now(
        connection, guarantee_periods, period_id, (by, now), _record,
        what="保障期", clause=CLAUSE, hint="（commwatch guarantee list）",
    )  # fmt: skip


def load(connection: Connection, period_id: int) -> GuaranteeRecord | None:
    """One period by id."""
    return duty_periods.load_one(connection, guarantee_periods, period_id, _record)


def records(connection: Connection) -> list[GuaranteeRecord]:
    """Every stored period, newest start first."""
    return duty_periods.load_all(connection, guarantee_periods, _record)


def periods(config: Config, stored: Sequence[GuaranteeRecord]) -> list[GuaranteePeriod]:
    """plan.toml's periods and the stored ones not ended early, as GuaranteePeriods."""
    merged = list(config.plan.guarantee)
    every = list(config.systems)
    for record in stored:
        if record.ended_at is not None and record.ended_at <= record.start_at:
            continue
        stop = min(record.end_at, record.ended_at) if record.ended_at else record.end_at
        systems = list(record.systems) or every
        if not systems:
            continue
        # pydantic loads only now: `status` and a daemon without periods entered never need it
        from monitor.config.windows import GuaranteePeriod

        merged.append(
            GuaranteePeriod(
                name=record.name,
                systems=systems,
                start=record.start_at,
                end=stop,
                fail_after=record.fail_after,
            )
        )
    return merged


def with_periods(config: Config, stored: Sequence[GuaranteeRecord]) -> Config:
    """The config with the stored periods added to plan.guarantee (what the daemon runs on)."""
    if not stored:
        return config
    plan = config.plan.model_copy(update={"guarantee": periods(config, stored)})
    return dataclasses.replace(config, plan=plan)


def names_a_period(text: str, names: Sequence[str]) -> bool:
    """True when a report's text names a 保障期 (a marker word or a known period's name)."""
    return any(marker in text for marker in MARKERS) or any(n and n in text for n in names)


def refuse_as_incident(text: str) -> RefusedError:
    """The refusal of `event add --source event` for a 保障期, pointing to `guarantee add`."""
    return RefusedError(
        f"拒绝：“{text.strip()[:40]}”是保障期，不是事件：保障期期间相关系统按更严的阈值监测，"
        "不立事件、不起报告时钟。请用 commwatch guarantee add --name 名称 "
        "--start 开始 --end 结束 登记",
        CLAUSE,
    )


def _record(m: object) -> GuaranteeRecord:
    row = dict(m)  # type: ignore[call-overload]
    row["systems"] = tuple(row.get("systems") or ())
    return GuaranteeRecord(**row)

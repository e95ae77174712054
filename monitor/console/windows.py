"""The windows page: maintenance windows and 保障期, from the config files and the database.

Windows and periods entered in the console (保障期 also with `commwatch
guarantee add`) live in the database and can be ended early; those of
nodes.toml and plan.toml change with the config files. `add_period` goes
through the same engine call (and the same §4.2 / §3.1.2 (4) rules) as the
CLI; `add_window` through `monitor.incidents.maintenance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from monitor.config import Config
from monitor.console.actions import BadRequestError
from monitor.incidents import maintenance
from monitor.incidents.authority import Actor
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.guarantees import GuaranteeRecord
from monitor.incidents.maintenance import MaintenanceRecord
from monitor.nodes.windows import window_active

if TYPE_CHECKING:
    from monitor.config.windows import WindowSchedule

FIELDS = ("name", "start", "end", "systems", "fail_after")
WINDOW_FIELDS = ("name", "start", "end", "nodes", "systems", "streets")


@dataclass(frozen=True)
class WindowRow:
    """One window as the page lists it (`period` is set for a stored 保障期)."""

    kind: str  # 维护 | 保障期
    name: str
    when: str
    scope: str
    active: bool
    period: int | None = None
    state: str = ""
    by: str = ""
    window: int | None = None  # a stored maintenance window


def _when(window: WindowSchedule) -> str:
    if window.start is not None and window.end is not None:
        return f"{window.start:%Y-%m-%d %H:%M} — {window.end:%Y-%m-%d %H:%M}（{window.timezone}）"
    days = "、".join(window.weekdays)
    return f"每周 {days} {window.at} 起 {window.duration}（{window.timezone}）"


def _entered(
    record: GuaranteeRecord | MaintenanceRecord, now: datetime, zone: ZoneInfo
) -> WindowRow:
    """A 保障期 or maintenance window entered on duty, as a row naming who entered or ended it."""
    active = record.active(now)
    state = "生效中" if active else "未开始" if now < record.start_at else "已结束"
    when = (
        f"{record.start_at.astimezone(zone):%Y-%m-%d %H:%M} — "
        f"{record.end_at.astimezone(zone):%Y-%m-%d %H:%M}（{zone.key}）"
    )
    by = record.created_by_name or record.created_by or ""
    if record.ended_at is not None:
        by += f"；{record.ended_by_name or record.ended_by}提前结束"
    if isinstance(record, MaintenanceRecord):
        scope = "、".join(record.scope)
        return WindowRow("维护", record.name, when, scope, active, None, state, by, record.id)
    scope = "、".join(record.systems) or "全部系统"
    return WindowRow("保障期", record.name, when, scope, active, record.id, state, by)


def windows_view(
    config: Config,
    now: datetime,
    stored: Sequence[GuaranteeRecord] = (),
    maintained: Sequence[MaintenanceRecord] = (),
) -> list[WindowRow]:
    """Every window, active ones first."""
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    rows = [
        WindowRow(
            "维护",
            w.name,
            _when(w),
            "、".join([*w.nodes, *w.systems, *w.streets]),
            window_active(w, now),
            state="生效中" if window_active(w, now) else "未生效",
            by="nodes.toml",
        )
        for w in config.inventory.maintenance
    ]
    rows += [
        WindowRow(
            "保障期",
            g.name,
            _when(g),
            "、".join(g.systems) or "全部系统",
            window_active(g, now),
            state="生效中" if window_active(g, now) else "未生效",
            by="plan.toml",
        )
        for g in config.plan.guarantee
    ]
    entered: list[GuaranteeRecord | MaintenanceRecord] = [*stored, *maintained]
    rows += [_entered(r, now, zone) for r in entered]
    return sorted(rows, key=lambda r: not r.active)


def _time(body: Mapping[str, Any], key: str, zone: ZoneInfo) -> datetime:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError(f"缺少字段 {key}（ISO 8601 时间，如 2026-03-01T08:00）")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequestError(f"字段 {key} 不是 ISO 8601 时间：{value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _systems(body: Mapping[str, Any], key: str = "systems") -> list[str]:
    value = body.get(key, [])
    if isinstance(value, str):  # the page's form: comma- or space-separated
        value = [s for s in value.replace("，", ",").replace(",", " ").split() if s]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise BadRequestError(f"字段 {key} 须为编号的列表")
    return value


def _fail_after(body: Mapping[str, Any]) -> int:
    value = body.get("fail_after", 1)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise BadRequestError("字段 fail_after 须为 1–100 的整数")
    return value


def add_period(engine: IncidentEngine, by: Actor, body: Mapping[str, Any]) -> GuaranteeRecord:
    """A 保障期 from a JSON body, entered by the signed-in person."""
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise BadRequestError(
            f"未知字段：{'、'.join(sorted(unknown))}（可用：{'、'.join(FIELDS)}）"
        )
    zone = ZoneInfo(engine.config.daemon.dispatch.timezone)
    name = body.get("name", "")
    if not isinstance(name, str):
        raise BadRequestError("字段 name 须为字符串")
    start, end = _time(body, "start", zone), _time(body, "end", zone)
    return engine.add_guarantee(name, start, end, by, _systems(body), _fail_after(body))


def add_window(engine: IncidentEngine, by: Actor, body: Mapping[str, Any]) -> MaintenanceRecord:
    """A maintenance window from a JSON body, entered by the signed-in person."""
    unknown = set(body) - set(WINDOW_FIELDS)
    if unknown:
        known = "、".join(WINDOW_FIELDS)
        raise BadRequestError(f"未知字段：{'、'.join(sorted(unknown))}（可用：{known}）")
    zone = ZoneInfo(engine.config.daemon.dispatch.timezone)
    name = body.get("name", "")
    if not isinstance(name, str):
        raise BadRequestError("字段 name 须为字符串")
    start, end = _time(body, "start", zone), _time(body, "end", zone)
    scope = (_systems(body, "nodes"), _systems(body, "systems"), _systems(body, "streets"))
    return maintenance.add(
        engine.engine, engine.config, name, start, end, by, engine.clock(), scope
    )


def stored_windows(engine: Engine) -> list[MaintenanceRecord]:
    """Maintenance windows entered on duty, newest first."""
    with engine.connect() as connection:
        return maintenance.records(connection)


def window_json(record: MaintenanceRecord, now: datetime) -> dict[str, Any]:
    """A stored maintenance window as the API returns it."""
    state = "active" if record.active(now) else "planned" if now < record.start_at else "ended"
    return {
        "id": record.id,
        "name": record.name,
        "start": record.start_at.isoformat(),
        "end": record.end_at.isoformat(),
        "nodes": list(record.nodes),
        "systems": list(record.systems),
        "streets": list(record.streets),
        "state": state,
        "active": state == "active",
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "by": record.created_by_name or record.created_by,
    }


def period_json(record: GuaranteeRecord, now: datetime) -> dict[str, Any]:
    """A stored 保障期 as the API returns it (the keys of `guarantee list --json`)."""
    state = "active" if record.active(now) else "planned" if now < record.start_at else "ended"
    return {
        "id": record.id,
        "source": "database",
        "name": record.name,
        "start": record.start_at.isoformat(),
        "end": record.end_at.isoformat(),
        "systems": list(record.systems),
        "fail_after": record.fail_after,
        "state": state,
        "active": state == "active",
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "by": record.created_by_name or record.created_by,
    }

"""电话通知: call tasks for the HQ office duty, and what came of each call.

    create_for(connection, config, renderer, notice, now)   # after routing: which units to phone
    open_calls(engine) -> [CallTask]                         # `commwatch call list`
    complete(incidents, call_id, by, answered_by, outcome)   # `commwatch call done`

A unit the notice is meant for gets a call task when
- the plan says the notice goes by phone (§3.4 "通过电话、电子邮件、传真等方式"
  — `[calls] kinds`, by default the warning kinds), or
- no channel reaches it: it has no delivery for the notice (only a landline
  duty phone, as 28 annex units do), or every delivery to it failed.
Only units with a duty phone can be phoned; one task per notice and unit. The
script is the notice's short (SMS) text, so the officer reads out what the
others received. A task is due `[calls] within` after the notice; if it is
not done by then it escalates along the HQ office unit's chain
(`dispatch.escalation`, head "call:<id>"). Done = who called, when, who
answered, the outcome; someone answered → the unit's deliveries of that
notice count as acknowledged (means "call"). Each call is a timeline event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from dispatch import escalation
from dispatch.acks import mark_acknowledged
from dispatch.followup_reads import CallTask, task_of
from dispatch.followup_tables import call_tasks
from dispatch.models import FAILED, aware, deliveries
from dispatch.notice_data import request_view
from dispatch.outbox_rows import request_of
from dispatch.render import Renderer
from dispatch.router import facts_of, matches, recipients_of, rules_for
from monitor.config import Config
from monitor.incidents.authority import Actor, RefusedError
from monitor.incidents.engine import IncidentEngine
from monitor.storage.engine import insert_new


def units_of(config: Config, notice: Row[Any]) -> list[str]:
    """The units a notice is meant for (whether or not any channel reaches them)."""
    request = request_of(notice)
    facts = facts_of(request, config)
    units: dict[str, None] = {}
    for rule in rules_for(request, config):  # a drill's notice: the drill's recipients only
        if matches(rule, facts):
            for recipient in recipients_of(rule, facts, config):
                kind, _, name = recipient.key.partition(":")
                if kind == "unit":
                    units.setdefault(name, None)
    return list(units)


def create_for(
    connection: Connection, config: Config, renderer: Renderer, notice: Row[Any], now: datetime
) -> int:
    """The call tasks a routed notice needs (see the module docstring); how many are new."""
    settings = config.daemon.calls
    if not settings.enabled or request_of(notice).context.get("drill"):
        return 0  # a drill (§6.1) phones nobody and escalates nothing
    by_phone = notice.kind in settings.kinds
    made = 0
    script: str | None = None
    for name in units_of(config, notice):
        unit = config.units.get(name)
        if unit is None or not unit.duty_phone:
            continue
        reason = (
            "plan" if by_phone else "unreachable" if _unreached(connection, notice, name) else ""
        )
        if not reason:
            continue
        script = script or _script(config, renderer, notice)
        made += _insert(connection, config, notice, name, unit.duty_phone, reason, script, now)
    return made


def _unreached(connection: Connection, notice: Row[Any], unit: str) -> bool:
    statuses = connection.execute(
        select(deliveries.c.status).where(
            deliveries.c.notice_id == notice.id, deliveries.c.recipient_key == f"unit:{unit}"
        )
    ).scalars()
    return all(s == FAILED for s in statuses)  # none at all, or every one failed


def _script(config: Config, renderer: Renderer, notice: Row[Any]) -> str:
    request = request_of(notice)
    view = request_view(config, request)
    office = config.contacts.hq.office_name
    return f"这里是{office}。{renderer.message(view, 'sms').text} 请确认收到。"


def _insert(
    connection: Connection,
    config: Config,
    notice: Row[Any],
    unit: str,
    phone: str,
    reason: str,
    script: str,
    now: datetime,
) -> int:
    due = aware(notice.routed_at or now) + config.daemon.calls.within
    values = {
        "notice_id": notice.id,
        "incident_id": notice.incident_id,
        "kind": notice.kind,
        "unit": unit,
        "phone": phone,
        "reason": reason,
        "script": script,
        "created_at": now,
        "due_at": due,
    }
    stmt = insert_new(connection, call_tasks, values, ["notice_id", "unit"]).returning(
        call_tasks.c.id
    )
    call_id = connection.execute(stmt).scalar()
    if call_id is None:
        return 0
    chain = escalation.chain_for(config, f"call:{call_id}", notice.kind)
    if chain is not None:
        label = f"电话通知#{call_id}（{unit}）"
        escalation.insert(connection, notice, f"call:{call_id}", label, chain, due, now)
    return 1


class CallNotFoundError(LookupError):
    """No call task with that id."""


def complete(
    incidents: IncidentEngine, call_id: int, by: Actor, answered_by: str, outcome: str
) -> CallTask:
    """Record a call made; its escalation ends; an answer acknowledges the unit's notice."""
    with incidents.engine.connect() as connection:
        row = connection.execute(select(call_tasks).where(call_tasks.c.id == call_id)).first()
    if row is None:
        raise CallNotFoundError(f"没有电话通知#{call_id}")

    def record(connection: Connection, now: datetime) -> dict[str, Any] | None:
        current = connection.execute(select(call_tasks).where(call_tasks.c.id == call_id)).one()
        if current.done_at is not None:
            raise RefusedError(
                f"拒绝：电话通知#{call_id}已于{aware(current.done_at).astimezone():%Y-%m-%d %H:%M}"
                f"由{current.done_by}记录完成"
            )
        done = {"done_at": now, "done_by": by.id, "answered_by": answered_by, "outcome": outcome}
        connection.execute(update(call_tasks).where(call_tasks.c.id == call_id).values(done))
        escalation.end_for_call(connection, call_id, "done", now)
        acked = _acknowledge_unit(connection, current, by, answered_by, now)
        return {
            "call": call_id,
            "unit": current.unit,
            "phone": current.phone,
            "kind": current.kind,
            "answered_by": answered_by,
            "outcome": outcome,
            "acknowledged": acked,
            "means": "call",
        }

    note = f"致电{row.unit}（{row.phone}），接听人：{answered_by or '无人接听'}；结果：{outcome}"
    incidents.follow_up(row.incident_id, "called", by, note, record)
    with incidents.engine.connect() as connection:
        return task_of(
            connection.execute(select(call_tasks).where(call_tasks.c.id == call_id)).one()._mapping
        )


def _acknowledge_unit(
    connection: Connection, call: Row[Any], by: Actor, answered_by: str, now: datetime
) -> bool:
    if not answered_by.strip():
        return False
    first = connection.execute(
        select(deliveries.c.id)
        .where(
            deliveries.c.notice_id == call.notice_id,
            deliveries.c.recipient_key == f"unit:{call.unit}",
            deliveries.c.escalation_id.is_(None),
        )
        .limit(1)
    ).scalar()
    if first is None:
        return False
    return mark_acknowledged(connection, first, by, "call", now) is not None

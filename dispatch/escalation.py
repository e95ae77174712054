"""Escalation: a notice nobody acknowledged goes to the next person of the chain, on time.

    start(connection, config, notice, now)         # a routed notice: its chains begin
    due(engine, now) -> [escalation ids]           # open chains whose step is due
    step(incidents, config, renderer, id)          # one step, one transaction

A chain (`[[escalation.chain]]`) starts at a unit or a person. When a notice
reaches that head, a `notice_escalations` row is written with `due_at` =
routed + ack_within. If nobody acknowledged by then — or every delivery of the
current step failed, so waiting is pointless — the next person of `then` gets
the notice (email and SMS, each with a line saying whose 收到 is missing);
`step` and the next `due_at` are written in the same transaction, together
with an `escalated` timeline event. When `then` is used up the chain ends
("exhausted"); a 收到 from anyone it reached ends it at once ("acknowledged").

The clock lives in the database, so a restarted daemon neither loses a step
nor repeats one: a step is one transaction, and its deliveries have their own
dedupe keys (notice key + "#esc<id>.<step>"), unique in the outbox.
Call tasks escalate through the same rows (head "call:<id>"), along the chain
of the HQ office unit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Row, func, select, update

from dispatch.ack_links import footer
from dispatch.followup_tables import call_tasks, escalations
from dispatch.models import (
    DELIVERY_KEY,
    FAILED,
    NOTICE_ROUTED,
    PENDING,
    SENDING,
    SENT,
    STANDBY,
    aware,
    deliveries,
    notices,
)
from dispatch.notice_data import request_view
from dispatch.outbox_rows import request_of
from dispatch.render import Renderer
from dispatch.router import person_recipient
from monitor.config import Config
from monitor.incidents.authority import SYSTEM
from monitor.incidents.engine import IncidentEngine
from monitor.plan.names import duration_name
from monitor.storage.engine import insert_new

if TYPE_CHECKING:
    from monitor.config.followup import ChainConfig

log = logging.getLogger(__name__)

LIVE = (PENDING, SENDING, SENT, STANDBY)


@dataclass(frozen=True)
class Chain:
    """Who comes after a head, and how long each step may wait for 收到."""

    people: tuple[str, ...]
    ack_within: timedelta


def chain_for(config: Config, head: str, kind: str) -> Chain | None:
    """The configured chain of a recipient ("unit:…", "person:…") for a notice kind."""
    settings = config.daemon.escalation
    if not settings.enabled:
        return None
    if head.startswith("call:"):
        head = f"unit:{config.contacts.hq.office_unit}"
        kind = ""
    for chain in settings.chain:
        if chain.head == head and _covers(chain, kind):
            return Chain(tuple(chain.then), chain.ack_within or settings.ack_within)
    return None


def _covers(chain: ChainConfig, kind: str) -> bool:
    return not chain.kinds or not kind or kind in chain.kinds


def start(connection: Connection, config: Config, notice: Row[Any], now: datetime) -> int:
    """Begin the chains of a routed notice's recipients; returns how many began.

    A drill notice (§6.1) never escalates: it stays with the drill's recipients.
    """
    if request_of(notice).context.get("drill"):
        return 0
    heads = connection.execute(
        select(deliveries.c.recipient_key, deliveries.c.recipient, func.max(deliveries.c.acked_at))
        .where(deliveries.c.notice_id == notice.id, deliveries.c.escalation_id.is_(None))
        .group_by(deliveries.c.recipient_key, deliveries.c.recipient)
    ).all()
    routed = aware(notice.routed_at or now)
    begun = 0
    for head, label, acked in heads:
        if acked is not None:
            continue  # acknowledged before its chain began: nothing to escalate
        chain = chain_for(config, head, notice.kind)
        if chain is not None:
            begun += insert(connection, notice, head, label, chain, routed + chain.ack_within, now)
    return begun


def insert(
    connection: Connection,
    notice: Row[Any],
    head: str,
    label: str,
    chain: Chain,
    due_at: datetime,
    now: datetime,
) -> int:
    """One escalation row (once per notice and head); 1 when it is new."""
    values = {
        "notice_id": notice.id,
        "incident_id": notice.incident_id,
        "head": head,
        "head_label": label,
        "chain": list(chain.people),
        "step": 0,
        "due_at": due_at,
        "created_at": now,
        "updated_at": now,
    }
    stmt = insert_new(connection, escalations, values, ["notice_id", "head"])
    return int(connection.execute(stmt).rowcount or 0)


def due(engine: Engine, now: datetime) -> list[int]:
    """Open escalations whose time is up, or whose current step failed everywhere."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(escalations).where(escalations.c.ended_at.is_(None)).order_by(escalations.c.id)
        ).all()
        return [row.id for row in rows if aware(row.due_at) <= now or _dead(connection, row)]


def _dead(connection: Connection, row: Row[Any]) -> bool:
    """True when the current step has deliveries and none is alive (all failed)."""
    statuses = connection.execute(_step_deliveries(row, deliveries.c.status)).scalars().all()
    if row.head.startswith("call:") and row.step == 0:
        return False  # the call itself is the first step
    return bool(statuses) and all(s == FAILED for s in statuses)


def _step_deliveries(row: Row[Any], *columns: Any) -> Any:
    if row.step == 0:
        return select(*columns).where(
            deliveries.c.notice_id == row.notice_id,
            deliveries.c.recipient_key == row.head,
            deliveries.c.escalation_id.is_(None),
        )
    return select(*columns).where(
        deliveries.c.escalation_id == row.id, deliveries.c.escalation_step == row.step
    )


def step(incidents: IncidentEngine, config: Config, renderer: Renderer, escalation_id: int) -> str:
    """Take one step of one escalation if still due: "escalated", "exhausted" or "" (no-op)."""
    outcome = [""]

    def record(connection: Connection, now: datetime) -> dict[str, Any] | None:
        row = _locked(connection, escalation_id)
        if row is None or row.ended_at is not None:
            return None
        if aware(row.due_at) > now and not _dead(connection, row):
            return None
        chain: list[str] = list(row.chain)
        if row.step >= len(chain):
            _end(connection, row.id, "exhausted", now)
            outcome[0] = "exhausted"
            log.warning("escalation chain ended unacknowledged", extra={"fields": _fields(row)})
            return {"head": row.head, "head_name": row.head_label, "step": row.step, "ended": True}
        target = chain[row.step]
        notice = connection.execute(select(notices).where(notices.c.id == row.notice_id)).one()
        within = _within(config, row, notice.kind)
        made = _notify(connection, config, renderer, notice, row, target, within, now)
        values = {"step": row.step + 1, "due_at": now + within, "updated_at": now}
        connection.execute(update(escalations).where(escalations.c.id == row.id).values(values))
        outcome[0] = "escalated"
        log.warning(
            "notice escalated",
            extra={"fields": {**_fields(row), "to": target, "deliveries": made}},
        )
        return {
            "head": row.head,
            "head_name": row.head_label,
            "step": row.step + 1,
            "to": target,
            "deliveries": made,
        }

    with incidents.engine.connect() as connection:
        incident_id = connection.execute(
            select(escalations.c.incident_id).where(escalations.c.id == escalation_id)
        ).scalar()
    incidents.follow_up(incident_id, "escalated", SYSTEM, "未在时限内确认收到，升级通知", record)
    return outcome[0]


def _fields(row: Row[Any]) -> dict[str, Any]:
    return {"escalation": row.id, "notice": row.notice_id, "head": row.head, "step": row.step}


def _within(config: Config, row: Row[Any], kind: str) -> timedelta:
    chain = chain_for(config, row.head, kind)
    return chain.ack_within if chain is not None else config.daemon.escalation.ack_within


def _locked(connection: Connection, escalation_id: int) -> Row[Any] | None:
    query = select(escalations).where(escalations.c.id == escalation_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return connection.execute(query).first()


def _end(connection: Connection, escalation_id: int, reason: str, now: datetime) -> None:
    values = {"ended_at": now, "end_reason": reason, "updated_at": now}
    connection.execute(update(escalations).where(escalations.c.id == escalation_id).values(values))


def end_for_call(connection: Connection, call_id: int, reason: str, now: datetime) -> None:
    """A call was made: its escalation ends."""
    connection.execute(
        update(escalations)
        .where(escalations.c.head == f"call:{call_id}", escalations.c.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason, updated_at=now)
    )


def _notify(
    connection: Connection,
    config: Config,
    renderer: Renderer,
    notice: Row[Any],
    row: Row[Any],
    person_id: str,
    within: timedelta,
    now: datetime,
) -> int:
    """Deliveries of this step to one person (email and SMS); how many were made."""
    person = config.people.get(person_id)
    if person is None:
        log.error("escalation target not in contacts.toml", extra={"fields": {"to": person_id}})
        return 0
    recipient = person_recipient(person)
    made = 0
    for channel in ("email", "sms"):
        addresses = recipient.addresses(channel)
        if not addresses:
            continue
        subject, body, html = _text(connection, config, renderer, notice, row, channel, within)
        dedupe_key = f"{notice.dedupe_key}#esc{row.id}.{row.step + 1}"
        link = footer(config, dedupe_key, recipient.key, now) if channel == "email" else None
        if link is not None:
            body, html = body + link[0], (html + link[1] if html is not None else None)
        for address in addresses:
            values = {
                "notice_id": notice.id,
                "dedupe_key": dedupe_key,
                "channel": channel,
                "address": address,
                "recipient_key": recipient.key,
                "recipient": recipient.label,
                "stage": 0,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "subject": subject,
                "body": body,
                "html": html,
                "permanent": False,
                "created_at": now,
                "updated_at": now,
                "escalation_id": row.id,
                "escalation_step": row.step + 1,
            }
            stmt = insert_new(connection, deliveries, values, DELIVERY_KEY)
            made += int(connection.execute(stmt).rowcount or 0)
    return made


def _text(
    connection: Connection,
    config: Config,
    renderer: Renderer,
    notice: Row[Any],
    row: Row[Any],
    channel: str,
    within: timedelta,
) -> tuple[str, str, str | None]:
    """The step's message: the notice as rendered, after a line saying whose 收到 is missing."""
    if row.head.startswith("call:"):
        call = connection.execute(
            select(call_tasks).where(call_tasks.c.id == int(row.head.partition(":")[2]))
        ).one()
        line = f"【电话通知超时】请即致电{call.unit}（{call.phone}）：{call.script}"
        return f"电话通知超时：{call.unit}", line, None
    request = request_of(notice)
    view = request_view(config, request)
    rendered = renderer.message(view, channel)
    waited = duration_name(within)
    line = f"【升级通知】{row.head_label}未在{waited}内确认收到。"
    html = f"<p><strong>{line}</strong></p>{rendered.html}" if rendered.html else None
    return f"{line}{rendered.subject}", f"{line}{rendered.text}", html


def routed_since(connection: Connection, since: datetime) -> list[Row[Any]]:
    """Notices routed at or after `since` (the follow-up loop's window), oldest first."""
    return list(
        connection.execute(
            select(notices)
            .where(notices.c.status == NOTICE_ROUTED, notices.c.routed_at >= since)
            .order_by(notices.c.id)
        )
    )

"""Follow-up as read by people and metrics: open call tasks, escalation counts, failing numbers.

Read-only queries over the follow-up tables, kept apart from the modules that
act (calls, escalation, receipts) so that `commwatch status` and `call list`
start without loading routing, rendering and the channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select

from dispatch.followup_tables import call_tasks, contact_flags, escalations
from dispatch.models import aware
from monitor.config import Config


@dataclass(frozen=True)
class CallTask:
    """One unit to phone about one notice."""

    id: int
    unit: str
    phone: str
    incident: int | None
    kind: str
    reason: str  # plan | unreachable
    script: str
    created_at: datetime
    due: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    answered_by: str | None = None
    outcome: str | None = None


def open_calls(engine: Engine, include_done: bool = False) -> list[CallTask]:
    """Call tasks not yet done (or all), the most urgent first."""
    query = select(call_tasks).order_by(call_tasks.c.due_at, call_tasks.c.id)
    if not include_done:
        query = query.where(call_tasks.c.done_at.is_(None))
    with engine.connect() as connection:
        return [task_of(row) for row in connection.execute(query)]


def calls_of(engine: Engine, incident_id: int) -> list[CallTask]:
    """Every call task of one incident, in order (for the 通知情况 table)."""
    query = select(call_tasks).where(call_tasks.c.incident_id == incident_id)
    with engine.connect() as connection:
        return [task_of(row) for row in connection.execute(query.order_by(call_tasks.c.id))]


def task_of(row: Row[Any]) -> CallTask:
    """A call task from its row."""
    return CallTask(
        row.id,
        row.unit,
        row.phone,
        row.incident_id,
        row.kind,
        row.reason,
        row.script,
        aware(row.created_at),
        aware(row.due_at),
        aware(row.done_at) if row.done_at else None,
        row.done_by,
        row.answered_by,
        row.outcome,
    )


def open_counts(engine: Engine) -> dict[str, int]:
    """Open escalations by whether a step was taken (for metrics)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(escalations.c.step).where(escalations.c.ended_at.is_(None))
        ).scalars()
        steps = list(rows)
    return {"waiting": sum(1 for s in steps if s == 0), "escalated": sum(1 for s in steps if s)}


def listed_addresses(config: Config) -> set[tuple[str, str]]:
    """Every (channel, address) contacts.toml lists now, as deliveries carry them."""
    from dispatch.numbers import sms_addresses  # phonenumbers: only when a flag is there

    found: set[tuple[str, str]] = set()
    lists = [(u.emails, u.mobiles) for u in config.contacts.unit]
    lists += [(p.emails, p.mobiles) for p in config.contacts.person]
    for emails, mobiles in lists:
        found.update(("email", e) for e in emails)
        found.update(("sms", m) for m in sms_addresses(mobiles))
    return found


@dataclass(frozen=True)
class FailingContact:
    """An address that failed for good and is still in contacts.toml."""

    channel: str
    address: str
    recipient: str
    reason: str
    failures: int
    last_at: datetime


def failing_contacts(engine: Engine, config: Config) -> list[FailingContact]:
    """Flagged addresses not cleared and still listed (fixing contacts.toml unflags them)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(contact_flags)
            .where(contact_flags.c.cleared_at.is_(None))
            .order_by(contact_flags.c.last_at)
        ).all()
    if not rows:
        return []
    listed = listed_addresses(config)
    return [
        FailingContact(r.channel, r.address, r.recipient, r.reason, r.failures, r.last_at)
        for r in rows
        if (r.channel, r.address) in listed
    ]


def next_step_at(engine: Engine) -> datetime | None:
    """When the first open escalation's time is up (None: no escalation is open)."""
    with engine.connect() as connection:
        due = connection.execute(
            select(func.min(escalations.c.due_at)).where(escalations.c.ended_at.is_(None))
        ).scalar()
    return aware(due) if due is not None else None

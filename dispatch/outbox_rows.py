"""Rows of the outbox: the dataclasses passed around and the SQL steps inside one transaction.

Used by `dispatch.outbox.Outbox`, which owns the transactions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from dispatch import policy
from dispatch.models import (
    DELIVERY_KEY,
    NOTICE_HELD,
    NOTICE_ROUTED,
    NOTICE_SUPERSEDED,
    PENDING,
    STANDBY,
    aware,
    deliveries,
    notices,
)
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.incidents.tables import assessment_from_json, assessment_to_json
from monitor.storage.engine import insert_new


@dataclass(frozen=True)
class Planned:
    """A delivery to create for a notice: recipient, channel, address, stage, rendering."""

    recipient_key: str
    recipient: str
    channel: str
    address: str
    stage: int
    subject: str
    body: str
    html: str | None = None
    notifier: str | None = None  # chosen at routing (fate-sharing); None: the channel's first


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending."""

    id: int
    notice_id: int
    dedupe_key: str
    channel: str
    address: str
    recipient: str
    subject: str
    body: str
    html: str | None
    attempts: int
    notifier: str | None = None
    created_at: datetime | None = None  # when the delivery was created (retry horizon)

    @property
    def key(self) -> str:
        """Stable per delivery (same on every retry): Message-ID, outbox file name, DLR id."""
        text = f"{self.dedupe_key}|{self.channel}|{self.address}"
        return f"commwatch.{self.id}.{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Snapshot:
    """Outbox figures for metrics and the dispatcher's sleep."""

    queued: int
    oldest_pending_age_seconds: float
    due_now: int
    next_due: datetime | None


def accept_one(
    connection: Connection, request: NoticeRequest, now: datetime, window: timedelta
) -> tuple[int, int]:
    """One request into `dispatch_notices`, coalescing with a held one of its group.

    Returns (new, merged): (0, 0) for a duplicate, (1, 1) when it replaced a held one.
    """
    exists = select(notices.c.id).where(notices.c.dedupe_key == request.dedupe_key)
    if connection.execute(exists).first() is not None:
        return 0, 0
    kind, context = str(request.kind), dict(request.context)
    group = policy.group_key(kind, request.incident_id, context)
    due = now
    held = None
    if group is not None:
        in_group = select(notices).where(notices.c.group_key == group)
        held = connection.execute(
            in_group.where(notices.c.status == NOTICE_HELD).order_by(notices.c.id.desc()).limit(1)
        ).first()
        if held is not None:
            merged = policy.merge(held.kind, held.context, kind, context)
            kind, context, due = merged.kind, merged.context, aware(held.due_at)
        else:
            last = connection.execute(
                select(func.max(notices.c.routed_at)).where(
                    notices.c.group_key == group, notices.c.status == NOTICE_ROUTED
                )
            ).scalar()
            due = policy.due_at(now, aware(last) if last else None, window)
    values = {
        "dedupe_key": request.dedupe_key,
        "kind": kind,
        "incident_id": request.incident_id,
        "group_key": group,
        "created_at": request.created_at,
        "due_at": due,
        "status": NOTICE_HELD,
        "deliveries": 0,
        "assessment": assessment_to_json(request.assessment) if request.assessment else None,
        "context": context,
    }
    new_id = connection.execute(insert(notices).values(values).returning(notices.c.id)).scalar_one()
    if held is not None:
        superseded = {"status": NOTICE_SUPERSEDED, "superseded_by": new_id}
        connection.execute(update(notices).where(notices.c.id == held.id).values(superseded))
        return 1, 1
    return 1, 0


def insert_delivery(connection: Connection, notice: Row[Any], item: Planned, now: datetime) -> int:
    values = {
        "notice_id": notice.id,
        "dedupe_key": notice.dedupe_key,
        "channel": item.channel,
        "address": item.address,
        "recipient_key": item.recipient_key,
        "recipient": item.recipient,
        "stage": item.stage,
        "status": PENDING if item.stage == 0 else STANDBY,
        "attempts": 0,
        "next_attempt_at": now,
        "subject": item.subject,
        "body": item.body,
        "html": item.html,
        "notifier": item.notifier,
        "permanent": False,
        "created_at": now,
        "updated_at": now,
    }
    stmt = insert_new(connection, deliveries, values, DELIVERY_KEY)
    return int(connection.execute(stmt).rowcount or 0)


def same_recipient(row: Row[Any]) -> Any:
    return update(deliveries).where(
        deliveries.c.notice_id == row.notice_id, deliveries.c.recipient_key == row.recipient_key
    )


def same_recipient_select(row: Row[Any]) -> Any:
    return select(deliveries.c.id).where(
        deliveries.c.notice_id == row.notice_id, deliveries.c.recipient_key == row.recipient_key
    )


def delivery_row(connection: Connection, delivery_id: int) -> Row[Any]:
    return connection.execute(select(deliveries).where(deliveries.c.id == delivery_id)).one()


def request_of(row: Row[Any]) -> NoticeRequest:
    return NoticeRequest(
        kind=NoticeKind(row.kind),
        incident_id=row.incident_id,
        dedupe_key=row.dedupe_key,
        assessment=assessment_from_json(row.assessment) if row.assessment else None,
        context=row.context,
        created_at=aware(row.created_at),
    )


def claimed_of(row: Row[Any]) -> Claimed:
    return Claimed(
        row.id,
        row.notice_id,
        row.dedupe_key,
        row.channel,
        row.address,
        row.recipient,
        row.subject,
        row.body,
        row.html,
        row.attempts + 1,
        row.notifier,
        aware(row.created_at),
    )

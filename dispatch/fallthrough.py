"""Falling through to a recipient's next channel, and telling the HQ office duty (通知改发).

A recipient's delivery still pending `[dispatch] fallback_after` after it was
created (or failed for good) opens the recipient's next channel (stage + 1). In
the same transaction a `fallthrough` notice is put in the outbox for the HQ
office duty (the office unit and the 值班员): who was not reached, by which
channel, and which channel is tried now. One notice per incident per pass,
coalesced like a situation change (`dispatch.policy`) over `coalesce_window` but
at least a minute, so an outage of a whole channel is one notice, not one per
recipient, and a long one at most one a minute per incident. The notice is routed to the duty
on every channel at once (`dispatch.router`): it has no later stage, so it never
falls through itself, and a fall-through of a `fallthrough` notice is not told.

Each step runs inside the caller's transaction (`dispatch.outbox.Outbox`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from dispatch.models import PENDING, SENDING, SENT, STANDBY, deliveries, notices
from dispatch.outbox_rows import accept_one
from monitor.incidents.notices import NoticeKind, NoticeRequest

KIND = NoticeKind.FALLTHROUGH
OVERDUE = "overdue"  # not gone within fallback_after
FAILED = "failed"  # failed for good on that channel
RECEIPT_WINDOW = timedelta(seconds=10)  # coalescing of those a delivery report opens
MIN_WINDOW = timedelta(minutes=1)  # at most one 通知改发 a minute per incident; the rest merged


@dataclass(frozen=True)
class Opened:
    """One recipient's next stage, opened: what the duty is told about it."""

    first_id: int  # the lowest delivery id opened (unique: the notice's dedupe key)
    count: int  # deliveries opened
    notice_id: int
    recipient: str
    from_channel: str
    to_channels: tuple[str, ...]
    why: str


def open_next_stage(
    connection: Connection, row: Row[Any], now: datetime, why: str
) -> Opened | None:
    """Open the recipient's standby deliveries of the next stage; None when there are none."""
    standby = connection.execute(
        select(deliveries.c.id, deliveries.c.channel)
        .where(
            deliveries.c.notice_id == row.notice_id,
            deliveries.c.recipient_key == row.recipient_key,
            deliveries.c.stage == row.stage + 1,
            deliveries.c.status == STANDBY,
        )
        .order_by(deliveries.c.id)
    ).all()
    if not standby:
        return None
    ids = [item.id for item in standby]
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids))
        .values(status=PENDING, next_attempt_at=now, updated_at=now)
    )
    channels = tuple(dict.fromkeys(str(item.channel) for item in standby))
    recipient, channel = str(row.recipient), str(row.channel)
    return Opened(min(ids), len(ids), row.notice_id, recipient, channel, channels, why)


def open_after_failure(connection: Connection, row: Row[Any], now: datetime) -> Opened | None:
    """When every delivery of the recipient's stage failed for good, open the next stage."""
    alive = select(deliveries.c.id).where(
        deliveries.c.notice_id == row.notice_id,
        deliveries.c.recipient_key == row.recipient_key,
        deliveries.c.stage == row.stage,
        deliveries.c.status.in_((PENDING, SENDING, SENT)),
    )
    if connection.execute(alive).first() is not None:
        return None
    return open_next_stage(connection, row, now, FAILED)


def tell_duty(
    connection: Connection, opened: Sequence[Opened], now: datetime, window: timedelta
) -> int:
    """Put one `fallthrough` notice per incident in the outbox; returns how many are new."""
    if not opened:
        return 0
    ids = sorted({item.notice_id for item in opened})
    rows = connection.execute(
        select(notices.c.id, notices.c.kind, notices.c.incident_id, notices.c.context).where(
            notices.c.id.in_(ids)
        )
    ).all()
    about = {row.id: row for row in rows if row.kind != KIND}  # never told of itself
    by_incident: dict[int | None, list[tuple[Opened, Any]]] = {}
    for item in opened:
        notice = about.get(item.notice_id)
        if notice is not None:
            by_incident.setdefault(notice.incident_id, []).append((item, notice))
    created = 0
    window = max(window, MIN_WINDOW)
    for incident_id, items in by_incident.items():
        request = _request(incident_id, items, now)
        created += accept_one(connection, request, now, window)[0]
    return created


def _request(
    incident_id: int | None, items: list[tuple[Opened, Any]], now: datetime
) -> NoticeRequest:
    first = min(item.first_id for item, _ in items)
    context = dict(items[0][1].context or {})
    missed = [
        {
            "recipient": item.recipient,
            "notice": str(notice.kind),
            "from": item.from_channel,
            "to": list(item.to_channels),
            "why": item.why,
        }
        for item, notice in items
    ]
    values: dict[str, Any] = {
        "at": now.isoformat(),
        "title": context.get("title") or "",
        "missed": missed,
        "drill": any(bool((notice.context or {}).get("drill")) for _, notice in items),
        "data": {},
    }
    return NoticeRequest(KIND, incident_id, f"fallthrough:{first}", None, values, now)

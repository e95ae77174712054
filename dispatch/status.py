"""Reading the outbox for people: deliveries and notices of an incident.

`deliveries_for(engine, incident_id)` is what `commwatch incident show` prints
(and `--json` serialises); `notices_for` feeds the after-action report (§5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, RowMapping, select

from dispatch.models import deliveries, notices


@dataclass(frozen=True)
class DeliveryStatus:
    """One delivery of one notice to one address, as it stands."""

    notice: str  # the notice kind
    recipient: str
    channel: str
    address: str
    status: str  # standby | pending | sending | sent | failed | skipped
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    notifier: str | None
    error: str | None


@dataclass(frozen=True)
class NoticeStatus:
    """One notice of an incident: when it was made, routed, and to how many."""

    id: int
    kind: str
    status: str  # held | routed | superseded
    created_at: datetime
    routed_at: datetime | None
    deliveries: int
    coalesced: int


def deliveries_for(engine: Engine, incident_id: int) -> list[DeliveryStatus]:
    """Every delivery of the incident's notices, oldest first."""
    query = (
        select(
            notices.c.kind,
            deliveries.c.recipient,
            deliveries.c.channel,
            deliveries.c.address,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.created_at,
            deliveries.c.sent_at,
            deliveries.c.notifier,
            deliveries.c.last_error,
        )
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .where(notices.c.incident_id == incident_id)
        .order_by(deliveries.c.id)
    )
    with engine.connect() as connection:
        return [_delivery(row) for row in connection.execute(query).mappings()]


def _delivery(m: RowMapping) -> DeliveryStatus:
    return DeliveryStatus(
        notice=m["kind"],
        recipient=m["recipient"],
        channel=m["channel"],
        address=m["address"],
        status=m["status"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        sent_at=m["sent_at"],
        notifier=m["notifier"],
        error=m["last_error"],
    )


def notices_for(engine: Engine, incident_id: int) -> list[NoticeStatus]:
    """Every outbox notice of the incident (superseded ones included), oldest first."""
    query = select(notices).where(notices.c.incident_id == incident_id).order_by(notices.c.id)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    return [
        NoticeStatus(
            row.id,
            row.kind,
            row.status,
            row.created_at,
            row.routed_at,
            row.deliveries,
            int((row.context or {}).get("coalesced", 1) or 1),
        )
        for row in rows
    ]

"""The notices page: the outbox backlog (pending, failed) and a retry of a failed delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from dispatch.models import FAILED, OPEN_DELIVERY, PENDING, deliveries, notices

LIMIT = 200


@dataclass(frozen=True)
class OutboxRow:
    """One delivery waiting or failed."""

    id: int
    incident: int | None
    kind: str
    recipient: str
    channel: str
    address: str
    status: str
    attempts: int
    next_attempt_at: datetime
    error: str | None


@dataclass(frozen=True)
class OutboxView:
    """Deliveries not yet accepted by a gateway, and those failed for good."""

    pending: list[OutboxRow]
    failed: list[OutboxRow]


def _rows(engine: Engine, statuses: tuple[str, ...]) -> list[OutboxRow]:
    query = (
        select(
            deliveries.c.id,
            notices.c.incident_id,
            notices.c.kind,
            deliveries.c.recipient,
            deliveries.c.channel,
            deliveries.c.address,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt_at,
            deliveries.c.last_error,
        )
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .where(deliveries.c.status.in_(statuses))
        .order_by(deliveries.c.id.desc())
        .limit(LIMIT)
    )
    with engine.connect() as connection:
        return [
            OutboxRow(
                id=m["id"],
                incident=m["incident_id"],
                kind=m["kind"],
                recipient=m["recipient"],
                channel=m["channel"],
                address=m["address"],
                status=m["status"],
                attempts=m["attempts"],
                next_attempt_at=m["next_attempt_at"],
                error=m["last_error"],
            )
            for m in connection.execute(query).mappings()
        ]


def outbox_view(engine: Engine) -> OutboxView:
    """The newest LIMIT pending and failed deliveries."""
    return OutboxView(_rows(engine, OPEN_DELIVERY), _rows(engine, (FAILED,)))


def retry_failed(engine: Engine, delivery_id: int, now: datetime) -> bool:
    """Put a failed delivery back in the queue, due now; False when it is not failed."""
    with engine.begin() as connection:
        result = connection.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.status == FAILED)
            .values(
                status=PENDING,
                next_attempt_at=now,
                permanent=False,
                lease_until=None,
                updated_at=now,
            )
        )
    return bool(result.rowcount)

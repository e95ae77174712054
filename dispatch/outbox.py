"""The durable outbox: synchronous database steps, each one transaction (run them in threads).

accept      NoticeRequests → `dispatch_notices` (dedupe_key UNIQUE; coalescing)
take_table  `notice_requests` rows (written by the incident engine and the CLI)
            → accept, and mark them taken in the same transaction
route_due   held notices whose time has come → their deliveries (rendered)
claim       due deliveries of one channel → `sending`, with a lease
record_*    the outcome: sent only after the gateway accepted; a failure is
            retried (pending again, with backoff) or final (failed), and a
            final failure opens the recipient's next fallback stage

Nothing is sent from here; the dispatcher does that between claim and record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from dispatch.fallthrough import OVERDUE, open_after_failure, open_next_stage, tell_duty
from dispatch.models import (
    FAILED,
    NOTICE_HELD,
    NOTICE_ROUTED,
    OPEN_DELIVERY,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    STANDBY,
    aware,
    deliveries,
    notices,
)
from dispatch.outbox_rows import (
    Claimed,
    Planned,
    Snapshot,
    accept_one,
    claimed_of,
    delivery_row,
    insert_delivery,
    request_of,
    same_recipient,
    same_recipient_select,
)
from monitor.incidents import store as incident_store
from monitor.incidents.notices import NoticeRequest

__all__ = ["Claimed", "Outbox", "Planned", "Planner", "Snapshot"]

Planner = Callable[[NoticeRequest], list[Planned]]


class Outbox:
    """The outbox tables behind one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- intake ------------------------------------------------------------------

    def accept(
        self, requests: Sequence[NoticeRequest], now: datetime, window: timedelta
    ) -> tuple[int, int]:
        """Persist requests (duplicates ignored); returns (new, coalesced into a held one)."""
        if not requests:
            return 0, 0
        with self.engine.begin() as connection:
            incident_store.lock_for_write(connection)
            results = [accept_one(connection, r, now, window) for r in requests]
        return sum(r[0] for r in results), sum(r[1] for r in results)

    def take_table(
        self, now: datetime, window: timedelta, limit: int = 200, batch: int = 5
    ) -> tuple[int, int]:
        """Move pending `notice_requests` rows into the outbox; (new, coalesced).

        At most `batch` per transaction (accepted and marked taken together): short
        transactions, so a database that drops connections still lets intake progress.
        """
        new = merged = taken = 0
        while taken < limit:
            with self.engine.begin() as connection:
                incident_store.lock_for_write(connection)
                stored = incident_store.pending_requests(connection, min(batch, limit - taken))
                results = [accept_one(connection, item.request, now, window) for item in stored]
                incident_store.mark_taken(connection, [item.id for item in stored], now)
            new += sum(r[0] for r in results)
            merged += sum(r[1] for r in results)
            taken += len(stored)
            if len(stored) < batch:
                break
        return new, merged

    # -- routing -----------------------------------------------------------------

    def route_due(self, now: datetime, plan: Planner, limit: int = 200) -> tuple[int, int]:
        """Create the deliveries of every held notice now due; returns (notices, deliveries).

        Notices are read, then planned (routed and rendered: the slow part) outside any
        transaction, then written one transaction per notice — a short one, so a database
        that drops connections (a killed backend) still lets routing progress. A notice
        coalesced into a newer one meanwhile (no longer held) is left alone.
        """
        query = (
            select(notices)
            .where(notices.c.status == NOTICE_HELD, notices.c.due_at <= now)
            .order_by(notices.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = list(connection.execute(query))
        routed = created = 0
        for row in rows:
            planned = plan(request_of(row))
            changes = {"status": NOTICE_ROUTED, "routed_at": now, "deliveries": len(planned)}
            with self.engine.begin() as connection:
                incident_store.lock_for_write(connection)
                still_held = connection.execute(
                    update(notices)
                    .where(notices.c.id == row.id, notices.c.status == NOTICE_HELD)
                    .values(changes)
                )
                if not still_held.rowcount:
                    continue
                created += sum(insert_delivery(connection, row, item, now) for item in planned)
            routed += 1
        return routed, created

    def recover(self, now: datetime) -> int:
        """At start: deliveries left `sending` by a previous process are due again.

        The gateway may or may not have accepted them before that process died;
        re-sending is the at-least-once side of that unavoidable window.
        """
        with self.engine.begin() as connection:
            stmt = update(deliveries).where(deliveries.c.status == SENDING)
            values = {"status": PENDING, "lease_until": None, "next_attempt_at": now}
            return int(connection.execute(stmt.values(**values, updated_at=now)).rowcount or 0)

    # -- sending -----------------------------------------------------------------

    def claim(self, now: datetime, channel: str, limit: int, lease: timedelta) -> list[Claimed]:
        """Take up to `limit` due deliveries of a channel (expired leases included)."""
        if limit <= 0:
            return []
        with self.engine.begin() as connection:
            incident_store.lock_for_write(connection)
            due = or_(
                and_(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now),
                and_(deliveries.c.status == SENDING, deliveries.c.lease_until < now),
            )
            query = (
                select(deliveries)
                .where(deliveries.c.channel == channel, due)
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                .limit(limit)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(connection.execute(query))
            for row in rows:
                values = {
                    "status": SENDING,
                    "lease_until": now + lease,
                    "attempts": row.attempts + 1,
                    "updated_at": now,
                }
                connection.execute(
                    update(deliveries).where(deliveries.c.id == row.id).values(values)
                )
        return [claimed_of(row) for row in rows]

    def record_sent(
        self, delivery_id: int, now: datetime, notifier: str, gateway_id: str | None, detail: str
    ) -> None:
        """The gateway accepted: sent; later fallback stages of that recipient are skipped."""
        with self.engine.begin() as connection:
            row = delivery_row(connection, delivery_id)
            values = {
                "status": SENT,
                "sent_at": now,
                "updated_at": now,
                "lease_until": None,
                "notifier": notifier,
                "gateway_id": gateway_id,
                "detail": detail[:500],
            }
            connection.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(values)
            )
            later = same_recipient(row).where(  # pending: a fall-through not yet sent
                deliveries.c.status.in_((STANDBY, PENDING)), deliveries.c.stage > row.stage
            )
            connection.execute(later.values(status=SKIPPED, updated_at=now))
            # a fall-through reached the recipient: the earlier channel stops retrying
            earlier = same_recipient(row).where(
                deliveries.c.status == PENDING, deliveries.c.stage < row.stage
            )
            connection.execute(earlier.values(status=SKIPPED, updated_at=now))

    def record_failure(
        self,
        delivery_id: int,
        now: datetime,
        notifier: str,
        error: str,
        permanent: bool,
        retry_at: datetime | None,
        window: timedelta = timedelta(0),
    ) -> int:
        """A failed attempt: pending again at `retry_at`, or failed; returns fallbacks opened.

        A fallback opened after a final failure is told to the HQ office duty (coalesced
        over `window`, `dispatch.fallthrough`)."""
        with self.engine.begin() as connection:
            incident_store.lock_for_write(connection)
            row = delivery_row(connection, delivery_id)
            values: dict[str, Any] = {
                "updated_at": now,
                "lease_until": None,
                "notifier": notifier,
                "last_error": error[:500],
                "permanent": permanent,
            }
            if retry_at is not None and _reached_otherwise(connection, row):
                values.update(status=SKIPPED)  # another stage got there while this one was out
            elif retry_at is not None:
                values.update(status=PENDING, next_attempt_at=retry_at)
            else:
                values.update(status=FAILED)
            connection.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(values)
            )
            if retry_at is not None:
                return 0
            opened = open_after_failure(connection, row, now)
            if opened is None:
                return 0
            tell_duty(connection, [opened], now, window)
            return opened.count

    def fall_through(
        self, now: datetime, after: timedelta, window: timedelta, limit: int = 500
    ) -> tuple[int, int]:
        """Open the next stage of recipients whose delivery is still pending after `after`,
        and tell the HQ office duty (`dispatch.fallthrough`); returns (opened, notices)."""
        overdue = (
            select(deliveries)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.attempts > 0,
                deliveries.c.created_at <= now - after,
            )
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        with self.engine.begin() as connection:
            incident_store.lock_for_write(connection)
            opened = [
                item
                for row in list(connection.execute(overdue))
                if (item := open_next_stage(connection, row, now, OVERDUE)) is not None
            ]
            told = tell_duty(connection, opened, now, window)
        return sum(item.count for item in opened), told

    def release_backoff(self, channel: str, now: datetime) -> int:
        """The channel works again: its deliveries waiting out a backoff are due now."""
        waiting = and_(
            deliveries.c.channel == channel,
            deliveries.c.status == PENDING,
            deliveries.c.attempts > 0,
            deliveries.c.next_attempt_at > now,
        )
        with self.engine.begin() as connection:
            incident_store.lock_for_write(connection)
            result = connection.execute(
                update(deliveries).where(waiting).values(next_attempt_at=now, updated_at=now)
            )
        return int(result.rowcount or 0)

    def snapshot(self, now: datetime) -> Snapshot:
        """Queued deliveries, the oldest one's age, what is due now and the next due time."""
        pending = deliveries.c.status == PENDING
        held = notices.c.status == NOTICE_HELD
        with self.engine.connect() as connection:
            scalar = connection.execute
            queued, oldest = scalar(
                select(func.count(), func.min(deliveries.c.created_at)).where(
                    deliveries.c.status.in_(OPEN_DELIVERY)
                )
            ).one()
            due = scalar(
                select(func.count()).where(pending, deliveries.c.next_attempt_at <= now)
            ).scalar_one()
            due += scalar(select(func.count()).where(held, notices.c.due_at <= now)).scalar_one()
            next_times = [
                scalar(select(func.min(deliveries.c.next_attempt_at)).where(pending)).scalar(),
                scalar(select(func.min(notices.c.due_at)).where(held)).scalar(),
            ]
        age = (now - aware(oldest)).total_seconds() if oldest is not None else 0.0
        upcoming = [aware(t) for t in next_times if t is not None]
        return Snapshot(int(queued), max(age, 0.0), int(due), min(upcoming, default=None))


def _reached_otherwise(connection: Connection, row: Any) -> bool:
    """True when another stage already reached this delivery's recipient.

    A later stage (a fall-through) or an earlier one that came back while this one was
    out: `record_sent` skips only stages that are pending, not one being sent."""
    sent = same_recipient_select(row).where(
        deliveries.c.status == SENT, deliveries.c.stage != row.stage
    )
    return connection.execute(sent).first() is not None

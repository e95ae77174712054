"""Delivery reports: `record_receipt(engine, gateway_id, state, reason)` for every SMS channel.

The channel-neutral entry point. A channel that learns what became of a
message (Kannel's DLR callback, an SMPP `deliver_sm` receipt, a cloud SMS
status push) calls it with the id it got back when the message was accepted —
the `gateway_id` that `Delivery.gateway_id` carried into the outbox (for
Kannel that is our own `Message.key`, which the `dlr-url` echoes):

    record_receipt(engine, gateway_id, ReceiptState.DELIVERED, "DLR 1")
    record_receipt(engine, gateway_id, ReceiptState.FAILED, "stat:UNDELIV err:001")

- delivered: the delivery's `delivered_at` is set (state `delivered`), and an
  address flagged earlier is cleared (it works again).
- failed: a delivery still `sent` becomes `failed` with the reason; the
  recipient's next fallback stage opens (as after a send that failed for good);
  the address is flagged on the contact (`contact_flags`) until it works again
  or contacts.toml stops listing it (`commwatch status`, the metric
  `commwatch_contacts_failing`).
- pending (buffered, SMSC accepted): only remembered as the latest receipt.

Returns the delivery id, or None when no delivery has that gateway id (a
late receipt for a message from before a database reset: ignored).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, select, update

from dispatch.fallthrough import RECEIPT_WINDOW, open_after_failure, tell_duty
from dispatch.followup_tables import contact_flags
from dispatch.models import FAILED, SENT, deliveries
from dispatch.outbox_rows import claimed_of
from monitor.incidents import store as incident_store
from monitor.incidents.tables import utcnow
from monitor.storage.engine import dialect_insert


class ReceiptState(StrEnum):
    """What a delivery report says."""

    DELIVERED = "delivered"
    FAILED = "failed"
    PENDING = "pending"


def record_receipt(
    engine: Engine,
    gateway_id: str,
    state: ReceiptState | str,
    reason: str = "",
    now: datetime | None = None,
) -> int | None:
    """Apply one delivery report (see the module docstring); the delivery id or None."""
    verdict = ReceiptState(state)
    at = now or utcnow()
    with engine.begin() as connection:
        incident_store.lock_for_write(connection)
        row = connection.execute(
            select(deliveries)
            .where(deliveries.c.gateway_id == gateway_id)
            .order_by(deliveries.c.id.desc())
            .limit(1)
        ).first()
        row = row or _by_own_key(connection, gateway_id)
        if row is None:
            return None
        _apply(connection, row, verdict, reason[:500], at)
        return int(row.id)


def _by_own_key(connection: Connection, gateway_id: str) -> Row[Any] | None:
    """Our own delivery key (`Claimed.key`, which Kannel echoes): found before it is recorded.

    A fast gateway reports before the dispatcher has written `gateway_id`.
    """
    prefix, _, rest = gateway_id.partition(".")
    number, _, _digest = rest.partition(".")
    if prefix != "commwatch" or not number.isdigit():
        return None
    row = connection.execute(select(deliveries).where(deliveries.c.id == int(number))).first()
    if row is None or claimed_of(row).key != gateway_id:
        return None
    return row


def _apply(
    connection: Connection, row: Row[Any], state: ReceiptState, reason: str, at: datetime
) -> None:
    this = update(deliveries).where(deliveries.c.id == row.id)
    if state is ReceiptState.PENDING:
        connection.execute(this.values(receipt=reason, updated_at=at))
        return
    if state is ReceiptState.DELIVERED:
        values: dict[str, Any] = {"receipt": reason, "updated_at": at}
        if row.delivered_at is None:
            values["delivered_at"] = at
        connection.execute(this.values(**values))
        clear_flag(connection, row.channel, row.address, at)
        return
    connection.execute(this.values(receipt=reason, updated_at=at))
    flag_address(connection, row, reason, at)
    if row.status != SENT or row.acked_at is not None:
        return
    failed = {"status": FAILED, "last_error": f"receipt: {reason}"[:500], "permanent": True}
    connection.execute(this.values(**failed))
    opened = open_after_failure(connection, row, at)
    tell_duty(connection, [opened] if opened is not None else [], at, RECEIPT_WINDOW)


def flag_address(connection: Connection, row: Row[Any], reason: str, at: datetime) -> None:
    """Flag (or flag again) the address of a delivery that failed for good."""
    values = {
        "channel": row.channel,
        "address": row.address,
        "recipient": row.recipient,
        "reason": reason or "failed",
        "delivery_id": row.id,
        "failures": 1,
        "first_at": at,
        "last_at": at,
        "cleared_at": None,
    }
    stmt = dialect_insert(connection, contact_flags).values(values)
    again = {
        "reason": stmt.excluded.reason,
        "delivery_id": stmt.excluded.delivery_id,
        "failures": contact_flags.c.failures + 1,
        "last_at": stmt.excluded.last_at,
        "cleared_at": None,
    }
    connection.execute(
        stmt.on_conflict_do_update(index_elements=["channel", "address"], set_=again)
    )


def clear_flag(connection: Connection, channel: str, address: str, at: datetime) -> None:
    """The address worked: its flag (if any) is cleared."""
    connection.execute(
        update(contact_flags)
        .where(
            contact_flags.c.channel == channel,
            contact_flags.c.address == address,
            contact_flags.c.cleared_at.is_(None),
        )
        .values(cleared_at=at)
    )

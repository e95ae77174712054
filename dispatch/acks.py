"""收到 (acknowledgement): by CLI, SMS reply, email link or console — one path for all.

    acknowledge(incidents, delivery_id, by, means)      # `notice ack`, the link, the console
    record_reply(incidents, from_number, text)           # an SMS reply (Kannel MO, SMPP MO, …)

An acknowledgement is per notice and recipient: every delivery of that notice
to that recipient (its email and its SMS) becomes `acknowledged`, and the
escalation the recipient heads — or the escalation step the delivery belongs
to — ends at once. It goes through `IncidentEngine.acknowledge`, so the
timeline gets an `acknowledged` event (who, by which means) in the same
transaction. Acknowledging twice changes nothing and says when it happened.

A reply is matched on the sender's number to the latest delivery sent to that
number and not yet acknowledged; only replies that mean 收到 count ("1",
"收到", "确认", "已阅", "ok", …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select, update

from dispatch.followup_tables import escalations
from dispatch.models import FAILED, SENT, deliveries, notices
from dispatch.notice_data import TITLES
from dispatch.numbers import classify
from dispatch.states import recipient_id
from monitor.incidents.authority import Actor, actor_of
from monitor.incidents.engine import IncidentEngine

MEANS_NAMES = {
    "sms": "短信回复",
    "email": "邮件链接",
    "cli": "值班员登记",
    "console": "值班台",
    "call": "电话",
}
MEANS = tuple(MEANS_NAMES)
ACK_WORDS = frozenset(
    {"1", "收到", "已收到", "确认", "已确认", "确认收到", "收悉", "已阅", "知道", "知道了",
     "明白", "好", "好的", "ok", "okay", "yes", "y", "是", "嗯"}
)  # fmt: skip
_NOISE = re.compile(r"[\s\.,!?;:，。！？；：、~～\-—\"'“”‘’()（）\[\]【】]+")


class DeliveryNotFoundError(LookupError):
    """No listed delivery with that id."""


@dataclass(frozen=True)
class AckResult:
    """What an acknowledgement did: `fresh` is False when it had been acknowledged before."""

    delivery_id: int
    incident_id: int | None
    recipient: str
    fresh: bool
    acked_at: datetime | None
    acked_by: str | None
    means: str | None


def is_ack(text: str) -> bool:
    """True when a reply means 收到 (punctuation, spaces and case ignored)."""
    word = _NOISE.sub("", text).casefold()
    return word in ACK_WORDS or word.startswith(("收到", "确认", "已收到"))


def acknowledge(incidents: IncidentEngine, delivery_id: int, by: Actor, means: str) -> AckResult:
    """Acknowledge a delivery's notice for its recipient (see the module docstring)."""
    if means not in MEANS:
        raise ValueError(f"unknown means of acknowledgement {means!r}")
    with incidents.engine.connect() as connection:
        row = _delivery(connection, delivery_id)
    if row is None:
        raise DeliveryNotFoundError(f"没有通知投递#{delivery_id}")

    def record(connection: Connection, now: datetime) -> dict[str, Any] | None:
        return mark_acknowledged(connection, delivery_id, by, means, now)

    note = f"{row.recipient}经{MEANS_NAMES[means]}确认收到{_kind_name(row.kind)}"
    data = incidents.acknowledge(row.incident_id, by, means, record, note)
    with incidents.engine.connect() as connection:
        after = _delivery(connection, delivery_id)
    assert after is not None
    return AckResult(
        delivery_id,
        row.incident_id,
        row.recipient,
        data is not None,
        after.acked_at,
        after.acked_by,
        after.ack_means,
    )


def mark_acknowledged(
    connection: Connection, delivery_id: int, by: Actor, means: str, now: datetime
) -> dict[str, Any] | None:
    """Inside a transaction: mark the recipient's deliveries and end the escalation.

    Returns the timeline event's data, or None when it was acknowledged before.
    """
    row = _delivery(connection, delivery_id)
    if row is None or row.acked_at is not None:
        return None
    mine = and_(
        deliveries.c.notice_id == row.notice_id,
        deliveries.c.recipient_key == row.recipient_key,
        deliveries.c.escalation_id.is_(None)
        if row.escalation_id is None
        else deliveries.c.escalation_id == row.escalation_id,
        deliveries.c.acked_at.is_(None),
    )
    values = {"acked_at": now, "acked_by": by.id[:64], "ack_means": means, "updated_at": now}
    connection.execute(update(deliveries).where(mine).values(values))
    chain = or_(
        escalations.c.id == row.escalation_id,
        and_(escalations.c.notice_id == row.notice_id, escalations.c.head == row.recipient_key),
    )
    ended = {
        "acked_at": now,
        "acked_by": by.id[:64],
        "ack_means": means,
        "ended_at": now,
        "end_reason": "acknowledged",
        "updated_at": now,
    }
    connection.execute(
        update(escalations).where(chain, escalations.c.ended_at.is_(None)).values(ended)
    )
    return {
        "delivery": row.id,
        "notice": row.notice_id,
        "kind": row.kind,
        "recipient": recipient_id(row.recipient_key),
        "recipient_name": row.recipient,
        "means": means,
        "person": by.id,
        "escalation_step": int(row.escalation_step or 0),
    }


@dataclass(frozen=True)
class ReplyResult:
    """What an SMS reply did: the acknowledgement, or why there was none."""

    ack: AckResult | None
    why: str = ""


def record_reply(incidents: IncidentEngine, from_number: str, text: str) -> ReplyResult:
    """An SMS reply from a handset: 收到 acknowledges that number's latest open notice.

    The time of the acknowledgement is the engine's clock. Safe from any thread.
    """
    if not is_ack(text):
        return ReplyResult(None, "not an acknowledgement")
    address = classify(from_number).sms_address or from_number.lstrip("+")
    with incidents.engine.connect() as connection:
        row = connection.execute(
            select(deliveries.c.id, deliveries.c.recipient_key, deliveries.c.recipient)
            .where(
                deliveries.c.channel == "sms",
                deliveries.c.address == address,
                deliveries.c.status.in_((SENT, FAILED)),
                deliveries.c.acked_at.is_(None),
            )
            .order_by(deliveries.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return ReplyResult(None, f"no open notice to {address}")
    by = _sender(incidents, row.recipient_key, row.recipient, address)
    return ReplyResult(acknowledge(incidents, row.id, by, "sms"))


def _sender(incidents: IncidentEngine, recipient_key: str, label: str, address: str) -> Actor:
    """Who replied: the person the delivery went to, else the unit (by its number)."""
    kind, _, name = recipient_key.partition(":")
    person = incidents.config.people.get(name) if kind == "person" else None
    if person is not None:
        return actor_of(person)
    return Actor(name[:64] or address, f"{label}（{address}）")


def _kind_name(kind: str) -> str:
    return f"“{TITLES.get(kind, kind)}”"


def _delivery(connection: Connection, delivery_id: int) -> Row[Any] | None:
    query = (
        select(deliveries, notices.c.incident_id, notices.c.kind)
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .where(deliveries.c.id == delivery_id)
    )
    return connection.execute(query).first()

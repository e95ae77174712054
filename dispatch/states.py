"""Delivery states as people read them: queued → sent → delivered → acknowledged, or failed.

The outbox keeps its own statuses for crash safety (standby, pending, sending,
sent, failed, skipped; see `dispatch.models`); this module only *reads* them,
together with what came later (a delivery report, a 收到):

    pending | sending        → queued     (not yet accepted by a gateway)
    sent                     → sent       (the gateway accepted it)
    sent + delivered_at      → delivered  (a delivery report said so)
    acked_at (any status)    → acknowledged
    failed                   → failed     (with the reason)

Standby (a fallback stage not opened) and skipped (not needed) deliveries are
not deliveries yet, and are not listed. `notice_lines` is what
`commwatch notice list` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, RowMapping, select

from dispatch.followup_tables import escalations
from dispatch.models import FAILED, PENDING, SENDING, SENT, deliveries, notices
from dispatch.registry import channel_of

if TYPE_CHECKING:
    from monitor.config.notifiers import NotifierConfig

QUEUED = "queued"
DELIVERED = "delivered"
ACKNOWLEDGED = "acknowledged"
STATES = (QUEUED, SENT, DELIVERED, ACKNOWLEDGED, FAILED)
LISTED = (PENDING, SENDING, SENT, FAILED)
STATE_NAMES = {
    QUEUED: "待发送",
    SENT: "已发出",
    DELIVERED: "已送达",
    ACKNOWLEDGED: "已确认收到",
    FAILED: "失败",
}


def delivery_state(status: str, delivered_at: datetime | None, acked_at: datetime | None) -> str:
    """The state of one delivery from its outbox status and what came after."""
    if acked_at is not None:
        return ACKNOWLEDGED
    if status == FAILED:
        return FAILED
    if status == SENT:
        return DELIVERED if delivered_at is not None else SENT
    return QUEUED


def recipient_id(recipient_key: str) -> str:
    """ "unit:区工信局" → "区工信局", "person:commander" → "commander"."""
    return recipient_key.partition(":")[2] or recipient_key


def notifier_name(configs: Sequence[NotifierConfig], channel: str) -> str:
    """The notifier that will carry a channel (as `Notifiers.for_channel` chooses it)."""
    for config in configs:
        if channel_of(config) == channel:
            return config.name
    for config in configs:
        if channel_of(config) == "file":
            return config.name
    return "outbox"


@dataclass(frozen=True)
class NoticeLine:
    """One delivery of one notice to one address, with its state."""

    id: int
    notice: int
    incident: int | None
    kind: str
    recipient: str  # person id or unit name
    recipient_name: str
    channel: str  # the notifier's name
    medium: str  # email | sms
    address: str
    state: str
    escalation_step: int
    escalated_for: str | None  # the escalation's head ("unit:…", "person:…", "call:N")
    reason: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    acked_at: datetime | None
    acked_by: str | None
    ack_means: str | None


def notice_lines(
    engine: Engine,
    configs: Sequence[NotifierConfig],
    incident_id: int | None = None,
    delivery_id: int | None = None,
) -> list[NoticeLine]:
    """Every listed delivery (of one incident, or one delivery), oldest first."""
    query = (
        select(deliveries, notices.c.kind, notices.c.incident_id, escalations.c.head)
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .outerjoin(escalations, deliveries.c.escalation_id == escalations.c.id)
        .where(deliveries.c.status.in_(LISTED))
        .order_by(deliveries.c.id)
    )
    if incident_id is not None:
        query = query.where(notices.c.incident_id == incident_id)
    if delivery_id is not None:
        query = query.where(deliveries.c.id == delivery_id)
    with engine.connect() as connection:
        return [_line(m, configs) for m in connection.execute(query).mappings()]


def _line(m: RowMapping, configs: Sequence[NotifierConfig]) -> NoticeLine:
    state = delivery_state(m["status"], m["delivered_at"], m["acked_at"])
    reason = (m["last_error"] or m["receipt"]) if state == FAILED else None
    return NoticeLine(
        id=m["id"],
        notice=m["notice_id"],
        incident=m["incident_id"],
        kind=m["kind"],
        recipient=recipient_id(m["recipient_key"]),
        recipient_name=m["recipient"],
        channel=m["notifier"] or notifier_name(configs, m["channel"]),
        medium=m["channel"],
        address=m["address"],
        state=state,
        escalation_step=int(m["escalation_step"] or 0),
        escalated_for=m["head"],
        reason=reason,
        created_at=m["created_at"],
        sent_at=m["sent_at"],
        delivered_at=m["delivered_at"],
        acked_at=m["acked_at"],
        acked_by=m["acked_by"],
        ack_means=m["ack_means"],
    )


def line_json(line: NoticeLine) -> dict[str, Any]:
    """The contract's JSON object for one delivery (times as ISO 8601)."""
    out: dict[str, Any] = {}
    for key, value in line.__dict__.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out

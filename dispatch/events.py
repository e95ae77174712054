"""What channels hear back from gateways: delivery receipts and inbound replies.

A channel that receives these (SMPP deliver_sm, vendor callbacks, call
results) hands them to an `EventSink` given at construction. The sink is the
seam to the delivery-state and acknowledgement records; by default events are
only logged. `gateway_id` is what the channel returned in `Delivery.gateway_id`
(for SMPP one message_id per part).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """A gateway's report on one sent message: state is delivered, failed or pending."""

    notifier: str
    gateway_id: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class Inbound:
    """A message from a person to commwatch (an SMS reply such as "收到")."""

    notifier: str
    sender: str
    text: str


Event = Receipt | Inbound
EventSink = Callable[[Event], None]


def log_event(event: Event) -> None:
    """The default sink: one log line per event."""
    if isinstance(event, Receipt):
        fields = {
            "notifier": event.notifier,
            "gateway_id": event.gateway_id,
            "state": event.state,
            "detail": event.detail,
        }
        log.info("delivery receipt", extra={"fields": fields})
        return
    fields = {"notifier": event.notifier, "sender": event.sender, "text": event.text[:70]}
    log.info("inbound message", extra={"fields": fields})

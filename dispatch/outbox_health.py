"""The outbox backlog as `commwatch status` shows it: SQL text for any `Reader`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatch.delivery_states import FAILED, OPEN_DELIVERY
from monitor.storage.reads import Reader, placeholders, utc

_OPEN_LIST, _OPEN_PARAMS = placeholders("open", OPEN_DELIVERY)
PENDING_SQL = (
    "SELECT count(*) AS pending, min(created_at) AS oldest "
    f"FROM dispatch_deliveries WHERE status IN ({_OPEN_LIST})"
)
FAILED_SQL = "SELECT count(*) AS failed FROM dispatch_deliveries WHERE status = :failed"


@dataclass(frozen=True)
class OutboxHealth:
    """The outbox backlog as `commwatch status` shows it."""

    pending: int
    oldest_pending_at: datetime | None
    failed: int


def outbox_health(reader: Reader) -> OutboxHealth:
    """Deliveries not yet accepted, the oldest of them, and deliveries failed for good."""
    [waiting] = reader.rows(PENDING_SQL, _OPEN_PARAMS)
    [failed] = reader.rows(FAILED_SQL, {"failed": FAILED})
    return OutboxHealth(int(waiting["pending"]), utc(waiting["oldest"]), int(failed["failed"]))

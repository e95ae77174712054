"""The outbox tables, registered on the shared `monitor.storage.engine.metadata`.

- `dispatch_notices`: one row per notice to announce (from a NoticeRequest),
  `dedupe_key` UNIQUE. `status`: held (waiting for `due_at`: routing happens
  then) → routed (its deliveries exist) | superseded (coalesced into a later
  notice of the same incident, `superseded_by`).
- `dispatch_deliveries`: one row per (notice, channel, address), UNIQUE on
  (dedupe_key, channel, address), so neither a restart nor a retry nor two
  routes naming the same mailbox ever produce a second delivery. `status`:
  standby (a later fallback stage) → pending → sending (claimed, with a lease:
  a crash leaves it to be retried when the lease ends) → sent | failed, or
  skipped (a standby whose earlier stage was delivered). The rendered subject
  and text are stored: the record of what was sent. What happened after the
  gateway accepted it (issue 15): `delivered_at`/`receipt` from a delivery
  report, `acked_at`/`acked_by`/`ack_means` when the recipient said 收到, and
  `escalation_step`/`escalation_id` for deliveries an escalation made
  (`dispatch.states` maps all this onto queued/sent/delivered/acknowledged/failed).

Both are written before anything is sent. Times are aware UTC (`UtcDateTime`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from dispatch.delivery_states import FAILED as FAILED
from dispatch.delivery_states import NOTICE_HELD as NOTICE_HELD
from dispatch.delivery_states import NOTICE_ROUTED as NOTICE_ROUTED
from dispatch.delivery_states import NOTICE_SUPERSEDED as NOTICE_SUPERSEDED
from dispatch.delivery_states import OPEN_DELIVERY as OPEN_DELIVERY
from dispatch.delivery_states import PENDING as PENDING
from dispatch.delivery_states import SENDING as SENDING
from dispatch.delivery_states import SENT as SENT
from dispatch.delivery_states import SKIPPED as SKIPPED
from dispatch.delivery_states import STANDBY as STANDBY
from monitor.storage.engine import UtcDateTime, metadata
from monitor.storage.reads import aware as aware

notices = Table(
    "dispatch_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("incident_id", Integer),
    Column("group_key", String(120)),  # coalescing group; NULL: never coalesced
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("superseded_by", Integer),
    Column("routed_at", UtcDateTime),
    Column("deliveries", Integer, nullable=False, default=0),
    Column("assessment", JSON(none_as_null=True)),
    Column("context", JSON, nullable=False),
)
Index("ix_dispatch_notices_due", notices.c.status, notices.c.due_at)
Index("ix_dispatch_notices_group", notices.c.group_key, notices.c.status)
Index("ix_dispatch_notices_incident", notices.c.incident_id)

DELIVERY_KEY = ("dedupe_key", "channel", "address")  # one delivery per notice, channel, address

deliveries = Table(
    "dispatch_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("dispatch_notices.id"), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", String(320), nullable=False),
    Column("recipient_key", String(200), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("stage", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("subject", Text, nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("html", Text),
    Column("notifier", String(64)),
    Column("gateway_id", Text),
    Column("detail", Text),
    Column("last_error", Text),
    Column("permanent", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("receipt", Text),
    Column("acked_at", UtcDateTime),
    Column("acked_by", String(64)),
    Column("ack_means", String(16)),
    Column("escalation_step", Integer, nullable=False, server_default="0"),
    Column("escalation_id", Integer),
    UniqueConstraint("dedupe_key", "channel", "address", name="uq_dispatch_delivery"),
)
Index("ix_dispatch_deliveries_due", deliveries.c.status, deliveries.c.next_attempt_at)
Index("ix_dispatch_deliveries_notice", deliveries.c.notice_id, deliveries.c.recipient_key)
Index("ix_dispatch_deliveries_gateway", deliveries.c.gateway_id)

"""The outbox's notice and delivery states (`dispatch.models` describes the tables)."""

from __future__ import annotations

NOTICE_HELD = "held"
NOTICE_ROUTED = "routed"
NOTICE_SUPERSEDED = "superseded"

STANDBY = "standby"
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"
OPEN_DELIVERY = (PENDING, SENDING)

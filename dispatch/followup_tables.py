"""Tables of what follows a delivery: escalations, call tasks, numbers that fail.

- `notice_escalations`: one row per (notice, head) that must be acknowledged —
  the head is a recipient with an `[[escalation.chain]]` ("unit:…",
  "person:…") or a call task ("call:N"). `step` is how far the chain went (0:
  only the head was told), `due_at` when the next step goes unless someone
  acknowledged; the chain of person ids is frozen when the row is made. The
  clock lives here, so a restarted daemon neither loses nor repeats a step.
- `call_tasks`: 电话通知 — a unit to phone about a notice (no channel reaches
  it, or the plan says phone); done with who called, who answered, the outcome.
- `contact_flags`: an address whose delivery failed for good (a receipt said
  so); shown until it works again or contacts.toml no longer lists it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from monitor.storage.engine import UtcDateTime, metadata

escalations = Table(
    "notice_escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("dispatch_notices.id"), nullable=False),
    Column("incident_id", Integer),
    Column("head", String(200), nullable=False),
    Column("head_label", Text, nullable=False),
    Column("chain", JSON, nullable=False),
    Column("step", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("acked_at", UtcDateTime),
    Column("acked_by", String(64)),
    Column("ack_means", String(16)),
    Column("ended_at", UtcDateTime),
    Column("end_reason", String(16)),
    UniqueConstraint("notice_id", "head", name="uq_notice_escalation"),
)
Index("ix_notice_escalations_due", escalations.c.ended_at, escalations.c.due_at)

call_tasks = Table(
    "call_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", Integer, ForeignKey("dispatch_notices.id"), nullable=False),
    Column("incident_id", Integer),
    Column("kind", String(32), nullable=False),
    Column("unit", String(200), nullable=False),
    Column("phone", String(64), nullable=False),
    Column("reason", String(16), nullable=False),  # unreachable | plan
    Column("script", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Column("done_by", String(64)),
    Column("answered_by", Text),
    Column("outcome", Text),
    UniqueConstraint("notice_id", "unit", name="uq_call_task"),
)
Index("ix_call_tasks_open", call_tasks.c.done_at, call_tasks.c.due_at)

contact_flags = Table(
    "contact_flags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(320), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("delivery_id", Integer),
    Column("failures", Integer, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
    UniqueConstraint("channel", "address", name="uq_contact_flag"),
)

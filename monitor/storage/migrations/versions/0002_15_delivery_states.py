"""Issue 15: delivery states after "sent" — receipts, acknowledgements, escalations, calls.

- dispatch_deliveries gains delivered_at, receipt, acked_at, acked_by,
  ack_means, escalation_step (0 for the first recipient), escalation_id, and an
  index on gateway_id (receipts are matched on it).
- New tables notice_escalations, call_tasks, contact_flags
  (dispatch/followup_tables.py describes them for queries).

Revision ID: issue15_delivery_states
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "issue15_delivery_states"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    """A UtcDateTime column (aware UTC; TIMESTAMP WITH TIME ZONE on PostgreSQL)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("dispatch_deliveries") as table:
        table.add_column(_at("delivered_at"))
        table.add_column(sa.Column("receipt", sa.Text))
        table.add_column(_at("acked_at"))
        table.add_column(sa.Column("acked_by", sa.String(64)))
        table.add_column(sa.Column("ack_means", sa.String(16)))
        table.add_column(
            sa.Column("escalation_step", sa.Integer, nullable=False, server_default="0")
        )
        table.add_column(sa.Column("escalation_id", sa.Integer))
    op.create_index("ix_dispatch_deliveries_gateway", "dispatch_deliveries", ["gateway_id"])
    op.create_table(
        "notice_escalations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("dispatch_notices.id"), nullable=False),
        sa.Column("incident_id", sa.Integer),
        sa.Column("head", sa.String(200), nullable=False),
        sa.Column("head_label", sa.Text, nullable=False),
        sa.Column("chain", sa.JSON, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        _at("due_at", nullable=False),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("acked_at"),
        sa.Column("acked_by", sa.String(64)),
        sa.Column("ack_means", sa.String(16)),
        _at("ended_at"),
        sa.Column("end_reason", sa.String(16)),
        sa.UniqueConstraint("notice_id", "head", name="uq_notice_escalation"),
    )
    op.create_index("ix_notice_escalations_due", "notice_escalations", ["ended_at", "due_at"])
    op.create_table(
        "call_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("dispatch_notices.id"), nullable=False),
        sa.Column("incident_id", sa.Integer),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("script", sa.Text, nullable=False),
        _at("created_at", nullable=False),
        _at("due_at", nullable=False),
        _at("done_at"),
        sa.Column("done_by", sa.String(64)),
        sa.Column("answered_by", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.UniqueConstraint("notice_id", "unit", name="uq_call_task"),
    )
    op.create_index("ix_call_tasks_open", "call_tasks", ["done_at", "due_at"])
    op.create_table(
        "contact_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("failures", sa.Integer, nullable=False),
        _at("first_at", nullable=False),
        _at("last_at", nullable=False),
        _at("cleared_at"),
        sa.UniqueConstraint("channel", "address", name="uq_contact_flag"),
    )

"""Issue 12: the plan's duty records — 保障期, queries, 电话快报, drills; incident columns.

Adds the tables `guarantee_periods` (§3.1.2 (4)), `incident_queries` (§4.1 催报/
核实 and their 30-minute answer clock), `phone_reports` (§4.1 电话快报) and
`drills` (§6.1 演练), and three columns of `incidents`: `followed_up_at` (the
last 续报, §4.1), `drill` (a drill incident never counts as a real one) and
`report_fields` (the §5 investigation as the office completes it).

Revision ID: issue12_duty_records
Revises: issue15_delivery_states
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "issue12_duty_records"
down_revision = "issue15_delivery_states"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    """A UtcDateTime column (aware UTC; TIMESTAMP WITH TIME ZONE on PostgreSQL)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _who(prefix: str) -> list[sa.Column[object]]:
    return [sa.Column(f"{prefix}", sa.String(64)), sa.Column(f"{prefix}_name", sa.Text)]


def upgrade() -> None:
    # plain ADD COLUMN (nullable or with a constant default): no table rebuild on SQLite
    op.add_column("incidents", _at("followed_up_at"))
    op.add_column(
        "incidents", sa.Column("drill", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("incidents", sa.Column("report_fields", sa.JSON))
    op.create_table(
        "guarantee_periods",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        _at("start_at", nullable=False),
        _at("end_at", nullable=False),
        sa.Column("systems", sa.JSON, nullable=False),
        sa.Column("fail_after", sa.Integer, nullable=False),
        _at("created_at", nullable=False),
        *_who("created_by"),
        _at("ended_at"),
        *_who("ended_by"),
    )
    op.create_index("ix_guarantee_periods_end", "guarantee_periods", ["end_at"])
    op.create_table(
        "incident_queries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        _at("asked_at", nullable=False),
        sa.Column("asker", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        _at("due_at", nullable=False),
        *_who("recorded_by"),
        _at("answered_at"),
        sa.Column("answer", sa.Text),
        *_who("answered_by"),
    )
    op.create_index("ix_incident_queries_open", "incident_queries", ["answered_at", "due_at"])
    op.create_table(
        "phone_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        _at("at", nullable=False),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("callee", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        _at("recorded_at", nullable=False),
        *_who("recorded_by"),
    )
    op.create_index("ix_phone_reports_incident", "phone_reports", ["incident_id", "id"])
    op.create_table(
        "drills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        _at("started_at", nullable=False),
        *_who("started_by"),
        sa.Column("include_monitor", sa.Boolean, nullable=False, server_default=sa.false()),
        _at("ended_at"),
        *_who("ended_by"),
    )


def downgrade() -> None:
    for table in ("drills", "phone_reports", "incident_queries", "guarantee_periods"):
        op.drop_table(table)
    for column in ("report_fields", "drill", "followed_up_at"):
        op.drop_column("incidents", column)

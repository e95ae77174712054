"""The schema of commwatch 0.1.0; adopts a database that 0.1.0 made.

0.1.0 created its tables with `metadata.create_all` and kept no revision. On
such a database this revision creates nothing (every table is there, columns
checked) and only records revision 0001; on an empty one it creates them all.
A table that is missing from an otherwise 0.1.0 database is created.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    """A UtcDateTime column (aware UTC; TIMESTAMP WITH TIME ZONE on PostgreSQL)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tables() -> list[tuple[str, list[SchemaItem], list[tuple[str, list[str]]]]]:
    """(table, columns and constraints, indexes) in dependency order."""
    return [
        (
            "nodes",
            [
                sa.Column("id", sa.String(64), primary_key=True),
                sa.Column("name", sa.Text, nullable=False),
                sa.Column("system", sa.String(64), nullable=False),
                sa.Column("address", sa.String(64), nullable=False),
                sa.Column("street", sa.Text),
                sa.Column("critical", sa.Boolean, nullable=False),
                sa.Column("probes", sa.JSON, nullable=False),
                sa.Column("primary_probe", sa.String(16), nullable=False),
                _at("updated_at", nullable=False),
                _at("removed_at"),
            ],
            [],
        ),
        (
            "probe_samples",
            [
                sa.Column("id", RowId, primary_key=True, autoincrement=True),
                sa.Column("node_id", sa.String(64), nullable=False),
                sa.Column("probe", sa.String(16), nullable=False),
                _at("at", nullable=False),
                sa.Column("ok", sa.Boolean, nullable=False),
                sa.Column("rtt_ms", sa.Float),
                sa.Column("loss", sa.Float),
                sa.Column("error", sa.Text),
                sa.Column("degraded", sa.Boolean, nullable=False),
                sa.Column("detail", sa.Text),
                sa.Column("values", sa.JSON),
            ],
            [("ix_probe_samples_node_at", ["node_id", "at"]), ("ix_probe_samples_at", ["at"])],
        ),
        (
            "state_changes",
            [
                sa.Column("id", RowId, primary_key=True, autoincrement=True),
                sa.Column("node_id", sa.String(64), nullable=False),
                _at("at", nullable=False),
                sa.Column("previous", sa.String(16), nullable=False),
                sa.Column("current", sa.String(16), nullable=False),
                sa.Column("reason", sa.Text, nullable=False),
            ],
            [("ix_state_changes_node_at", ["node_id", "at"]), ("ix_state_changes_at", ["at"])],
        ),
        (
            "node_states",
            [
                sa.Column("node_id", sa.String(64), primary_key=True),
                sa.Column("status", sa.String(16), nullable=False),
                _at("since"),
                sa.Column("reason", sa.Text, nullable=False),
                sa.Column("failed_streak", sa.Integer, nullable=False),
                sa.Column("bad_streak", sa.Integer, nullable=False),
                sa.Column("good_streak", sa.Integer, nullable=False),
                sa.Column("answered_streak", sa.Integer, nullable=False),
                _at("updated_at", nullable=False),
            ],
            [],
        ),
        (
            "incidents",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("source", sa.String(16), nullable=False),
                sa.Column("title", sa.Text, nullable=False),
                _at("opened_at", nullable=False),
                _at("detected_at", nullable=False),
                _at("report_submitted_at"),
                sa.Column("scenario", sa.Integer),
                sa.Column("level", sa.String(4)),
                sa.Column("assessment", sa.JSON),
                _at("restored_at"),
                sa.Column("warning_scenario", sa.Integer),
                sa.Column("warning_issuer", sa.String(64)),
                sa.Column("warning_issuer_name", sa.Text),
                _at("warning_issued_at"),
                _at("warning_lifted_at"),
                sa.Column("response_level", sa.String(4)),
                sa.Column("response_starter", sa.String(64)),
                sa.Column("response_starter_name", sa.Text),
                _at("response_started_at"),
                _at("response_ended_at"),
                sa.Column("transferred_to", sa.Text),
                _at("closed_at"),
                _at("updated_at", nullable=False),
            ],
            [("ix_incidents_source_id", ["source", "id"]), ("ix_incidents_status", ["status"])],
        ),
        (
            "incident_events",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
                _at("at", nullable=False),
                sa.Column("kind", sa.String(32), nullable=False),
                sa.Column("actor", sa.String(64)),
                sa.Column("actor_name", sa.Text),
                sa.Column("note", sa.Text, nullable=False),
                sa.Column("data", sa.JSON, nullable=False),
            ],
            [("ix_incident_events_incident", ["incident_id", "id"])],
        ),
        (
            "notice_requests",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                _at("created_at", nullable=False),
                sa.Column("kind", sa.String(32), nullable=False),
                sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id")),
                sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
                sa.Column("assessment", sa.JSON),
                sa.Column("context", sa.JSON, nullable=False),
                _at("taken_at"),
            ],
            [("ix_notice_requests_pending", ["taken_at", "id"])],
        ),
        # The outbox (dispatch/models.py registers the same tables for its queries).
        (
            "dispatch_notices",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
                sa.Column("kind", sa.String(32), nullable=False),
                sa.Column("incident_id", sa.Integer),
                sa.Column("group_key", sa.String(120)),
                _at("created_at", nullable=False),
                _at("due_at", nullable=False),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("superseded_by", sa.Integer),
                _at("routed_at"),
                sa.Column("deliveries", sa.Integer, nullable=False),
                sa.Column("assessment", sa.JSON),
                sa.Column("context", sa.JSON, nullable=False),
            ],
            [
                ("ix_dispatch_notices_due", ["status", "due_at"]),
                ("ix_dispatch_notices_group", ["group_key", "status"]),
                ("ix_dispatch_notices_incident", ["incident_id"]),
            ],
        ),
        (
            "dispatch_deliveries",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column(
                    "notice_id", sa.Integer, sa.ForeignKey("dispatch_notices.id"), nullable=False
                ),
                sa.Column("dedupe_key", sa.String(200), nullable=False),
                sa.Column("channel", sa.String(16), nullable=False),
                sa.Column("address", sa.String(320), nullable=False),
                sa.Column("recipient_key", sa.String(200), nullable=False),
                sa.Column("recipient", sa.Text, nullable=False),
                sa.Column("stage", sa.Integer, nullable=False),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("attempts", sa.Integer, nullable=False),
                _at("next_attempt_at", nullable=False),
                _at("lease_until"),
                sa.Column("subject", sa.Text, nullable=False),
                sa.Column("body", sa.Text, nullable=False),
                sa.Column("html", sa.Text),
                sa.Column("notifier", sa.String(64)),
                sa.Column("gateway_id", sa.Text),
                sa.Column("detail", sa.Text),
                sa.Column("last_error", sa.Text),
                sa.Column("permanent", sa.Boolean, nullable=False),
                _at("created_at", nullable=False),
                _at("updated_at", nullable=False),
                _at("sent_at"),
                sa.UniqueConstraint(
                    "dedupe_key", "channel", "address", name="uq_dispatch_delivery"
                ),
            ],
            [
                ("ix_dispatch_deliveries_due", ["status", "next_attempt_at"]),
                ("ix_dispatch_deliveries_notice", ["notice_id", "recipient_key"]),
            ],
        ),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, items, indexes in _tables():
        if name in existing:
            _check_adopted(inspector, name, items)
            continue
        op.create_table(name, *items)
        for index, columns in indexes:
            op.create_index(index, name, columns)


def _check_adopted(inspector: sa.Inspector, name: str, items: list[SchemaItem]) -> None:
    """A table 0.1.0 made must have 0.1.0's columns; anything else is not ours to adopt."""
    have = {column["name"] for column in inspector.get_columns(name)}
    want = {item.name for item in items if isinstance(item, sa.Column)}
    if not want <= have:
        missing = ", ".join(sorted(want - have))
        raise RuntimeError(
            f"table {name} lacks columns {missing}: not a database made by commwatch 0.1.0"
        )


def downgrade() -> None:
    for name, _items, _indexes in reversed(_tables()):
        op.drop_table(name)

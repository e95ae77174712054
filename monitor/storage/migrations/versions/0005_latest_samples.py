"""Issue 13: each node's latest probe result in its own table; `probe_samples` indexed by time only.

Adds `latest_samples` (one row per node and probe kind: what `commwatch status`
shows), fills it from the newest sample of every node and probe, and drops
`ix_probe_samples_node_at`: with that per-node index every new sample landed
in its node's run of the index, a random page once the table had outgrown
SQLite's page cache (docs/scaling.md). The fill reads the whole samples table
once (about 2.5 s per million rows on SQLite); a daemon still running waits
for the migration's lock and retries its writes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FILL_LATEST = """
INSERT INTO latest_samples (node_id, probe, at, ok, rtt_ms, loss, error)
SELECT node_id, probe, at, ok, rtt_ms, loss, error FROM (
    SELECT node_id, probe, at, ok, rtt_ms, loss, error,
           row_number() OVER (PARTITION BY node_id, probe ORDER BY at DESC, id DESC) AS newest
    FROM probe_samples
) AS ranked
WHERE newest = 1
"""


def upgrade() -> None:
    op.create_table(
        "latest_samples",
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("probe", sa.String(16), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("rtt_ms", sa.Float),
        sa.Column("loss", sa.Float),
        sa.Column("error", sa.Text),
    )
    op.execute(FILL_LATEST)
    op.drop_index("ix_probe_samples_node_at", table_name="probe_samples")


def downgrade() -> None:
    op.create_index("ix_probe_samples_node_at", "probe_samples", ["node_id", "at"])
    op.drop_table("latest_samples")

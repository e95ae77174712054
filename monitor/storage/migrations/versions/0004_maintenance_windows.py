"""Issue 14: maintenance windows entered on duty (the console), beside nodes.toml's.

Adds the table `maintenance_windows`: a one-off window over nodes, systems or
streets, who entered it, and who ended it early.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    """A UtcDateTime column (aware UTC; TIMESTAMP WITH TIME ZONE on PostgreSQL)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _who(prefix: str) -> list[sa.Column[object]]:
    return [sa.Column(f"{prefix}", sa.String(64)), sa.Column(f"{prefix}_name", sa.Text)]


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        _at("start_at", nullable=False),
        _at("end_at", nullable=False),
        sa.Column("nodes", sa.JSON, nullable=False),
        sa.Column("systems", sa.JSON, nullable=False),
        sa.Column("streets", sa.JSON, nullable=False),
        _at("created_at", nullable=False),
        *_who("created_by"),
        _at("ended_at"),
        *_who("ended_by"),
    )
    op.create_index("ix_maintenance_windows_end", "maintenance_windows", ["end_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_end", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")

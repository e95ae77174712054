"""Alembic's environment: runs the revisions on the connection commwatch hands over.

`monitor.storage.migrations.upgrade` opens the connection, takes the migration
lock and passes the connection in `config.attributes["connection"]`; this
script only runs the revisions on it (no URL, no logging setup of its own).
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()

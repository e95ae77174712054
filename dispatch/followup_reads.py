"""Follow-up as read by people and metrics: open call tasks, escalation counts, failing numbers.

Read-only queries over the follow-up tables, kept apart from the modules that
act (calls, escalation, receipts) so that `call list` starts without loading
routing, rendering and the channels. The SQL and the row converters are in
`dispatch.followup_rows` (no SQLAlchemy: `commwatch status` reads them through
sqlite3 too); these run them on an engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from dispatch import followup_rows as rows
from dispatch.followup_rows import CallTask as CallTask
from dispatch.followup_rows import FailingContact as FailingContact
from dispatch.followup_rows import listed_addresses as listed_addresses
from dispatch.followup_rows import task_of as task_of
from dispatch.followup_tables import call_tasks, escalations
from dispatch.models import aware
from monitor.config import Config
from monitor.storage.engine_reads import EngineReader


def open_calls(engine: Engine, include_done: bool = False) -> list[CallTask]:
    """Call tasks not yet done (or all), the most urgent first."""
    return rows.open_calls(EngineReader(engine), include_done)


def calls_of(engine: Engine, incident_id: int) -> list[CallTask]:
    """Every call task of one incident, in order (for the 通知情况 table)."""
    query = select(call_tasks).where(call_tasks.c.incident_id == incident_id)
    with engine.connect() as connection:
        return [
            task_of(row._mapping) for row in connection.execute(query.order_by(call_tasks.c.id))
        ]


def open_counts(engine: Engine) -> dict[str, int]:
    """Open escalations by whether a step was taken (for metrics)."""
    return rows.open_counts(EngineReader(engine))


def failing_contacts(engine: Engine, config: Config) -> list[FailingContact]:
    """Flagged addresses not cleared and still listed (fixing contacts.toml unflags them)."""
    return rows.failing_contacts(EngineReader(engine), config)


def next_step_at(engine: Engine) -> datetime | None:
    """When the first open escalation's time is up (None: no escalation is open)."""
    with engine.connect() as connection:
        due = connection.execute(
            select(func.min(escalations.c.due_at)).where(escalations.c.ended_at.is_(None))
        ).scalar()
    return aware(due) if due is not None else None

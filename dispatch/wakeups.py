"""When the dispatcher and the follow-up loop look at the database again (instead of every second).

Both loops sleep on an asyncio.Event set when work arrives in this process
(a submit, a reload, a send finished, an escalation step, a receipt) and on a
timer to the next due time read from the database (a retry, a held notice, an
escalation step), never longer than IDLE_CAP. In between, every
`[dispatch] poll_interval` the dispatcher runs one cheap read, `signal()`: a
single SELECT of indexed EXISTS sub-queries that sees what another process (the
CLI, the console of another instance, a second daemon on PostgreSQL) wrote for
it — a `notice_requests` row, a delivery made due again, a held notice due.
Anything else another process writes (e.g. an escalation it started) is seen
within IDLE_CAP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, exists, select

from dispatch.models import NOTICE_HELD, PENDING, deliveries, notices
from monitor.incidents.tables import incidents, notice_requests
from monitor.plan.names import OPEN_STATUSES

IDLE_CAP = timedelta(seconds=30)  # a full cycle at least this often, whatever the signals say


@dataclass(frozen=True)
class Signal:
    """What one cheap read saw: work waiting, and whether any incident is open (its clocks run)."""

    work: bool
    incidents_open: bool


_NOW = bindparam("now", type_=deliveries.c.next_attempt_at.type)
# built once: the read runs every poll_interval for as long as the daemon runs
SIGNAL_QUERY = select(
    exists().where(notice_requests.c.taken_at.is_(None)),
    exists().where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= _NOW),
    exists().where(notices.c.status == NOTICE_HELD, notices.c.due_at <= _NOW),
    exists().where(incidents.c.status.in_(OPEN_STATUSES)),
)


def signal(engine: Engine, now: datetime) -> Signal:
    """One SELECT: untaken notice requests, due deliveries or held notices, open incidents."""
    with engine.connect() as connection:
        requests, due, held, open_now = connection.execute(SIGNAL_QUERY, {"now": now}).one()
    return Signal(bool(requests or due or held), bool(open_now))


async def wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`; True when it was set."""
    if seconds <= 0:
        return event.is_set()
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True

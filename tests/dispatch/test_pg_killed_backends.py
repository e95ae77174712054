"""The dispatcher on PostgreSQL with its backends killed every 100 ms: every notice once.

Before: when recording "sent" failed (backend killed), the send task's exception
was never retrieved and the delivery, still `sending`, was sent again when its
lease ran out. Now every database step of a send is retried or handed back to
the lease, the task never raises, and nothing is sent twice. A killed claim
whose commit went through unacknowledged waits for its lease: the lease margin
is shortened here (10 s) to keep the test short. bench/pg_races.py runs this
after the incident engine's race, 50 times, with the real margin.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL

from dispatch import sending
from dispatch.outbox import Outbox
from monitor.incidents.notices import NoticeKind
from monitor.storage.migrations import upgrade as create_schema
from tests.dispatch.support import (
    ONE_OPERATOR,
    TWO_OPERATORS,
    UNREACHABLE_CHANNELS,
    base_toml,
    load,
    request,
    write_config,
)
from tests.pg_kill import drain_under_kills, engine_for, libpq

INCIDENTS = 12


async def test_killed_backends_never_make_a_duplicate_or_a_lost_task(
    pg_server: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "LEASE_MARGIN", sending.timedelta(seconds=10))
    schema = f"kill_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    config = load(write_config(tmp_path / "c", base_toml(tmp_path / "x.db", UNREACHABLE_CHANNELS)))
    setup = engine_for(pg_server, schema, "cw-setup")
    create_schema(setup)
    notices = []
    for incident in range(1, INCIDENTS + 1):
        situation = TWO_OPERATORS if incident % 2 else ONE_OPERATOR
        for kind in (NoticeKind.DETECTION, NoticeKind.WARNING_PROPOSAL, NoticeKind.FIRST_ACTION):
            key = f"incident:{incident}:{kind}:1"
            notices.append(request(kind, key, situation, incident))
    Outbox(setup).accept(notices, notices[0].created_at, config.daemon.dispatch.coalesce_window)

    result = await drain_under_kills(pg_server, schema, config, setup)
    setup.dispose()

    assert result.killed >= 10, f"too few backends killed to prove anything: {result}"
    assert result.left_open == 0, f"not drained in {result.seconds:.0f} s: {result}"
    assert result.duplicated == 0, result
    assert result.unretrieved == 0, "a send task's exception was never retrieved"
    assert set(result.statuses) <= {"sent", "skipped"}, result.statuses
    assert result.messages == result.statuses["sent"], "every sent delivery was sent once"

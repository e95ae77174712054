"""The dispatcher and follow-up loops wake on work, not on a one-second clock (dispatch.wakeups).

Counted with a SQLAlchemy event listener (not timed): an idle dispatcher runs only the
one cheap signal read per poll_interval; a submitted notice and a request written by
another process (the CLI: its own engine) still go out well within the idle cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from dispatch.followup import FollowUp
from dispatch.wakeups import IDLE_CAP
from monitor.config import Config
from monitor.incidents.notices import NoticeKind
from monitor.incidents.store import TableNoticeSink
from monitor.incidents.tables import utcnow
from tests.conftest import Db
from tests.dispatch.fakes import eventually
from tests.dispatch.support import ONE_OPERATOR, request
from tests.dispatch.test_outbox import Rig, configured


@pytest.fixture
def setup(tmp_path: Any, db: Db) -> Iterator[tuple[Config, Engine]]:
    config, engine = configured(tmp_path, db)
    yield config, engine
    engine.dispose()


class Statements:
    """Every SQL statement an engine executes while `counting` is on."""

    def __init__(self, engine: Engine) -> None:
        self.counting = False
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args: Any) -> None:
        if self.counting:
            self.seen.append(str(args[2]))


async def test_an_idle_dispatcher_runs_only_the_signal_read(setup: tuple[Config, Engine]) -> None:
    config, engine = setup
    poll = config.daemon.dispatch.poll_interval.total_seconds()  # 100 ms in these tests
    statements = Statements(engine)
    rig = Rig(config, engine)
    rig.dispatcher.start()
    try:
        await asyncio.sleep(0.5)  # the start-up cycle
        statements.counting = True
        await asyncio.sleep(2.0)
        statements.counting = False
    finally:
        await rig.dispatcher.stop(2)
    # before: a full cycle every poll_interval, about fifteen statements with writes each
    assert 2.0 / poll / 4 <= len(statements.seen) <= 2.0 / poll + 3, statements.seen
    for sql in statements.seen:
        assert sql.lstrip().upper().startswith("SELECT"), sql
        assert "EXISTS" in sql.upper(), sql


async def test_a_notice_submitted_while_idle_goes_out_at_once(
    setup: tuple[Config, Engine],
) -> None:
    rig = Rig(*setup)
    rig.dispatcher.start()
    try:
        await asyncio.sleep(0.5)  # idle: the next full cycle is IDLE_CAP away
        rig.dispatcher.submit(request(NoticeKind.DETECTION, "k-idle", ONE_OPERATOR, 1))
        await eventually(lambda: rig.dispatcher.stats.sent == 6, within=5)
    finally:
        await rig.dispatcher.stop(2)
    assert IDLE_CAP.total_seconds() >= 30


async def test_a_request_written_by_another_process_is_seen(
    setup: tuple[Config, Engine], db: Db
) -> None:
    rig = Rig(*setup)
    rig.dispatcher.start()
    cli = db.engine()  # the CLI: its own engine and connections
    try:
        await asyncio.sleep(0.5)
        TableNoticeSink(cli).submit(request(NoticeKind.DETECTION, "k-cli", ONE_OPERATOR))
        # seen by the next signal read (poll_interval), not at the idle cap (30 s)
        await eventually(lambda: rig.dispatcher.stats.sent == 6, within=5)
    finally:
        await rig.dispatcher.stop(2)
        cli.dispose()


def test_an_idle_follow_up_looks_again_only_at_the_cap(setup: tuple[Config, Engine]) -> None:
    config, engine = setup
    followup = FollowUp(config, engine)
    statements = Statements(engine)
    now = utcnow()
    statements.counting = True
    until = followup.cycle(now)
    statements.counting = False
    assert until == now + IDLE_CAP  # nothing routed, no escalation open
    assert len(statements.seen) <= 12
    assert until - now > timedelta(seconds=1)  # before: every poll_interval

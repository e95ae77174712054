"""A database that refuses the write recording "sent": retried, never a resend, never a lost task.

After the gateway accepted a message the database is locked for a few seconds
(SQLite: another writer's BEGIN IMMEDIATE; PostgreSQL: LOCK TABLE dispatch_deliveries),
longer than the writer's lock timeout. Before: the exception ended the send
task unretrieved, the delivery stayed `sending` until its lease ran out and was
sent again. Now the record is retried until the lock is gone.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dispatch.base import Message
from dispatch.dispatcher import Dispatcher
from dispatch.status import deliveries_for
from monitor.incidents.notices import NoticeKind
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import Db, _libpq
from tests.dispatch.fakes import FakeChannel, eventually
from tests.dispatch.support import (
    ONE_OPERATOR,
    UNREACHABLE_CHANNELS,
    base_toml,
    load,
    request,
    write_config,
)

HOLD_S = 3.0


@contextmanager
def _locked(db: Db) -> Iterator[None]:
    if db.kind == "sqlite":
        path = make_url(db.url).database
        assert path
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(_libpq(make_url(db.url))) as pg:
        pg.execute(f'SET search_path TO "{db.schema}"')
        pg.execute("LOCK TABLE dispatch_deliveries IN EXCLUSIVE MODE")
        yield
        pg.rollback()


def _hold(db: Db, taken: threading.Event, failures: list[BaseException]) -> None:
    try:
        with _locked(db):
            taken.set()
            threading.Event().wait(HOLD_S)
    except BaseException as exc:
        failures.append(exc)
        raise


async def test_a_failed_sent_record_is_retried_not_resent(
    tmp_path: Path, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    config = load(
        write_config(tmp_path / "conf", base_toml(tmp_path / "cw.db", UNREACHABLE_CHANNELS))
    )
    engine = db.engine(busy_timeout_s=0.5)
    create_schema(engine)
    mail, sms = FakeChannel("mail", "email"), FakeChannel("sms", "sms")
    taken = threading.Event()
    failures: list[BaseException] = []
    holder = threading.Thread(target=_hold, args=(db, taken, failures))
    started = threading.Lock()

    def lock_once(_message: Message) -> None:
        if started.acquire(blocking=False):
            holder.start()
            taken.wait(5)  # the gateway has it; now the database refuses the record
        return None

    mail.refuse = lock_once
    dispatcher = Dispatcher(config, engine, notifiers={"mail": mail, "sms": sms})
    dispatcher.start()
    try:
        dispatcher.submit(request(NoticeKind.DETECTION, "k-lock", ONE_OPERATOR, 1))
        await eventually(lambda: dispatcher.stats.queued == 0 and dispatcher.stats.sent == 6)
    finally:
        await dispatcher.stop(5)
        holder.join(10)
        engine.dispose()
    assert failures == []
    assert taken.is_set()
    assert len(mail.sent) == len(mail.attempts) == 3, "each email sent once"
    assert {d.status for d in deliveries_for(engine, 1)} == {"sent"}
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]

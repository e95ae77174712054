"""PostgreSQL backends killed every 100 ms while the dispatcher drains its outbox.

Shared by tests/dispatch/test_pg_killed_backends.py (CI, one trial) and
bench/pg_races.py (50 trials). The dispatcher's engine carries its own
`application_name`; a killer connection terminates every backend with that
name every KILL_EVERY_S (pg_terminate_backend). Sends go to in-memory channels
at the Notifier seam that take SEND_S each, so the kills land in claims,
sends and records alike. Counted: messages per delivery key (duplicates),
deliveries left open, and asyncio's "exception was never retrieved" reports.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import URL, Engine, func, select
from sqlalchemy.exc import DBAPIError

from dispatch.base import Delivery, Message
from dispatch.dispatcher import Dispatcher
from dispatch.models import NOTICE_HELD, OPEN_DELIVERY, deliveries, notices
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import incident_events, incidents, notice_requests
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from tests.dispatch.fakes import FakeChannel

KILL_EVERY_S = 0.1
SEND_S = 0.1
WRITERS = 4  # the daemon's overlapping ICMP and SNMP rounds
TRIAL_LIMIT_S = 20.0
FLAP_S = 1.0
DRAIN_LIMIT_S = 90.0  # a claim whose commit answer was lost waits for its lease (timeout + 60 s)


def libpq(url: URL) -> str:
    """A SQLAlchemy URL as a libpq connection string."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def engine_for(server: URL, schema: str, app: str) -> Engine:
    """An engine on `schema` whose backends carry application_name `app`."""
    options = f"-csearch_path={schema} -clock_timeout=5000"
    url = server.update_query_dict({"options": options, "application_name": app})
    return open_engine(url.render_as_string(hide_password=False), 5.0)


class Killer:
    """A thread terminating every backend named `app` each KILL_EVERY_S until stopped."""

    def __init__(self, server: URL, app: str) -> None:
        self.server, self.app = server, app
        self.killed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(libpq(self.server), autocommit=True) as conn:
            while not self._stop.wait(KILL_EVERY_S):
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (self.app,),
                ).fetchall()
                self.killed += len(rows)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def _writer(
    engine: Engine,
    config: Config,
    outage: Assessment,
    errors: list[BaseException],
    go: threading.Event,
) -> None:
    """The outage goes and comes back for FLAP_S, then stays: every step raced and killed."""
    incident_engine = IncidentEngine(engine, config)
    go.wait(5)
    flapping_until = time.monotonic() + FLAP_S
    deadline = time.monotonic() + TRIAL_LIMIT_S
    rounds = 0
    while time.monotonic() < deadline:
        flapping = time.monotonic() < flapping_until
        assessment = Assessment() if flapping and rounds % 2 else outage
        try:
            incident_engine.apply_assessment(assessment, datetime.now(UTC))
        except DBAPIError:  # our backend was terminated: as the daemon's next round would
            time.sleep(0.01)
            continue
        except BaseException as exc:
            errors.append(exc)
            return
        rounds += 1
        if not flapping:
            return
    errors.append(TimeoutError("writer never got through"))


def race_writers(
    server: URL, schema: str, config: Config, outage: Assessment
) -> tuple[int, list[BaseException]]:
    """WRITERS threads apply `outage` at once while their backends are killed.

    Returns (backends killed, the writers' errors).
    """
    engine = engine_for(server, schema, f"cw-race-{schema}")
    errors: list[BaseException] = []
    go = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(engine, config, outage, errors, go))
        for _ in range(WRITERS)
    ]
    try:
        with Killer(server, f"cw-race-{schema}") as killer:
            for thread in threads:
                thread.start()
            go.set()
            for thread in threads:
                thread.join(TRIAL_LIMIT_S + 5)
    finally:
        engine.dispose()
    return killer.killed, errors


def incident_steps(setup: Engine) -> tuple[int, Sequence[str]]:
    """(monitor incidents opened, every lifecycle step in order)."""
    with setup.connect() as connection:
        opened = connection.execute(
            select(func.count()).where(incidents.c.source == "monitor")
        ).scalar_one()
        query = select(incident_events.c.kind).order_by(incident_events.c.id)
        steps = list(connection.execute(query).scalars().all())
    return int(opened), steps


class SlowChannel(FakeChannel):
    """Accepts every message after SEND_S (a gateway's round trip)."""

    async def send(self, message: Message) -> Delivery:
        await asyncio.sleep(SEND_S)
        return await super().send(message)


@dataclass(frozen=True)
class DrainResult:
    """What a drain under kills left behind."""

    killed: int
    messages: int  # messages the channels accepted
    duplicated: int  # accepted more than once for one delivery
    statuses: dict[str, int]  # deliveries by status afterwards
    unretrieved: int  # asyncio "exception was never retrieved" reports
    seconds: float
    left_open: int  # requests, notices or deliveries still open at the end (0: drained)


def open_count(engine: Engine) -> int:
    """Notice requests not yet taken, notices not yet routed, deliveries pending or sending."""
    queries = [
        select(func.count()).where(notice_requests.c.taken_at.is_(None)),
        select(func.count()).where(notices.c.status == NOTICE_HELD),
        select(func.count()).where(deliveries.c.status.in_(OPEN_DELIVERY)),
    ]
    with engine.connect() as connection:
        return sum(int(connection.execute(query).scalar_one()) for query in queries)


async def drain_under_kills(server: URL, schema: str, config: Config, setup: Engine) -> DrainResult:
    """Run a Dispatcher on `schema` until nothing is open, its backends killed throughout."""
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    app = f"cw-disp-{schema}"
    engine = engine_for(server, schema, app)
    mail, sms = SlowChannel("mail", "email"), SlowChannel("sms", "sms")
    dispatcher = Dispatcher(config, engine, notifiers={"mail": mail, "sms": sms})
    started = time.monotonic()
    with Killer(server, app) as killer:
        dispatcher.start()
        try:
            while time.monotonic() - started < DRAIN_LIMIT_S:
                await asyncio.sleep(0.5)
                if await asyncio.to_thread(open_count, setup) == 0:
                    break
        finally:
            await dispatcher.stop(5)
            engine.dispose()
    seconds = time.monotonic() - started
    left_open = await asyncio.to_thread(open_count, setup)
    gc.collect()  # unretrieved task exceptions are reported when the task is collected
    await asyncio.sleep(0)
    keys = Counter((m.key, m.address) for m in [*mail.sent, *sms.sent])
    with setup.connect() as connection:
        rows = connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        ).all()
    return DrainResult(
        killer.killed,
        sum(keys.values()),
        sum(n - 1 for n in keys.values() if n > 1),
        {str(status): int(n) for status, n in rows},
        sum(1 for c in unretrieved if "never retrieved" in str(c.get("message", ""))),
        seconds,
        left_open,
    )

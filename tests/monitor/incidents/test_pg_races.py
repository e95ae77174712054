"""One incident per outage on PostgreSQL, even with concurrent writers and killed backends.

Several threads (the daemon runs the incident engine from a worker thread per
probe round: ICMP and SNMP rounds can overlap) apply the same Assessment at
once while another connection terminates their backends every 100 ms
(pg_terminate_backend). A writer whose connection died tries again (bounded).
Before: `lock_for_write` did nothing on PostgreSQL and `FOR UPDATE` locks
nothing while no incident exists, so two incidents could open, each with its
own notices. Now creation is serialised by a transaction-level advisory lock.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from itertools import pairwise

import psycopg
import pytest
from sqlalchemy import URL, Engine, func, select
from sqlalchemy.exc import DBAPIError

from monitor.config import load_config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import incident_events, incidents, notice_requests
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import _libpq
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
TRIALS = 12
WRITERS = 4
KILL_EVERY_S = 0.1
TRIAL_LIMIT_S = 20.0
FLAP_S = 1.0
CLEAR = Assessment()
OUTAGE = Assessment(
    3,
    "II",
    operator_networks=("cmcc",),
    reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",),
    nodes_down=("cmcc-core-1",),
)


def _engine(server: URL, schema: str, app: str) -> Engine:
    options = f"-csearch_path={schema} -clock_timeout=5000"
    url = server.update_query_dict({"options": options, "application_name": app})
    return open_engine(url.render_as_string(hide_password=False), 5.0)


def _writer(engine: Engine, errors: list[BaseException], start: threading.Event) -> None:
    """The outage goes and comes back for FLAP_S, then stays: every step raced and killed."""
    incident_engine = IncidentEngine(engine, CONFIG)
    start.wait(5)
    flapping_until = time.monotonic() + FLAP_S
    deadline = time.monotonic() + TRIAL_LIMIT_S
    rounds = 0
    while time.monotonic() < deadline:
        flapping = time.monotonic() < flapping_until
        assessment = CLEAR if flapping and rounds % 2 else OUTAGE
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


def _killer(server: URL, app: str, stop: threading.Event) -> int:
    killed = 0
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        while not stop.wait(KILL_EVERY_S):
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (app,),
            ).fetchall()
            killed += len(rows)
    return killed


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_incident_per_outage_with_killed_backends(pg_server: URL, trial: int) -> None:
    schema = f"race{trial}_{secrets.token_hex(3)}"
    app = f"cw-race-{schema}"
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    setup = _engine(pg_server, schema, "cw-setup")
    create_schema(setup)
    engine = _engine(pg_server, schema, app)
    errors: list[BaseException] = []
    start, stop = threading.Event(), threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(engine, errors, start)) for _ in range(WRITERS)
    ]
    killed: list[int] = []
    killer = threading.Thread(target=lambda: killed.append(_killer(pg_server, app, stop)))
    try:
        for thread in writers:
            thread.start()
        killer.start()
        start.set()
        for thread in writers:
            thread.join(TRIAL_LIMIT_S + 5)
    finally:
        stop.set()
        killer.join(10)
        engine.dispose()
    assert errors == []
    with setup.connect() as connection:
        opened = connection.execute(
            select(func.count()).where(incidents.c.source == "monitor")
        ).scalar_one()
        steps = (
            connection.execute(select(incident_events.c.kind).order_by(incident_events.c.id))
            .scalars()
            .all()
        )
        requests = connection.execute(select(func.count()).select_from(notice_requests))
        requested = requests.scalar_one()
    setup.dispose()
    assert killed[0] > 0, "no backend was killed: the trial proved nothing"
    assert opened == 1
    assert steps[0] == "detected"
    assert steps.count("detected") == 1
    repeated = [(a, b) for a, b in pairwise(steps[1:]) if a == b]
    assert repeated == [], f"a step recorded twice (announced twice): {steps}"
    assert requested >= len(steps)

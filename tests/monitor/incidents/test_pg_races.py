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
from itertools import pairwise

import psycopg
import pytest
from sqlalchemy import URL, func, select

from monitor.config import load_config
from monitor.incidents.tables import notice_requests
from monitor.plan.assessment import Assessment
from monitor.storage.migrations import upgrade as create_schema
from tests.paths import SHIPPED_CONFIG
from tests.pg_kill import engine_for, incident_steps, libpq, race_writers

CONFIG = load_config(SHIPPED_CONFIG)
TRIALS = 12
OUTAGE = Assessment(
    3,
    "II",
    operator_networks=("cmcc",),
    reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",),
    nodes_down=("cmcc-core-1",),
)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_incident_per_outage_with_killed_backends(pg_server: URL, trial: int) -> None:
    schema = f"race{trial}_{secrets.token_hex(3)}"
    with psycopg.connect(libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    setup = engine_for(pg_server, schema, "cw-setup")
    create_schema(setup)
    killed, errors = race_writers(pg_server, schema, CONFIG, OUTAGE)
    assert errors == []
    opened, steps = incident_steps(setup)
    with setup.connect() as connection:
        requests = connection.execute(select(func.count()).select_from(notice_requests))
        requested = requests.scalar_one()
    setup.dispose()
    assert killed > 0, "no backend was killed: the trial proved nothing"
    assert opened == 1
    assert steps[0] == "detected"
    assert steps.count("detected") == 1
    repeated = [(a, b) for a, b in pairwise(steps[1:]) if a == b]
    assert repeated == [], f"a step recorded twice (announced twice): {steps}"
    assert requested >= len(steps)

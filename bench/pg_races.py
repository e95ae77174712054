"""PostgreSQL races with backends killed every 100 ms: one incident per outage, no duplicate notice.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, or COMMWATCH_TEST_PG):

    .venv/bin/python bench/pg_races.py [--trials 50]

Each trial, in its own schema of a throwaway database:
1. four writers (the daemon's overlapping ICMP and SNMP rounds) apply the same
   outage — flapping for 1 s, then steady — while another connection
   terminates their backends every 100 ms (pg_terminate_backend); a writer
   whose connection died tries again (tests/monitor/incidents/test_pg_races.py);
2. a Dispatcher takes the notices the writers requested, routes and sends them
   (to recording channels at the Notifier seam, 100 ms a message) while its own
   backends are terminated every 100 ms, until every delivery is sent
   (tests/pg_kill.py; tests/dispatch/test_pg_killed_backends.py in CI).
Counted per trial: incidents opened (must be 1), lifecycle steps recorded twice
in a row (0), backends killed, deliveries, messages sent more than once (0), send
tasks whose exception was never retrieved (0), time to drain.
The CI test runs step 1 in 12 trials; this is the issue's 50.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import URL, make_url

from monitor.config import Config
from monitor.plan.assessment import Assessment
from monitor.storage.migrations import upgrade as create_schema
from tests.dispatch.support import UNREACHABLE_CHANNELS, base_toml, load, write_config
from tests.pg_kill import drain_under_kills, engine_for, incident_steps, libpq, race_writers

SERVER = os.environ.get(
    "COMMWATCH_TEST_PG", "postgresql+psycopg://root:hunter2@127.0.0.1:5432/test"
)
OUTAGE = Assessment(
    3,
    "II",
    operator_networks=("cmcc",),
    streets=("东街街道办事处",),
    reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",),
    nodes_down=("cmcc-core-1",),
)


def trial(server: URL, index: int, config: Config) -> dict[str, int]:
    schema = f"bench{index}_{secrets.token_hex(3)}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    setup = engine_for(server, schema, "cw-setup")
    create_schema(setup)
    killed, writer_errors = race_writers(server, schema, config, OUTAGE)
    for exc in writer_errors:
        print(f"    writer error: {exc!r}", flush=True)
    errors = len(writer_errors)
    opened, steps = incident_steps(setup)
    repeated = sum(1 for a, b in pairwise(steps[1:]) if a == b)
    drained = asyncio.run(drain_under_kills(server, schema, config, setup))
    setup.dispose()
    statuses = drained.statuses
    unsent = sum(n for status, n in statuses.items() if status not in ("sent", "skipped"))
    return {
        "incidents": int(opened),
        "detected": steps.count("detected"),
        "repeated_steps": repeated,
        "writer_errors": errors,
        "killed_writers": killed,
        "killed_dispatcher": drained.killed,
        "deliveries": sum(statuses.values()),
        "unsent": unsent,  # pending, sending, failed (skipped: a later stage not needed)
        "sent": drained.messages,
        "recorded_sent": int(statuses.get("sent", 0)),
        "duplicated": drained.duplicated,
        "unretrieved": drained.unretrieved,
        "drain_s": round(drained.seconds),
        "left_open": drained.left_open,
    }


def main() -> int:
    logging.disable(logging.CRITICAL)  # the dispatcher logs every killed backend: expected here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    admin = make_url(SERVER)
    name = f"commwatch_bench_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    results = []
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="cw-pg-races-") as tmp:
            config = load(
                write_config(Path(tmp) / "c", base_toml(Path(tmp) / "x.db", UNREACHABLE_CHANNELS))
            )
            for index in range(args.trials):
                result = trial(admin.set(database=name), index, config)
                results.append(result)
                print(f"trial {index + 1:2d}: {result}", flush=True)
    finally:
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bad = [
        r
        for r in results
        if r["incidents"] != 1
        or r["detected"] != 1
        or r["repeated_steps"]
        or r["writer_errors"]
        or r["duplicated"]
        or r["unsent"]
        or r["unretrieved"]
        or r["left_open"]
        or not r["deliveries"]
        or r["sent"] - r["duplicated"] != r["recorded_sent"]
        or not r["killed_writers"]
        or not r["killed_dispatcher"]
    ]
    total = {k: sum(r[k] for r in results) for k in results[0]}
    print(
        f"{len(results)} trials in {time.monotonic() - started:.0f} s: "
        f"{sum(r['incidents'] == 1 for r in results)} with exactly one incident, "
        f"{total['repeated_steps']} steps recorded twice, "
        f"{total['killed_writers']} writer and {total['killed_dispatcher']} dispatcher backends "
        f"killed, {total['deliveries']} deliveries, {total['sent']} messages sent, "
        f"{total['duplicated']} duplicated, {total['unsent']} unsent, "
        f"{total['left_open']} left open, "
        f"{total['unretrieved']} task exceptions never retrieved; "
        f"drain under kills max {max(r['drain_s'] for r in results)} s; "
        f"{len(bad)} trials failed; load average {os.getloadavg()[0]:.2f}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

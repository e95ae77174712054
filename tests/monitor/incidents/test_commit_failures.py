"""A write that fails at commit (disk full) is reported as storage, and nothing is called done.

PostgreSQL with a deferred constraint trigger that raises at COMMIT stands in
for a disk that fills between the INSERT and the COMMIT. Before: "incident
opened" was logged inside the transaction (53 such lines during a disk-full
trial, for an incident never committed), and the failure surfaced as a probe
error ("probe round failed").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import URL, Engine, func, select

from monitor.config import load_config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import incidents
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from monitor.runtime.plan_loop import PlanRuntime
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import _libpq
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
NOW = datetime(2026, 7, 4, 8, 0, tzinfo=UTC)
OUTAGE = Assessment(
    3, "II", operator_networks=("cmcc",), reasons=("移动城区分公司网络全部业务中断",)
)
FAIL_AT_COMMIT = """
CREATE FUNCTION fail_at_commit() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (simulated)'; END
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER full_disk AFTER INSERT ON incidents
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();
"""


@pytest.fixture
def full_disk(pg_server: URL) -> Iterator[Engine]:
    schema = f"full_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = pg_server.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = open_engine(url.render_as_string(hide_password=False), 2.0)
    create_schema(engine)
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(FAIL_AT_COMMIT)
    yield engine
    engine.dispose()


def _opened(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(incidents)).scalar_one())


def test_incident_opened_is_logged_only_after_commit(
    full_disk: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine = IncidentEngine(full_disk, CONFIG)
    with caplog.at_level(logging.INFO), pytest.raises(Exception, match="No space left"):
        engine.apply_assessment(OUTAGE, NOW)
    assert _opened(full_disk) == 0
    told = {"incident opened", "incident step", "notice requested"}
    assert not [r for r in caplog.records if r.getMessage() in told]


class Pump:
    def start(self) -> None: ...

    def nudge(self) -> None: ...

    def reconfigure(self, config: object) -> None: ...

    async def stop(self, drain_timeout: float) -> None: ...


async def test_the_plan_loop_counts_a_storage_failure_as_storage(
    full_disk: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    plan = PlanRuntime(CONFIG, full_disk, Pump())  # type: ignore[arg-type]
    statuses = {node.id: Status.UP for node in CONFIG.inventory.node}
    statuses["cmcc-core-1"] = Status.DOWN
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            await plan.evaluate(statuses, {}, NOW)
    assert plan.store_errors == 3
    lines = [r.getMessage() for r in caplog.records]
    assert (
        lines.count("incident store unavailable: the assessment is applied again next round") == 1
    )
    assert "incident opened" not in lines
    families = {f.name: f for f in plan.metric_families()}
    assert families["commwatch_incident_store_errors"].samples[0].value == 3

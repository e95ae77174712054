"""Probe samples written as arrays on PostgreSQL store exactly what SQLAlchemy's executemany stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from monitor.storage.migrations import upgrade
from monitor.storage.postgresql_samples import insert_samples_postgresql
from monitor.storage.rows import sample_row
from monitor.storage.tables import probe_samples
from probes.base import ProbeResult
from tests.conftest import Db
from tests.monitor.storage.test_sqlite_samples import RESULTS

AS_TEXT = (  # every column as PostgreSQL prints it, so a float or a JSON key order shows
    "node_id, probe, at::text, ok::text, rtt_ms::text, loss::text, error,"
    ' degraded::text, detail, "values"::text'
)
LATEST_AS_TEXT = "node_id, probe, at::text, ok::text, rtt_ms::text, loss::text, error"


def stored(engine: Engine, table: str, columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(f"SELECT {columns} FROM {table}")]


@pytest.fixture
def engines(db: Db) -> Any:
    engine = db.engine()
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_arrays_store_the_text_sqlalchemy_stores(engines: Engine) -> None:
    engine = engines
    with engine.begin() as conn:
        conn.execute(insert(probe_samples), [sample_row(r) for r in RESULTS])
    reference = stored(engine, "probe_samples ORDER BY id", AS_TEXT)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM probe_samples")
        insert_samples_postgresql(conn, RESULTS)
    assert stored(engine, "probe_samples ORDER BY id", AS_TEXT) == reference
    assert len(reference) == len(RESULTS)
    assert reference[0][2] == "2026-12-01 20:41:56.066+00"
    assert reference[2][4:7] == (None, None, "badbyte")  # NaN, inf and the NUL cleaned


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_latest_rows_are_the_newest_samples_and_never_step_back(engines: Engine) -> None:
    engine = engines
    older = [replace(r, at=r.at - timedelta(seconds=30), rtt_ms=99.0) for r in RESULTS[:2]]
    for batch in (RESULTS[:3] + older, older, RESULTS[3:]):  # a stale round inside and after
        with engine.begin() as conn:
            insert_samples_postgresql(conn, batch)
    newest = stored(
        engine,
        "probe_samples AS s WHERE s.at = (SELECT max(at) FROM probe_samples AS o"
        " WHERE o.node_id = s.node_id AND o.probe = s.probe) ORDER BY node_id, probe",
        LATEST_AS_TEXT,
    )
    latest = stored(engine, "latest_samples ORDER BY node_id, probe", LATEST_AS_TEXT)
    assert [row[0] for row in latest] == ["n1", "n2", "n3", "n4", "n5"]
    assert latest == newest
    assert latest[0][4] == "0.052"


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_naive_time_is_refused_before_postgresql_reads_it_in_its_zone(engines: Engine) -> None:
    naive = ProbeResult("n1", "icmp", True, datetime(2026, 12, 1, 20, 0), 1.0, 0.0)
    with engines.begin() as conn, pytest.raises(ValueError, match="naive datetime"):
        insert_samples_postgresql(conn, [naive])

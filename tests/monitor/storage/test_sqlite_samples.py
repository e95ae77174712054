"""Probe samples written as plain tuples on SQLite store exactly what SQLAlchemy's executemany stores."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from monitor.storage.engine import open_engine
from monitor.storage.json_values import flat_json, values_json
from monitor.storage.migrations import upgrade
from monitor.storage.rows import jsonable, sample_row
from monitor.storage.sqlite_samples import insert_samples, sqlite_time
from monitor.storage.store import Store
from monitor.storage.tables import probe_samples
from probes.base import ProbeResult

AT = datetime(2026, 12, 1, 20, 41, 56, 66000, tzinfo=UTC)
CST = timezone(timedelta(hours=8))

RESULTS = [
    ProbeResult(
        "n1",
        "icmp",
        True,
        AT,
        0.052,
        0.0,
        values={
            "rtt_min_ms": 0.05,
            "rtt_max_ms": 0.054,
            "jitter_ms": None,
            "sent": 1,
            "received": 1,
        },
    ),
    ProbeResult("n2", "icmp", False, AT, None, 1.0, error="timeout", values={"sent": 1}),
    ProbeResult(  # another zone, whole seconds, odd values: NaN, NUL, nested, non-JSON types
        "n3",
        "snmp",
        True,
        datetime(2026, 12, 2, 4, 0, 0, tzinfo=CST),
        float("nan"),
        float("inf"),
        error="bad\x00byte",
        degraded=True,
        detail="核心路由\x00",
        values={"uptime": 42, "descr": "核心路由", "nested": {"nan": float("nan")}, "tags": ("x",)},
    ),
    ProbeResult("n4", "snmp", True, AT, 1.5, 0.0, values={}),
    ProbeResult("n5", "snmp", True, AT, values={"when": AT, "flag": True, "big": 2**70}),
]
COLUMNS = 'node_id, probe, at, ok, rtt_ms, loss, error, degraded, detail, "values"'


def stored(path: Path) -> list[tuple[Any, ...]]:
    """Every sample row as SQLite holds it: each value with its storage class."""
    selected = ", ".join(f"{c}, typeof({c})" for c in COLUMNS.split(", "))
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT {selected} FROM probe_samples ORDER BY id").fetchall()


def test_tuples_store_the_bytes_sqlalchemy_stores(tmp_path: Path) -> None:
    paths = {way: tmp_path / f"{way}.db" for way in ("sqlalchemy", "tuples")}
    for way, path in paths.items():
        engine = open_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.begin() as conn:
            if way == "sqlalchemy":
                conn.execute(insert(probe_samples), [sample_row(r) for r in RESULTS])
            else:
                insert_samples(conn, RESULTS)
        engine.dispose()
    reference = stored(paths["sqlalchemy"])
    assert len(reference) == len(RESULTS)
    assert stored(paths["tuples"]) == reference
    assert reference[0][4:6] == ("2026-12-01 20:41:56.066000", "text")
    assert reference[2][4] == "2026-12-01 20:00:00.000000"  # 04:00 in UTC+8


LATEST_COLUMNS = ("node_id", "probe", "at", "ok", "rtt_ms", "loss", "error")


def stored_columns(path: Path, table: str, where: str = "") -> list[tuple[Any, ...]]:
    """latest_samples' columns of `table`'s rows as SQLite holds them: each value, its class."""
    selected = ", ".join(f"{c}, typeof({c})" for c in LATEST_COLUMNS)
    with sqlite3.connect(path) as db:
        query = f"SELECT {selected} FROM {table} {where} ORDER BY node_id, probe"
        return db.execute(query).fetchall()


def test_latest_rows_store_the_bytes_of_the_newest_sample(tmp_path: Path) -> None:
    older = [replace(r, at=r.at - timedelta(seconds=30), rtt_ms=99.0) for r in RESULTS[:2]]
    batches = [RESULTS[:3] + older, older, RESULTS[3:]]  # a stale round inside and after a batch
    path = tmp_path / "cw.db"
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    for batch in batches:
        with engine.begin() as conn:
            insert_samples(conn, batch)
    engine.dispose()
    latest = stored_columns(path, "latest_samples")
    newest_samples = stored_columns(  # the samples' bytes are SQLAlchemy's (test above)
        path,
        "probe_samples AS s",
        "WHERE s.at = (SELECT max(at) FROM probe_samples AS o"
        " WHERE o.node_id = s.node_id AND o.probe = s.probe)",
    )
    assert [row[0] for row in latest] == ["n1", "n2", "n3", "n4", "n5"]
    assert latest == newest_samples
    assert latest[0][4:10] == ("2026-12-01 20:41:56.066000", "text", 1, "integer", 0.052, "real")


def test_the_store_writes_samples_that_read_back(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    upgrade(engine)
    try:
        assert Store(engine).write_batch(RESULTS, [], {}) == len(RESULTS)
        with engine.connect() as conn:
            rows = conn.execute(probe_samples.select().order_by(probe_samples.c.id)).all()
    finally:
        engine.dispose()
    assert [r.at for r in rows] == [r.at for r in RESULTS]
    assert rows[0].values == {
        "rtt_min_ms": 0.05,
        "rtt_max_ms": 0.054,
        "jitter_ms": None,
        "sent": 1,
        "received": 1,
    }
    assert (rows[2].rtt_ms, rows[2].loss, rows[2].error, rows[2].detail) == (
        None,
        None,
        "badbyte",
        "核心路由",
    )
    assert rows[2].values == {
        "uptime": 42,
        "descr": "核心路由",
        "nested": {"nan": None},
        "tags": ["x"],
    }
    assert rows[3].values is None  # no values: NULL, as SQLAlchemy's none_as_null stores
    assert rows[4].values == {"when": str(AT), "flag": True, "big": 2**70}


def test_sqlite_time_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2026, 12, 1, 12, 0))


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=8))
def test_flat_json_is_json_dumps_of_the_cleaned_values(values: dict[str, Any]) -> None:
    assert flat_json(values) == json.dumps(jsonable(values))
    assert values_json(values) == json.dumps(jsonable(values))


@pytest.mark.parametrize(
    "values",
    [{"a": "text"}, {"a": [1.0]}, {"a": {"b": 1}}, {1: 2.0}, {"a": AT}],
    ids=["text", "list", "nested", "int-key", "datetime"],
)
def test_values_json_falls_back_to_the_generic_walk(values: dict[Any, Any]) -> None:
    assert flat_json(values) is None
    assert values_json(values) == json.dumps(jsonable(values))


def test_a_non_finite_float_is_null() -> None:
    assert flat_json({"x": math.inf, "y": -math.inf, "z": math.nan}) == (
        '{"x": null, "y": null, "z": null}'
    )

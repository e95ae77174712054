"""monitor.storage.store on SQLite and PostgreSQL: schema, inventory sync, batches, states, pruning."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import StatementError

from monitor.config.inventory import NodeConfig
from monitor.nodes.state import NodeState, Status, Transition
from monitor.storage.buffer import is_content_error
from monitor.storage.migrations import upgrade as create_schema
from monitor.storage.store import Store
from monitor.storage.tables import (
    latest_samples,
    node_states,
    nodes,
    probe_samples,
    state_changes,
)
from probes.base import ProbeResult
from tests.conftest import Db

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def node(node_id: str, **fields: Any) -> NodeConfig:
    values: dict[str, Any] = {"name": f"节点{node_id}", "system": "cmcc", "address": "127.0.0.1"}
    return NodeConfig(id=node_id, **(values | fields))


def sample(node_id: str, at: datetime, probe: str = "icmp", **fields: Any) -> ProbeResult:
    values: dict[str, Any] = {"ok": True, "rtt_ms": 1.5, "loss": 0.0}
    return ProbeResult(node=node_id, probe=probe, at=at, **(values | fields))


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


DOWN = NodeState(Status.DOWN, NOW, "ICMP无响应", failed_streak=3, bad_streak=3)
UP = NodeState(Status.UP, NOW + timedelta(minutes=5), "恢复正常", good_streak=2, answered_streak=2)


def test_create_schema_is_idempotent(db: Db) -> None:
    engine = db.engine()
    try:
        create_schema(engine)
        create_schema(engine)
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        indexes = {ix["name"] for ix in inspector.get_indexes("probe_samples")}
    finally:
        engine.dispose()
    assert {"nodes", "probe_samples", "state_changes", "node_states", "latest_samples"} <= tables
    assert indexes == {"ix_probe_samples_at"}  # appended in time order: no per-node index


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = Db("sqlite", f"sqlite:///{tmp_path / 'wal.db'}").engine(busy_timeout_s=2.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()


def test_sync_nodes_upserts_and_marks_removed(store: Store) -> None:
    store.sync_nodes([node("a"), node("b"), node("c", critical=True, street="东街")])
    store.write_batch([], [], {"c": DOWN})
    store.sync_nodes([node("a", name="改名"), node("b")])

    table = {row.node_id: row for row in store.node_table()}
    assert sorted(table) == ["a", "b"]
    assert table["a"].name == "改名"
    assert "c" not in store.load_node_states()
    with store.engine.connect() as conn:
        removed = conn.execute(select(nodes).where(nodes.c.id == "c")).one()
    assert removed.removed_at is not None
    assert removed.critical
    assert removed.street == "东街"

    store.sync_nodes([node("a"), node("b"), node("c")])  # re-added: active, fresh state
    table = {row.node_id: row for row in store.node_table()}
    assert sorted(table) == ["a", "b", "c"]
    assert table["c"].status is Status.UNKNOWN


def test_write_batch_round_trips_aware_utc_and_clean_values(store: Store) -> None:
    at = datetime(2025, 3, 1, 20, 0, 0, 123456, tzinfo=CST)  # 12:00:00.123456 UTC
    values = {"uptime": 42, "descr": "核心\x00路由", "nested": {"nan": math.nan}, "tags": ("x",)}
    written = store.write_batch(
        [sample("a", at, rtt_ms=math.inf, error="x\x00y", values=values)],
        [(Transition("a", Status.UNKNOWN, Status.DOWN, at, "ICMP无响应"), DOWN)],
        {},
    )
    assert written == 3  # sample, change, state

    with store.engine.connect() as conn:
        row = conn.execute(select(probe_samples)).one()
        change = conn.execute(select(state_changes)).one()
    assert row.at == at
    assert row.at.utcoffset() == timedelta(0)
    assert row.at.tzinfo is not None
    assert str(row.at.tzinfo) in ("UTC", "UTC+00:00")
    assert row.rtt_ms is None
    assert row.error == "xy"
    assert row.values == {"uptime": 42, "descr": "核心路由", "nested": {"nan": None}, "tags": ["x"]}
    assert (change.previous, change.current, change.at) == ("UNKNOWN", "DOWN", at)
    assert change.at.utcoffset() == timedelta(0)


def test_naive_datetime_is_a_content_error(store: Store) -> None:
    # SQLAlchemy's bind step refuses it on PostgreSQL, the SQLite sample tuples' own check there
    with pytest.raises((StatementError, ValueError)) as caught:
        store.write_batch([sample("a", datetime(2025, 3, 1, 12, 0))], [], {})
    assert is_content_error(caught.value)
    assert count(store, probe_samples) == 0


def test_node_states_upsert_and_rebuild_after_restart(db: Db, store: Store) -> None:
    store.write_batch([], [], {"a": DOWN})
    store.write_batch([], [], {"a": UP, "b": DOWN})
    change = Transition("c", Status.UNKNOWN, Status.DOWN, NOW, "ICMP无响应")
    store.write_batch([], [(change, DOWN), (change, None)], {})

    engine = db.engine()  # a new process: fresh engine and Store
    try:
        restored = Store(engine).load_node_states()
    finally:
        engine.dispose()
    assert restored == {"a": UP, "b": DOWN, "c": DOWN}
    assert restored["a"].since is not None
    assert restored["a"].since.tzinfo is not None
    assert count(store, node_states) == 3


def test_prune_deletes_only_old_samples(store: Store) -> None:
    old = [sample("a", NOW - timedelta(days=40, minutes=i)) for i in range(7)]
    new = [sample("a", NOW - timedelta(hours=1)), sample("b", NOW)]
    change = Transition("a", Status.UP, Status.DOWN, NOW - timedelta(days=40), "ICMP无响应")
    store.write_batch([*old, *new], [(change, DOWN)], {})

    assert store.prune(NOW - timedelta(days=30), limit=2) == 2
    assert store.prune(NOW - timedelta(days=30)) == 5
    assert store.prune(NOW - timedelta(days=30)) == 0
    with store.engine.connect() as conn:
        left = conn.scalars(select(probe_samples.c.at).order_by(probe_samples.c.at)).all()
    assert left == [NOW - timedelta(hours=1), NOW]
    assert count(store, state_changes) == 1
    assert count(store, node_states) == 1


def test_node_table_shows_state_and_latest_primary_sample(store: Store) -> None:
    store.sync_nodes(
        [
            node("b-both", system="ctcc", probes=["icmp", "snmp"], snmp_auth="v2"),
            node("a-snmp", system="ctcc", probes=["snmp"], snmp_auth="v2"),
            node("idle", system="cmcc"),
        ]
    )
    store.write_batch(
        [
            sample("b-both", NOW - timedelta(seconds=60), rtt_ms=1.0),
            sample("b-both", NOW - timedelta(seconds=30), ok=False, rtt_ms=None, loss=1.0),
            sample("b-both", NOW, probe="snmp", rtt_ms=9.0),  # newer, but not the primary probe
            sample("a-snmp", NOW, probe="snmp", rtt_ms=3.0),
            sample("ghost", NOW),  # not in the inventory: not listed
        ],
        [],
        {"b-both": DOWN},
    )
    rows = store.node_table()
    assert [r.node_id for r in rows] == ["idle", "a-snmp", "b-both"]  # by system, then id
    idle, snmp_only, both = rows
    assert (idle.status, idle.last_at, idle.last_rtt_ms, idle.reason) == (
        Status.UNKNOWN,
        None,
        None,
        "",
    )
    assert (snmp_only.last_probe, snmp_only.last_rtt_ms) == ("snmp", 3.0)
    assert (both.status, both.since, both.reason) == (Status.DOWN, NOW, "ICMP无响应")
    assert (both.last_probe, both.last_at, both.last_ok, both.last_loss) == (
        "icmp",
        NOW - timedelta(seconds=30),
        False,
        1.0,
    )


def test_the_latest_sample_never_steps_back_and_outlives_pruning(store: Store) -> None:
    store.sync_nodes([node("a"), node("b")])
    store.write_batch([sample("a", NOW, rtt_ms=2.0), sample("b", NOW, ok=False)], [], {})
    store.write_batch(
        [sample("a", NOW - timedelta(seconds=30), rtt_ms=7.0)], [], {}
    )  # a late retry
    table = {row.node_id: row for row in store.node_table()}
    assert (table["a"].last_at, table["a"].last_rtt_ms) == (NOW, 2.0)

    store.write_batch([sample("b", NOW + timedelta(seconds=30), rtt_ms=4.0)], [], {})
    assert store.prune(NOW + timedelta(days=1)) == 4  # every sample older than retention goes
    table = {row.node_id: row for row in store.node_table()}
    assert (table["a"].last_at, table["a"].last_ok, table["a"].last_rtt_ms) == (NOW, True, 2.0)
    assert (table["b"].last_at, table["b"].last_ok) == (NOW + timedelta(seconds=30), True)
    assert count(store, latest_samples) == 2


def test_a_removed_node_forgets_its_latest_sample(store: Store) -> None:
    store.sync_nodes([node("a"), node("b")])
    store.write_batch([sample("a", NOW), sample("b", NOW), sample("b", NOW, probe="snmp")], [], {})
    store.sync_nodes([node("a")])
    assert count(store, latest_samples) == 1
    store.sync_nodes([node("a"), node("b")])  # re-added: no stale latest result
    table = {row.node_id: row for row in store.node_table()}
    assert (table["b"].last_at, table["b"].last_probe) == (None, None)
    assert table["a"].last_at == NOW


def test_recent_changes_newest_first(store: Store) -> None:
    changes = [
        (Transition(n, Status.UP, Status.DOWN, NOW + timedelta(minutes=i), f"r{i}"), None)
        for i, n in enumerate(["a", "b", "a", "c"])
    ]
    store.write_batch([], changes, {})
    latest = store.recent_changes(limit=3)
    assert [(c.node_id, c.reason) for c in latest] == [("c", "r3"), ("a", "r2"), ("b", "r1")]
    assert latest[0].current is Status.DOWN
    assert latest[0].at.utcoffset() == timedelta(0)
    assert [c.reason for c in store.recent_changes(node_id="a")] == ["r2", "r0"]

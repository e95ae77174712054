"""UNKNOWN is never a recovery: an incident whose nodes are UNKNOWN is held, not restored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import load_config
from monitor.incidents import tracking
from monitor.incidents.engine import IncidentEngine
from monitor.nodes.state import NodeState, Status
from monitor.nodes.table import NodeTable
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
T0 = datetime(2026, 7, 4, 8, 0, tzinfo=UTC)
OUT = Assessment(
    3,
    "II",
    key_systems=("portal",),
    reasons=("区政府门户网站全部业务中断",),
    nodes_down=("portal-web",),
)


def _engine(tmp_path: Path) -> IncidentEngine:
    engine = open_engine(f"sqlite:///{tmp_path}/cw.db", 5.0)
    create_schema(engine)
    return IncidentEngine(engine, CONFIG)


def test_an_unknown_node_behind_the_incident_holds_it(tmp_path: Path) -> None:
    incidents = _engine(tmp_path)
    opened = incidents.apply_assessment(OUT, T0)
    assert opened is not None
    later = T0 + timedelta(minutes=1)
    held = incidents.apply_assessment(Assessment(), later, unknown=frozenset({"portal-web"}))
    assert held is not None
    assert held.restored_at is None
    assert [e.kind for e in incidents.timeline(opened.id)] == ["detected"]
    unrelated = incidents.apply_assessment(
        Assessment(), later, unknown=frozenset({"media-encoder"})
    )
    assert unrelated is not None
    assert unrelated.restored_at is not None


def test_held_only_for_open_incidents_with_unknown_nodes() -> None:
    assert not tracking.held(None, {"portal-web"})


def test_the_node_table_resumes_restored_states() -> None:
    table = NodeTable(CONFIG)
    assert table.statuses()["portal-web"] is Status.UNKNOWN
    down = NodeState(status=Status.DOWN, since=T0, failed_streak=5)
    table.reconfigure(CONFIG, {"portal-web": down})
    assert table.states()["portal-web"] == down
    table.reconfigure(CONFIG)
    assert table.states()["portal-web"] == down, "a reload keeps the running state"

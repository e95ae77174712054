"""The node table while the monitor is blind: unseen nodes are UNKNOWN, not DOWN (§4.2 (2))."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Config, load_config
from monitor.nodes.state import Status
from monitor.nodes.table import BLIND_REASON, NodeTable
from probes.base import ProbeResult
from tests.paths import PLAN_DATA, ROOT

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def round_(table: NodeTable, at: datetime, ok: dict[str, bool]) -> None:
    results = [ProbeResult(node, "icmp", answered, at=at) for node, answered in ok.items()]
    table.note(results, at)
    for result in results:
        table.apply(result, at)


def test_failed_rounds_while_blind_make_unknown_not_down(world: Config) -> None:
    table = NodeTable(world)
    round_(table, T0, {"ks2-srv": True, "ks3-core": True})
    table.blind = True
    for i in range(1, 6):  # more than fail_after rounds
        round_(table, T0 + timedelta(seconds=30 * i), {"ks2-srv": False, "ks3-core": True})
    state = table.states()["ks2-srv"]
    assert (state.status, state.reason) == (Status.UNKNOWN, BLIND_REASON)
    assert state.since == T0 + timedelta(seconds=30)  # one transition, not one per round
    assert table.statuses()["ks3-core"] is Status.UP  # still seen
    assert table.unseen() == {"ks2-srv"}


def test_a_down_node_becomes_unknown_when_the_monitor_goes_blind(world: Config) -> None:
    table = NodeTable(world)
    for i in range(4):
        round_(table, T0 + timedelta(seconds=30 * i), {"ks2-srv": False})
    assert table.statuses()["ks2-srv"] is Status.DOWN
    table.blind = True
    round_(table, T0 + timedelta(minutes=3), {"ks2-srv": False})
    assert table.statuses()["ks2-srv"] is Status.UNKNOWN


def test_after_sight_returns_nodes_are_judged_afresh(world: Config) -> None:
    table = NodeTable(world)
    table.blind = True
    round_(table, T0, {"ks2-srv": False, "ks3-core": False})
    table.blind = False
    round_(table, T0 + timedelta(seconds=30), {"ks2-srv": True, "ks3-core": False})
    assert table.statuses()["ks2-srv"] is Status.UP
    assert table.unseen() == {"ks3-core"}  # fails again, not yet fail_after rounds
    for i in range(2, 4):
        round_(table, T0 + timedelta(seconds=30 * i), {"ks3-core": False})
    assert table.statuses()["ks3-core"] is Status.DOWN
    assert table.unseen() == set()


def test_fresh_failures_are_those_that_began_in_the_window(world: Config) -> None:
    table = NodeTable(world)
    round_(table, T0, {"ks2-srv": False, "ks3-core": True})
    later = T0 + timedelta(minutes=5)
    round_(table, later, {"ks2-srv": False, "ks3-core": False})
    assert table.failing() == {"ks2-srv", "ks3-core"}
    assert table.fresh_failures(later - timedelta(seconds=30)) == {"ks3-core"}
    round_(table, later + timedelta(seconds=30), {"ks3-core": True})
    assert table.failing() == {"ks2-srv"}

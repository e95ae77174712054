"""The node table's shortcut for steady UP nodes answers exactly what the full path answers."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import Config, load_config
from monitor.nodes.state import Status
from monitor.nodes.table import NodeTable
from probes.base import ProbeResult
from tests.daemon_harness import daemon_toml, loopback_nodes_toml, make_config

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
NODES = ("n0", "n1", "n2")
STEPS = (
    "ok",
    "ok",
    "ok",
    "steady",  # 30 clean rounds: streaks reach the cap, the flap window goes quiet
    "fail",
    "slow",  # over degraded_rtt
    "lossy",  # at degraded_loss
    "degraded",  # the probe itself says degraded
    "nan",
    "snmp-ok",  # a secondary result: the node's reasons can change
    "snmp-fail",
    "blind",
    "seen",
)


@pytest.fixture(scope="module")
def config() -> Iterator[Config]:
    work = Path(tempfile.mkdtemp())
    toml = daemon_toml(f"sqlite:///{work}/cw.db", 0, fail_after=2, recover_after=1)
    yield load_config(make_config(work / "config", toml, loopback_nodes_toml(len(NODES))))
    shutil.rmtree(work)


def probe_result(node: str, step: str) -> ProbeResult:
    if step == "fail":
        return ProbeResult(node, "icmp", False, loss=1.0, error="timeout")
    if step == "snmp-ok":
        return ProbeResult(node, "snmp", True, rtt_ms=2.0)
    if step == "snmp-fail":
        return ProbeResult(node, "snmp", False, error="timeout")
    rtt = {"slow": 5000.0, "nan": float("nan")}.get(step, 1.0)
    loss = {"lossy": 0.5, "nan": float("nan")}.get(step, 0.0)
    return ProbeResult(node, "icmp", True, rtt_ms=rtt, loss=loss, degraded=step == "degraded")


def full_path_only(config: Config) -> NodeTable:
    table = NodeTable(config)
    table._leaves_steady = lambda *_: False  # type: ignore[method-assign]
    return table


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(STEPS)), max_size=60))
def test_both_paths_give_the_same_answers_and_states(
    config: Config, steps: list[tuple[str, str]]
) -> None:
    fast, full = NodeTable(config), full_path_only(config)
    now = T0
    for node, step in steps:
        if step in ("blind", "seen"):
            fast.blind = full.blind = step == "blind"
            continue
        for _ in range(30 if step == "steady" else 1):
            now += timedelta(seconds=30)
            result = probe_result(node, "ok" if step == "steady" else step)
            assert fast.apply(result, now) == full.apply(result, now), (node, step)
    assert fast.states() == full.states()
    assert fast.flaps() == full.flaps()
    assert fast.sequence == full.sequence
    assert fast.unseen() == full.unseen()


def test_a_steady_node_takes_the_shortcut_and_a_change_leaves_it(config: Config) -> None:
    table = NodeTable(config)
    taken = []
    check = table._leaves_steady

    def counted(*args: object) -> bool:
        answer = check(*args)  # type: ignore[arg-type]
        taken.append(answer)
        return answer

    table._leaves_steady = counted  # type: ignore[method-assign]
    now = T0
    for _ in range(40):
        now += timedelta(seconds=30)
        table.apply(probe_result("n0", "ok"), now)
    assert taken[:3] == [False] * 3  # UNKNOWN → UP, streaks still growing
    assert taken[-10:] == [True] * 10
    applied = table.apply(probe_result("n0", "fail"), now + timedelta(seconds=30))
    assert taken[-1] is False
    assert applied is not None
    assert applied.state.failed_streak == 1
    assert table.state("n0").status is Status.UP  # type: ignore[union-attr]

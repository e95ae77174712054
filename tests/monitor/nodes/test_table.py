"""The node table's answer per result: new state, whether to store it, transition, scorer impact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import load_config
from monitor.nodes.state import Status
from monitor.nodes.table import NodeTable, streak_cap
from probes.base import ProbeResult
from tests.daemon_harness import daemon_toml, loopback_nodes_toml, make_config

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def table(tmp_path: Path) -> NodeTable:
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", 0, fail_after=2, recover_after=1)
    return NodeTable(load_config(make_config(tmp_path / "config", toml, loopback_nodes_toml(3))))


def result(ok: bool) -> ProbeResult:
    return ProbeResult("n0", "icmp", ok, rtt_ms=1.0 if ok else None, loss=0.0 if ok else 1.0)


def test_first_answer_is_a_transition_to_store_but_not_to_score(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    applied = nodes.apply(result(True), T0)
    assert applied is not None
    assert applied.transition is not None
    assert (applied.transition.previous, applied.transition.current) == (Status.UNKNOWN, Status.UP)
    assert applied.state is nodes.state("n0")
    assert applied.state_changed
    assert not applied.scored_changed  # nothing is down anywhere: the Assessment cannot change


def test_changes_are_scored_while_a_node_is_down_and_when_it_recovers(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    for at in (T0, T0 + timedelta(seconds=1)):
        nodes.apply(ProbeResult("n1", "icmp", False, loss=1.0, error="timeout"), at)
    assert nodes.state("n1").status is Status.DOWN  # type: ignore[union-attr]
    up = nodes.apply(result(True), T0 + timedelta(seconds=2))  # n0: UNKNOWN → UP, n1 is down
    assert up is not None
    assert up.scored_changed
    back = nodes.apply(ProbeResult("n1", "icmp", True, rtt_ms=1.0, loss=0.0), T0)
    assert back is not None
    assert back.transition is not None
    assert back.scored_changed  # the last down node recovers: score once more
    again = nodes.apply(ProbeResult("n2", "icmp", True, rtt_ms=1.0, loss=0.0), T0)
    assert again is not None
    assert not again.scored_changed


def test_a_steady_node_stops_rewriting_its_row_past_every_threshold(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    cap = streak_cap(nodes._config)
    stored = []
    for i in range(cap + 5):
        applied = nodes.apply(result(True), T0 + timedelta(seconds=i))
        assert applied is not None
        stored.append(applied.state_changed)
        assert not applied.scored_changed
    assert all(stored[:cap])  # the streaks still grow up to the cap
    assert not any(stored[cap:])
    failed = nodes.apply(result(False), T0 + timedelta(hours=1))
    assert failed is not None
    assert failed.state_changed  # a failed round is stored at once (restart safety)
    assert failed.transition is None  # fail_after = 2
    assert not failed.scored_changed
    down = nodes.apply(result(False), T0 + timedelta(hours=1, seconds=1))
    assert down is not None
    assert down.transition is not None
    assert down.transition.current is Status.DOWN


def test_unknown_nodes_and_secondary_results_do_not_step(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    assert nodes.apply(ProbeResult("nope", "icmp", True), T0) is None
    assert nodes.apply(ProbeResult("n0", "snmp", True), T0) is None
    assert nodes.state("n0") is not None
    assert nodes.state("nope") is None


def test_metrics_read_the_compact_icmp_figures(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    nodes.apply(ProbeResult("n0", "icmp", True, rtt_ms=2.0, loss=0.1), T0)
    nodes.apply(ProbeResult("n1", "icmp", False, loss=1.0, error="timeout"), T0)
    views = {view.node: view for view in nodes.node_views()}
    assert views["n0"].rtt_seconds == {"icmp": 0.002}
    assert views["n0"].loss_ratio == 0.1
    assert views["n1"].rtt_seconds == {}
    assert views["n1"].loss_ratio == 1.0
    assert views["n2"].loss_ratio is None
    assert views["n0"].status == "UP"


def test_the_cap_follows_the_configs_own_thresholds(tmp_path: Path) -> None:
    nodes = table(tmp_path)  # [state] fail_after = 2, recover_after = 1; shipped guarantees
    config = nodes._config
    periods = [
        v for g in config.plan.guarantee for v in (g.fail_after, g.recover_after) if v is not None
    ]
    assert streak_cap(config) == max([2, 1, *periods]) + 1
    assert streak_cap(config) < 100  # not the schema's maximum: steady rows stop early


def test_a_steady_round_reuses_the_nodes_state_and_flap_objects(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    window = nodes._flap_limits.window
    for i in range(max(streak_cap(nodes._config), window) + 1):
        nodes.apply(result(True), T0 + timedelta(seconds=i))
    entry = nodes._entries["n0"]
    state, flap = entry.state, entry.flap
    again = nodes.apply(result(True), T0 + timedelta(hours=1))
    assert again is not None
    assert again.state is state  # nothing allocated, nothing to store
    assert entry.flap is flap
    assert not again.state_changed
    assert again.transition is None
    failed = nodes.apply(result(False), T0 + timedelta(hours=1, seconds=1))
    assert failed is not None
    assert failed.state is not state  # a failure still counts at once
    assert failed.state.failed_streak == 1
    assert failed.state_changed


def test_the_change_sequence_moves_with_status_changes_only(tmp_path: Path) -> None:
    nodes = table(tmp_path)
    start = nodes.sequence
    nodes.apply(result(True), T0)  # UNKNOWN → UP
    after_up = nodes.sequence
    assert after_up > start
    nodes.apply(result(True), T0 + timedelta(seconds=1))  # still UP: nothing to show
    assert nodes.sequence == after_up
    nodes.apply(result(False), T0 + timedelta(seconds=2))  # one failure: not DOWN yet
    assert nodes.sequence == after_up
    nodes.apply(result(False), T0 + timedelta(seconds=3))  # fail_after 2 → DOWN
    assert nodes.sequence > after_up
    down = nodes.sequence
    nodes.reconfigure(nodes._config)  # a reload: readers look again
    assert nodes.sequence > down

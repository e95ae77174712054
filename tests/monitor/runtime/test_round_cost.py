"""Per-result work does not grow with the number of nodes (counted, not timed).

The daemon's round (`Daemon._run_round`) runs on a prober that answers every
node (pure logic: the real probers are tested against real peers elsewhere)
over the same 50 nodes of a 100-node and of a 10,000-node config. What is
counted is every Python line the interpreter executes during the round
(`sys.settrace` line events: a loop over all nodes, even inside a
comprehension, fires one per element), so any O(N) step per result or per
round would show up as a count that grows a hundredfold.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from monitor.app import Daemon
from monitor.config import load_config
from monitor.config.inventory import NodeConfig
from monitor.storage.migrations import upgrade as create_schema
from probes.base import ProbeResult
from tests.daemon_harness import daemon_toml, loopback_nodes_toml, make_config

ROUND = 50


class AnsweringProbe:
    """Every node answers with 1 ms RTT (stands in for a prober; no I/O)."""

    async def probe_round(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]:
        at = datetime.now(UTC)
        return [ProbeResult(n.id, "icmp", True, at=at, rtt_ms=1.0, loss=0.0) for n in nodes]

    async def close(self) -> None:
        return None


class LineCounter:
    """Counts executed lines in every frame while installed."""

    def __init__(self) -> None:
        self.lines = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> LineCounter:
        if event == "line":
            self.lines += 1
        return self


def daemon_with(tmp_path: Path, count: int) -> Daemon:
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", 0)
    config = load_config(make_config(tmp_path / "config", toml, loopback_nodes_toml(count)))
    daemon = Daemon(config)
    create_schema(daemon.engine)
    daemon.probes = {"icmp": AnsweringProbe()}  # type: ignore[dict-item]
    return daemon


def counted_round(daemon: Daemon, nodes: Sequence[NodeConfig]) -> int:
    counter = LineCounter()

    async def traced() -> None:
        sys.settrace(counter)
        try:
            await daemon._run_round("icmp", nodes)
            await daemon.scoring_done()
        finally:
            sys.settrace(None)

    asyncio.run(traced())
    return counter.lines


def round_costs(tmp_path: Path, count: int) -> tuple[int, int, int]:
    """Lines for: the first round (UNKNOWN → UP, scored), a steady round, one more."""
    daemon = daemon_with(tmp_path, count)
    try:
        nodes = daemon.config.inventory.node[:ROUND]
        first = counted_round(daemon, nodes)
        assert daemon.plan.clock.stale is False  # the first round was scored
        steady = counted_round(daemon, nodes)
        again = counted_round(daemon, nodes)
        return first, steady, again
    finally:
        daemon.engine.dispose()


def test_a_steady_round_costs_the_same_at_100_and_10000_nodes(tmp_path: Path) -> None:
    _, small, small_again = round_costs(tmp_path / "small", 100)
    _, large, large_again = round_costs(tmp_path / "large", 10_000)
    # Same round, same 50 results: the same work whatever the table's size. (Rounds 2
    # and 3 differ slightly: the flap window, bounded per node, is still filling.)
    assert large <= small * 1.05, (small, large)
    assert large_again <= small_again * 1.05, (small_again, large_again)
    assert small / ROUND < 400  # the table step, the writer submits, the counters


def test_a_changing_round_scores_once_and_the_steady_one_not_at_all(tmp_path: Path) -> None:
    first, steady, _ = round_costs(tmp_path, 2_000)
    # The first round scores the district (reads all 2,000 nodes); the steady one must not.
    assert first > steady + 2_000, (first, steady)


@pytest.mark.parametrize("count", [100, 10_000])
def test_table_apply_is_o1_per_result(tmp_path: Path, count: int) -> None:
    daemon = daemon_with(tmp_path, count)
    try:
        node = daemon.config.inventory.node[0]
        result = ProbeResult(node.id, "icmp", True, rtt_ms=1.0, loss=0.0)
        counter = LineCounter()
        now = datetime.now(UTC)
        sys.settrace(counter)
        try:
            applied = daemon.table.apply(result, now)
        finally:
            sys.settrace(None)
        assert applied is not None
        assert applied.transition is not None
        assert applied.state.status.value == "UP"
        assert counter.lines < 300, counter.lines  # ~150 either way; O(N) would be ≥ N
    finally:
        daemon.engine.dispose()


def test_scorings_asked_for_while_one_runs_are_coalesced(tmp_path: Path) -> None:
    daemon = daemon_with(tmp_path, 100)
    calls: list[int] = []

    async def slow_evaluate(statuses: Any, flaps: Any, now: datetime) -> None:
        calls.append(len(statuses))
        await asyncio.sleep(0.05)

    daemon.plan.evaluate = slow_evaluate  # type: ignore[method-assign]

    async def burst() -> None:
        daemon._request_scoring("icmp")
        await asyncio.sleep(0.01)  # the first scoring is running
        for _ in range(10):
            daemon._request_scoring("icmp")  # rounds that changed something meanwhile
            await asyncio.sleep(0.001)
        await daemon.scoring_done(5.0)

    try:
        asyncio.run(burst())
    finally:
        daemon.engine.dispose()
    assert len(calls) == 2  # the running one, then one more on the statuses as they are then


def test_a_steady_round_during_a_scoring_does_not_ask_for_another(tmp_path: Path) -> None:
    daemon = daemon_with(tmp_path, 100)
    real_score = daemon.plan._score
    calls: list[datetime] = []

    def slow_score(*args: Any) -> Any:  # the scorer's thread, made slow
        calls.append(datetime.now(UTC))
        time.sleep(0.1)
        return real_score(*args)

    daemon.plan._score = slow_score  # type: ignore[method-assign]
    nodes = daemon.config.inventory.node[:ROUND]

    async def rounds() -> None:
        await daemon._run_round("icmp", nodes)  # first round: scored (never scored before)
        await daemon.scoring_done(5.0)
        daemon._request_scoring("icmp")  # as a round with a change would
        await asyncio.sleep(0.03)  # that scoring is inside evaluate now
        await daemon._run_round("icmp", nodes)  # steady, while it runs
        await daemon.scoring_done(5.0)
        await daemon._run_round("icmp", nodes)  # steady, nothing running
        await daemon.scoring_done(5.0)

    try:
        asyncio.run(rounds())
    finally:
        daemon.engine.dispose()
    assert len(calls) == 2

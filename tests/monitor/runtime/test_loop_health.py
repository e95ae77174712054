"""Loop-lag sampler, phase accounting and the summarised change log."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from monitor.nodes.state import Status, Transition
from monitor.runtime.change_log import PER_NODE_LIMIT, log_changes
from monitor.runtime.loop_health import LoopLag, RoundPhases, quantile


class Families(Collector):
    def __init__(self, *sources: LoopLag | RoundPhases) -> None:
        self.sources = sources

    def collect(self):  # type: ignore[no-untyped-def]
        for source in self.sources:
            yield from source.metric_families()


def test_quantile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.5) == 50.0
    assert quantile(values, 0.99) == 99.0
    assert quantile([], 0.99) == 0.0


def test_the_sampler_sees_a_blocked_loop() -> None:
    lag = LoopLag(period=0.01, window=100)

    def hold() -> None:
        time.sleep(0.12)  # hold the loop, as a slow callback would

    async def main() -> None:
        lag.start()
        await asyncio.sleep(0.05)
        asyncio.get_running_loop().call_soon(hold)
        await asyncio.sleep(0.2)
        await lag.stop()

    asyncio.run(main())
    assert lag.summary()[1.0] >= 0.1
    assert lag.summary()[0.5] < 0.1


def test_the_default_sampler_wakes_twice_a_second_over_the_last_minute() -> None:
    """Each sample is a wake-up of the loop: the default takes 2 a second, not 10."""
    lag = LoopLag()
    assert lag.period * lag.window == 60.0

    async def main() -> None:
        lag.start()
        await asyncio.sleep(1.2)
        await lag.stop()

    asyncio.run(main())
    assert 1 <= lag.count <= 3  # at 0.5 s and 1.0 s (fewer on a loaded machine); 0.1 s took 12


def test_the_help_text_names_the_period_and_window() -> None:
    registry = CollectorRegistry()
    registry.register(Families(LoopLag()))
    text = generate_latest(registry).decode()
    assert "how late a 0.5s timer fires (quantiles over the last 120 samples)" in text


def test_families_render_as_prometheus_text() -> None:
    lag, phases = LoopLag(), RoundPhases()
    lag.record(0.002)
    phases.add("icmp", "probe", 0.5)
    phases.add("icmp", "probe", 0.25)
    registry = CollectorRegistry()
    registry.register(Families(lag, phases))
    text = generate_latest(registry).decode()
    assert 'commwatch_event_loop_lag_seconds{quantile="0.99"} 0.002' in text
    assert 'commwatch_round_phase_seconds_count{phase="probe",probe="icmp"} 2.0' in text
    assert 'commwatch_round_phase_seconds_sum{phase="probe",probe="icmp"} 0.75' in text


def change(node: str, before: Status, after: Status) -> Transition:
    return Transition(node, before, after, datetime.now(UTC), "")


def test_first_states_are_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    log_changes("icmp", [change(f"n{i}", Status.UNKNOWN, Status.UP) for i in range(500)], {})
    assert [r.getMessage() for r in caplog.records] == ["first node states"]
    assert caplog.records[0].fields == {"probe": "icmp", "nodes": 500, "states": "UP=500"}  # type: ignore[attr-defined]


def test_a_few_changes_are_one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    changes = [change(f"n{i}", Status.UP, Status.DOWN) for i in range(PER_NODE_LIMIT)]
    log_changes("icmp", changes, {})
    assert [r.getMessage() for r in caplog.records] == ["node state changed"] * PER_NODE_LIMIT


def test_a_mass_change_is_one_line_per_system(caplog: pytest.LogCaptureFixture) -> None:
    changes = [change(f"n{i}", Status.UP, Status.DOWN) for i in range(PER_NODE_LIMIT + 1)]
    log_changes("icmp", changes, {})
    assert [r.getMessage() for r in caplog.records] == ["node states changed"]
    fields = caplog.records[0].fields  # type: ignore[attr-defined]
    assert fields["nodes"] == PER_NODE_LIMIT + 1
    assert fields["states"] == "DOWN=11"
    assert fields["first"] == "n0,n1,n2,n3,n4"

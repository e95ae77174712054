"""Scheduling: buckets spread over the interval, no overlapping rounds, slow rounds cut."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest

from monitor.config.inventory import NodeConfig
from monitor.runtime.metrics import DaemonMetrics
from monitor.runtime.scheduler import ProbeScheduler, bucket_nodes


class NoNodes:
    def node_views(self) -> list[object]:
        return []


def _nodes(count: int) -> list[NodeConfig]:
    return [
        NodeConfig(id=f"n{i}", name=f"n{i}", system="s", address=f"127.0.0.{i % 250 + 1}")
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "interval", "buckets"),
    [(0, 30, 0), (1, 30, 1), (10, 30, 10), (10_000, 30, 30), (100, 1, 1), (7, 0.5, 1)],
    ids=["none", "one", "fewer-than-seconds", "10k-over-30s", "one-second", "sub-second"],
)
def test_bucket_nodes(count: int, interval: float, buckets: int) -> None:
    result = bucket_nodes(_nodes(count), timedelta(seconds=interval))
    assert len(result) == buckets
    assert sum(len(b) for b in result) == count


async def test_rounds_are_spread_and_do_not_overlap() -> None:
    metrics = DaemonMetrics(NoNodes())  # type: ignore[arg-type]
    starts: list[tuple[float, str]] = []
    running: set[str] = set()
    overlaps = 0

    async def run_round(kind: str, nodes: Sequence[NodeConfig]) -> None:
        nonlocal overlaps
        key = nodes[0].id
        if key in running:
            overlaps += 1
        running.add(key)
        starts.append((time.monotonic(), key))
        await asyncio.sleep(0.01)
        running.discard(key)

    scheduler = ProbeScheduler(metrics, run_round)
    scheduler.start()
    assert scheduler.plan("icmp", _nodes(4), timedelta(seconds=2)) == 2
    await asyncio.sleep(2.3)
    await scheduler.shutdown()
    first = {key: at for at, key in reversed(starts)}
    assert set(first) == {"n0", "n2"}
    assert 0.7 < abs(first["n2"] - first["n0"]) < 1.3
    assert overlaps == 0
    assert metrics.registry.get_sample_value("commwatch_probe_rounds_total", {"probe": "icmp"}) >= 3
    lag = metrics.registry.get_sample_value("commwatch_scheduler_lag_seconds", {"probe": "icmp"})
    assert lag is not None
    assert lag < 0.5


async def test_a_round_longer_than_its_interval_is_cut_and_counted() -> None:
    metrics = DaemonMetrics(NoNodes())  # type: ignore[arg-type]

    async def hang(kind: str, nodes: Sequence[NodeConfig]) -> None:
        await asyncio.sleep(60)

    scheduler = ProbeScheduler(metrics, hang)
    scheduler.start()
    scheduler.plan("snmp", _nodes(1), timedelta(seconds=1))
    await asyncio.sleep(1.3)
    await scheduler.shutdown()
    cut = metrics.registry.get_sample_value(
        "commwatch_probe_rounds_skipped_total", {"probe": "snmp", "reason": "timeout"}
    )
    assert cut == 1.0


async def test_replanning_replaces_jobs_of_that_kind_only() -> None:
    metrics = DaemonMetrics(NoNodes())  # type: ignore[arg-type]

    async def noop(kind: str, nodes: Sequence[NodeConfig]) -> None:
        return None

    scheduler = ProbeScheduler(metrics, noop)
    scheduler.start()
    scheduler.plan("icmp", _nodes(10), timedelta(seconds=30))
    scheduler.plan("snmp", _nodes(3), timedelta(seconds=60))
    scheduler.plan("icmp", _nodes(2), timedelta(seconds=30))
    jobs = scheduler._scheduler.get_jobs()
    await scheduler.shutdown()
    assert sorted(job.id for job in jobs) == [
        "probe:icmp:0",
        "probe:icmp:1",
        "probe:snmp:0",
        "probe:snmp:1",
        "probe:snmp:2",
    ]


async def test_skipped_rounds_show_in_the_lag() -> None:
    """A round that holds the loop past its interval makes the next ones late: the lag says so."""
    metrics = DaemonMetrics(NoNodes())  # type: ignore[arg-type]
    calls = 0

    async def run_round(kind: str, nodes: Sequence[NodeConfig]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(2.5)  # noqa: ASYNC251 (stands for CPU-bound work no timeout can cut)

    scheduler = ProbeScheduler(metrics, run_round)
    scheduler.start()
    scheduler.plan("icmp", _nodes(1), timedelta(seconds=1))
    await asyncio.sleep(4.0)
    await scheduler.shutdown()
    samples = {
        (s.name, s.labels.get("le")): s.value
        for family in metrics.registry.collect()
        if family.name == "commwatch_scheduler_start_delay_seconds"
        for s in family.samples
    }
    skipped = sum(
        s.value
        for family in metrics.registry.collect()
        if family.name == "commwatch_probe_rounds_skipped"
        for s in family.samples
        if s.name.endswith("_total")
    )
    counts = {le: v for (name, le), v in samples.items() if name.endswith("_bucket")}
    assert skipped >= 1
    assert counts["1.0"] < counts["+Inf"], f"no late round seen in the lag: {counts}"


async def test_a_round_running_at_shutdown_is_a_clean_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cancelling an in-flight round at stop logs no error (APScheduler saw CancelledError)."""
    metrics = DaemonMetrics(NoNodes())  # type: ignore[arg-type]
    started = asyncio.Event()

    async def run_round(kind: str, nodes: Sequence[NodeConfig]) -> None:
        started.set()
        await asyncio.sleep(30)  # still running when the daemon stops

    scheduler = ProbeScheduler(metrics, run_round)
    scheduler.start()
    scheduler.plan("icmp", _nodes(1), timedelta(seconds=1))
    await asyncio.wait_for(started.wait(), timeout=5)
    with caplog.at_level("DEBUG"):
        await scheduler.shutdown()
        await asyncio.sleep(0.1)  # let APScheduler's executor see the job end
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert errors == []

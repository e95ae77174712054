"""Real ICMP echo to 127.0.0.0/8 and ::1 (root: raw sockets; skip otherwise, fail under CI=true)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from monitor.config.daemon import IcmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes.icmp import IcmpProbe
from tests.requirements import require_root

pytestmark = pytest.mark.root


def config(**overrides: object) -> IcmpProbeConfig:
    base: dict[str, object] = {
        "count": 1,
        "timeout": timedelta(seconds=1),
        "packet_interval": timedelta(milliseconds=10),
        "pacing": timedelta(0),
    }
    return IcmpProbeConfig.model_validate({**base, **overrides})


def nodes(*addresses: str) -> list[NodeConfig]:
    return [NodeConfig(id=f"n{i}", name=a, system="s", address=a) for i, a in enumerate(addresses)]


def loopback_targets(n: int) -> list[str]:
    """n distinct addresses in 127.1.0.0/16 (all answered by the kernel)."""
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


@pytest.fixture
def root() -> None:
    require_root()


@pytest.fixture
async def probe(root: None) -> AsyncIterator[IcmpProbe]:
    prober = IcmpProbe(config(count=3))
    yield prober
    await prober.close()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"], ids=["v4", "v6"])
async def test_loopback_answers_three_of_three(probe: IcmpProbe, address: str) -> None:
    (result,) = await probe.probe_round(nodes(address))
    assert result.ok, result
    assert (result.loss, result.error) == (0.0, None)
    assert (result.values["sent"], result.values["received"]) == (3, 3)
    assert result.rtt_ms is not None
    assert 0.0 <= result.rtt_ms < 50.0
    assert result.values["rtt_min_ms"] <= result.rtt_ms <= result.values["rtt_max_ms"]
    assert result.values["jitter_ms"] >= 0.0
    assert set(probe.modes.values()) == {"raw"}  # root: auto picks raw


async def test_probe_one_node(root: None) -> None:
    prober = IcmpProbe(config())
    try:
        result = await prober.probe(nodes("127.0.0.1")[0])
    finally:
        await prober.close()
    assert result.ok
    assert result.node == "n0"
    assert result.probe == "icmp"


async def test_results_keep_input_order_across_families_and_duplicates(probe: IcmpProbe) -> None:
    addresses = ["::1", "127.0.0.1", "127.0.0.2", "::1", "127.0.0.1"]
    results = await probe.probe_round(nodes(*addresses))
    assert [r.node for r in results] == [f"n{i}" for i in range(5)]
    assert all(r.ok and r.values["received"] == 3 for r in results)


async def test_empty_round(probe: IcmpProbe) -> None:
    assert await probe.probe_round([]) == []


async def test_two_thousand_loopback_targets_in_one_round(root: None) -> None:
    prober = IcmpProbe(config())
    started = time.perf_counter()
    try:
        results = await prober.probe_round(nodes(*loopback_targets(2000)))
    finally:
        await prober.close()
    elapsed = time.perf_counter() - started
    assert [r.ok for r in results].count(False) == 0
    rtts = sorted(r.rtt_ms for r in results if r.rtt_ms is not None)
    assert statistics.median(rtts) < 1.0  # kernel timestamps: microseconds on loopback
    assert rtts[-1] < 20.0
    assert elapsed < 3.0


async def test_ten_thousand_targets_times_seven_wraps_the_sequence(root: None) -> None:
    """70,000 requests in one round: the 16-bit sequence wraps, (address, seq) stays unique."""
    prober = IcmpProbe(config(count=7, packet_interval=timedelta(0)))
    try:
        results = await prober.probe_round(nodes(*loopback_targets(10_000)))
    finally:
        await prober.close()
    assert {(r.values["sent"], r.values["received"]) for r in results} == {(7, 7)}


async def test_event_loop_stall_does_not_inflate_rtt(probe: IcmpProbe) -> None:
    async def hog() -> None:
        await asyncio.sleep(0)
        time.sleep(0.2)  # noqa: ASYNC251 - blocks the loop while replies wait in the socket

    started = time.perf_counter()
    results, _ = await asyncio.gather(probe.probe_round(nodes(*loopback_targets(100))), hog())
    assert time.perf_counter() - started >= 0.2
    assert all(r.ok for r in results)
    assert max(r.values["rtt_max_ms"] for r in results) < 50.0


async def test_concurrent_rounds_share_the_sockets(probe: IcmpProbe) -> None:
    first, second = await asyncio.gather(
        probe.probe_round(nodes(*loopback_targets(300))),
        probe.probe_round(nodes("127.0.0.1", "::1")),
    )
    assert all(r.ok and r.values["received"] == 3 for r in [*first, *second])


async def test_sockets_are_reused_and_reopened_after_close(probe: IcmpProbe) -> None:
    await probe.probe_round(nodes("127.0.0.1"))
    assert probe.modes == {"AF_INET": "raw"}
    await probe.probe_round(nodes("::1"))
    assert probe.modes == {"AF_INET": "raw", "AF_INET6": "raw"}
    await probe.close()
    assert probe.modes == {}
    (result,) = await probe.probe_round(nodes("127.0.0.1"))
    assert result.ok


def test_a_new_event_loop_gets_new_sockets(root: None) -> None:
    prober = IcmpProbe(config())
    for _ in range(2):  # the second asyncio.run has a new loop; the old reader is gone
        (result,) = asyncio.run(prober.probe_round(nodes("127.0.0.1")))
        assert result.ok
    asyncio.run(prober.close())


@pytest.mark.parametrize("size", [0, 1, 1400], ids=["empty", "odd", "large"])
async def test_payload_sizes(root: None, size: int) -> None:
    prober = IcmpProbe(config(payload_size=size))
    try:
        results = await prober.probe_round(nodes("127.0.0.1", "::1"))
    finally:
        await prober.close()
    assert all(r.ok for r in results)


async def test_pacing_spreads_the_sends(root: None) -> None:
    prober = IcmpProbe(config(pacing=timedelta(microseconds=500)))
    started = time.perf_counter()
    try:
        results = await prober.probe_round(nodes(*loopback_targets(200)))
    finally:
        await prober.close()
    assert all(r.ok for r in results)
    assert time.perf_counter() - started >= 0.09  # 199 gaps of 0.5 ms, up to 1 ms early


async def test_sweeps_are_packet_interval_apart(root: None) -> None:
    prober = IcmpProbe(config(count=3, packet_interval=timedelta(milliseconds=100)))
    started = time.perf_counter()
    try:
        (result,) = await prober.probe_round(nodes("127.0.0.1"))
    finally:
        await prober.close()
    elapsed = time.perf_counter() - started
    assert result.values["received"] == 3
    assert 0.2 <= elapsed < 0.9  # ends when all are answered, not after the timeout

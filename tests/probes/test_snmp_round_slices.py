"""SnmpProbe.probe_round starts a bucket's polls a slice per loop step, and none outlives a cut round."""

from __future__ import annotations

import asyncio

import pytest

from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes import snmp
from probes.base import ProbeResult
from probes.snmp import SnmpProbe


def nodes(count: int) -> list[NodeConfig]:
    return [
        NodeConfig(
            id=f"n{i}", name="n", system="s", address="127.0.0.1", probes=["snmp"], snmp_auth="a"
        )
        for i in range(count)
    ]


def prober() -> SnmpProbe:
    auth = SnmpAuthConfig(version="2c", community="public")
    return SnmpProbe(SnmpProbeConfig(timeout="500ms", retries=0), {"a": auth})


async def test_polls_start_in_slices_one_loop_step_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    probe, steps, started = prober(), [0], []

    async def ticker() -> None:  # counts loop steps
        while True:
            steps[0] += 1
            await asyncio.sleep(0)

    async def fake(node: NodeConfig) -> ProbeResult:
        started.append(steps[0])
        return ProbeResult(node.id, "snmp", True)

    monkeypatch.setattr(probe, "probe", fake)
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    results = await probe.probe_round(nodes(3 * snmp.START_SLICE))
    tick.cancel()
    assert [r.node for r in results] == [f"n{i}" for i in range(3 * snmp.START_SLICE)]
    assert len(set(started)) == 3  # three slices, each in its own loop step
    assert started == sorted(started)


async def test_a_cut_round_leaves_no_poll_running(monkeypatch: pytest.MonkeyPatch) -> None:
    probe, running = prober(), []

    async def slow(node: NodeConfig) -> ProbeResult:
        running.append(node.id)
        try:
            await asyncio.sleep(30)
        finally:
            running.remove(node.id)
        return ProbeResult(node.id, "snmp", True)

    monkeypatch.setattr(probe, "probe", slow)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(probe.probe_round(nodes(2 * snmp.START_SLICE)), 0.2)
    assert running == []

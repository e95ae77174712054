"""The daemon's self-monitor: edges, one notice each, one log line, the metric (§4.2 (2))."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.nodes.table import NodeTable
from monitor.runtime.routes import detect_gateways, uplink_warnings
from monitor.runtime.uplink import SelfMonitor
from probes.base import ProbeResult
from tests.paths import PLAN_DATA, ROOT

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


class ListSink:
    def __init__(self) -> None:
        self.requests: list[NoticeRequest] = []

    def submit(self, request: NoticeRequest) -> None:
        self.requests.append(request)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def with_self_monitor(config: Config, **values: Any) -> Config:
    daemon = config.daemon
    monitor = daemon.self_monitor.model_copy(update=values)
    return dataclasses.replace(config, daemon=daemon.model_copy(update={"self_monitor": monitor}))


def test_edges_announce_once_each_and_log_one_line(
    world: Config, caplog: pytest.LogCaptureFixture
) -> None:
    config = with_self_monitor(world, uplink_nodes=["ks2-srv"], detect_gateway=False)
    sink = ListSink()
    watch = SelfMonitor(config, sink)
    table = NodeTable(config)
    caplog.set_level(logging.INFO, logger="monitor.runtime.uplink")
    assert watch.judge(table, {"ks2-srv": True}, T0) is False
    for i in range(3):
        assert watch.judge(table, {"ks2-srv": False}, T0 + timedelta(seconds=i)) is True
    blind_lines = [r for r in caplog.records if r.getMessage().startswith("monitor blind")]
    assert len(blind_lines) == 1
    assert blind_lines[0].levelno == logging.ERROR
    assert [r.kind for r in sink.requests] == [NoticeKind.MONITOR_BLIND]
    assert sink.requests[0].incident_id is None
    assert "播出服务器（ks2-srv）" in sink.requests[0].context["note"]
    assert [m.samples[0].value for m in watch.families()] == [1.0]
    assert watch.judge(table, {"ks2-srv": True}, T0 + timedelta(minutes=1)) is False
    assert [r.kind for r in sink.requests] == [NoticeKind.MONITOR_BLIND, NoticeKind.MONITOR_SIGHTED]
    assert sink.requests[0].dedupe_key == sink.requests[1].dedupe_key.replace("sighted", "blind")
    assert [m.samples[0].value for m in watch.families()] == [0.0]


def test_mass_failure_is_blindness_without_an_uplink(world: Config) -> None:
    config = with_self_monitor(world, detect_gateway=False)
    watch = SelfMonitor(config, ListSink())
    table = NodeTable(config)
    every = list(config.nodes)
    table.note([ProbeResult(n, "icmp", True, at=T0) for n in every], T0)
    assert watch.judge(table, {}, T0) is False
    later = T0 + timedelta(seconds=30)
    table.note([ProbeResult(n, "icmp", False, at=later) for n in every], later)
    assert watch.judge(table, {}, later) is True
    assert "未能确定监测系统自身上联" in watch.state.why


def test_holding_until_unseen_nodes_are_judged_again(world: Config) -> None:
    config = with_self_monitor(world, uplink_nodes=["ks2-srv"], detect_gateway=False)
    watch = SelfMonitor(config, ListSink())
    table = NodeTable(config)
    table.blind = watch.judge(table, {"ks2-srv": False}, T0)
    table.apply(ProbeResult("ks3-core", "icmp", False, at=T0), T0)
    watch.settle(table)
    assert watch.holding
    assert watch.unseen == {"ks3-core"}
    later = T0 + timedelta(seconds=30)
    table.blind = watch.judge(table, {"ks2-srv": True}, later)
    assert watch.holding  # sight is back, ks3-core not judged again yet
    table.apply(ProbeResult("ks3-core", "icmp", True, at=later), later)
    watch.settle(table)
    assert not watch.holding


def test_check_pings_the_uplink_on_loopback(world: Config) -> None:
    """Real ICMP to 127.0.10.11 (ks2-srv's address in the test district)."""
    config = with_self_monitor(world, uplink_nodes=["ks2-srv"], detect_gateway=False)
    watch = SelfMonitor(config, ListSink())

    async def run() -> dict[str, bool]:
        try:
            return await watch.check()
        finally:
            await watch.close()

    assert asyncio.run(run()) == {"ks2-srv": True}


def test_gateways_from_a_routing_table(tmp_path: Path) -> None:
    (tmp_path / "route").write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t016433C6\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
        encoding="ascii",
    )
    assert detect_gateways(tmp_path) == [
        "198.51.100.1"
    ]  # TEST-NET-2: read from the file, never contacted
    assert detect_gateways(tmp_path / "missing") == []


def test_check_config_warns_without_an_uplink(world: Config) -> None:
    config = with_self_monitor(world, detect_gateway=False)
    [warning] = uplink_warnings(config)
    assert warning.startswith("commwatch.toml: self_monitor.uplink_nodes: empty and no default")
    assert uplink_warnings(with_self_monitor(config, uplink_nodes=["ks2-srv"])) == []

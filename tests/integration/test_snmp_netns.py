"""snmpd in a private network namespace with a big ifTable: take an uplink down.

The namespace holds lo, 25 veth pairs (port0 ↔ port0-peer …: 50 interfaces; this
kernel has no dummy driver) and the pair uplink0 ↔ uplink0-peer. Bringing the peer down leaves uplink0 admin-up but oper-down —
exactly an operator's cut uplink. The prober runs in a thread that has entered
the namespace (setns affects only the calling thread), so its sockets live
there too; nothing is addressed outside the namespace.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes.base import ProbeResult
from probes.snmp import SnmpProbe
from probes.snmp_ber import V2C
from probes.snmp_community import CommunityClient, CommunitySession
from probes.snmp_judge import IF_DESCR
from probes.snmp_session import walk
from tests.requirements import require_binary, require_root
from tests.snmpd import Snmpd

pytestmark = [pytest.mark.root, pytest.mark.peer]

CLONE_NEWNET = 0x40000000
PAIRS = 25
T = TypeVar("T")
AUTHS = {"v2c": SnmpAuthConfig(version="2c", community="public")}


def _ip(*args: str, stdin: str | None = None) -> None:
    subprocess.run(["ip", *args], input=stdin, text=True, check=True, capture_output=True)


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    """A namespace with lo, port0..port24 (+ peers) and uplink0 ↔ uplink0-peer; deleted after."""
    require_root()
    require_binary("ip")
    name = f"cwsnmp-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    try:
        batch = ["link set lo up", "link add uplink0 type veth peer name uplink0-peer"]
        batch += [f"link add port{i} type veth peer name port{i}-peer" for i in range(PAIRS)]
        batch += [
            f"link set {end} up" for i in range(PAIRS) for end in (f"port{i}", f"port{i}-peer")
        ]
        batch += ["link set uplink0 up", "link set uplink0-peer up"]
        _ip("-n", name, "-batch", "-", stdin="\n".join(batch) + "\n")
        yield name
    finally:
        _ip("netns", "del", name)


def run_in_netns(name: str, make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine in a fresh loop on a thread that has entered the namespace."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{name}", "rb") as handle:
            if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                outcome["error"] = OSError(ctypes.get_errno(), "setns failed")
                return
        try:
            outcome["value"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"in-{name}")
    thread.start()
    thread.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def agent(netns: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    # interface_replace_old: a re-created interface replaces its old row instead of
    # leaving a stale one with the same name (net-snmp keeps both by default)
    with Snmpd(
        tmp_path_factory.mktemp("snmpd-netns"), netns=netns, extra_conf="interface_replace_old yes"
    ) as running:
        yield running


def _node(port: int, interfaces: list[str]) -> NodeConfig:
    return NodeConfig(
        id="agg-1",
        name="汇聚交换机",
        system="s",
        address="127.0.0.1",
        probes=["snmp"],
        snmp_auth="v2c",
        snmp_port=port,
        interfaces=interfaces,
    )


def poll_until(
    netns: str,
    probe: SnmpProbe,
    node: NodeConfig,
    done: Callable[[ProbeResult], bool],
    limit: float = 15.0,
) -> ProbeResult:
    """Probe (in the namespace) until done(result), bounded: snmpd caches ifTable a few s."""
    deadline = time.monotonic() + limit
    while True:
        result = run_in_netns(netns, lambda: probe.probe(node))
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_big_iftable_walks_completely(netns: str, agent: Snmpd) -> None:
    async def rows() -> int:
        client = CommunityClient(1 << 20)
        session = CommunitySession(client, ("127.0.0.1", agent.port), V2C, b"public", 1.0, 1)
        try:
            return len(await walk(session, IF_DESCR, 25))
        finally:
            client.close()

    assert run_in_netns(netns, rows) == 2 * PAIRS + 3  # + lo, uplink0, uplink0-peer


def test_uplink_down_degrades_the_node_naming_it(netns: str, agent: Snmpd) -> None:
    probe = SnmpProbe(SnmpProbeConfig(timeout="500ms", retries=1), AUTHS)
    node = _node(agent.port, ["uplink0", "port7", "port20"])
    try:
        healthy = run_in_netns(netns, lambda: probe.probe(node))
        assert (healthy.ok, healthy.degraded, healthy.error) == (True, False, None), healthy
        assert {i["oper"] for i in healthy.values["interfaces"].values()} == {"up"}

        _ip("-n", netns, "link", "set", "uplink0-peer", "down")  # carrier lost, admin still up
        _ip("-n", netns, "link", "set", "port7", "down")  # switched off on purpose: not a fault
        cut = poll_until(
            netns,
            probe,
            node,
            lambda r: r.degraded and r.values["interfaces"]["port7"]["admin"] == "down",
        )
        assert (cut.ok, cut.degraded, cut.error) == (True, True, None), cut
        assert cut.detail == "接口uplink0中断（管理状态up，运行状态down）"
        assert cut.values["interfaces"]["uplink0"]["admin"] == "up"
        assert cut.values["interfaces"]["port7"] == {
            "oper": "down",
            "admin": "down",
            "index": healthy.values["interfaces"]["port7"]["index"],
        }

        _ip("-n", netns, "link", "set", "uplink0-peer", "up")
        back = poll_until(netns, probe, node, lambda r: not r.degraded)
        assert (back.ok, back.degraded) == (True, False), back
    finally:
        _ip("-n", netns, "link", "set", "uplink0-peer", "up")
        _ip("-n", netns, "link", "set", "port7", "up")
        run_in_netns(netns, probe.close)


def test_renumbered_interface_is_found_again(netns: str, agent: Snmpd, tmp_path: Path) -> None:
    probe = SnmpProbe(SnmpProbeConfig(timeout="500ms", retries=1), AUTHS)
    node = _node(agent.port, ["port20"])
    try:
        first = run_in_netns(netns, lambda: probe.probe(node))
        old_index = first.values["interfaces"]["port20"]["index"]
        _ip("-n", netns, "link", "del", "port20")  # takes port20-peer with it
        _ip("-n", netns, "link", "add", "port20", "type", "veth", "peer", "name", "port20-peer")
        _ip("-n", netns, "link", "set", "port20", "up")
        _ip("-n", netns, "link", "set", "port20-peer", "up")
        moved = poll_until(
            netns,
            probe,
            node,
            lambda r: r.values.get("interfaces", {}).get("port20", {}).get("index") != old_index,
        )
        assert (moved.ok, moved.degraded) == (True, False), moved
        assert moved.values["interfaces"]["port20"]["index"] > old_index
        assert moved.values["interfaces"]["port20"]["oper"] == "up"
        assert os.path.exists(f"/run/netns/{netns}")
    finally:
        run_in_netns(netns, probe.close)

"""ICMP against hosts that can really be silent: network namespaces (tests/netns.py).

The prober runs inside the lab's monitor namespace through `lab.call_in` (a
thread that setns()es in, so its sockets live there); privilege cases run in
`ip netns exec` subprocesses without CAP_NET_RAW. Traffic stays on 198.18.0.0/24
inside the namespaces.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from monitor.config.daemon import IcmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes.base import ProbeResult
from probes.icmp import IcmpProbe
from probes.icmp_packets import checksum
from tests.netns import LabCommandError, NetnsLab, netns_lab, remove_leftovers
from tests.requirements import require_binary

pytestmark = pytest.mark.root

FAST = {"count": 3, "timeout": "500ms", "packet_interval": "20ms", "pacing": "0us"}


@pytest.fixture
def lab() -> Iterator[NetnsLab]:
    with netns_lab(hosts=2) as created:
        yield created


def probe_in(
    lab: NetnsLab, addresses: list[str], **overrides: object
) -> tuple[list[ProbeResult], IcmpProbe]:
    """One round from inside the monitor namespace; the prober is returned for its counters."""
    prober = IcmpProbe(IcmpProbeConfig.model_validate({**FAST, **overrides}))
    targets = [
        NodeConfig(id=f"n{i}", name=a, system="s", address=a) for i, a in enumerate(addresses)
    ]

    async def one_round() -> list[ProbeResult]:
        try:
            return await prober.probe_round(targets)
        finally:
            await prober.close()

    return lab.call_in(lab.monitor_ns, lambda: asyncio.run(one_round())), prober


def test_silent_host_times_out_and_answering_host_is_up(lab: NetnsLab) -> None:
    silent, alive = lab.addresses
    lab.ignore_echo(True, host=0)
    down, up = probe_in(lab, [silent, alive])[0]
    assert (down.ok, down.loss, down.error, down.rtt_ms) == (False, 1.0, "timeout", None)
    assert (down.values["sent"], down.values["received"]) == (3, 0)
    assert (up.ok, up.loss, up.error) == (True, 0.0, None)
    assert (up.values["sent"], up.values["received"]) == (3, 3)
    lab.ignore_echo(False, host=0)
    assert all(r.ok for r in probe_in(lab, [silent, alive])[0])


def test_link_down_times_out_and_recovers(lab: NetnsLab) -> None:
    assert probe_in(lab, lab.addresses[:1])[0][0].ok  # neighbour entry learnt
    lab.link_down(host=0)
    (result,), _ = probe_in(lab, lab.addresses[:1])
    assert (result.ok, result.loss, result.error) == (False, 1.0, "timeout")
    lab.link_up(host=0)
    assert probe_in(lab, lab.addresses[:1], timeout="2s")[0][0].ok


def reflect(
    forged_source: str,
    monitor: str,
    ident_xor: int,
    ready: threading.Event,
    stop: threading.Event,
    forged: list[int],
) -> None:
    """Answer echo requests (which the kernel ignores here) with replies that must not count.

    The replies carry the request's id and sequence, but a different source
    address (another host's), or the right source but someone else's id.
    """
    listen = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
    listen.settimeout(0.05)
    ready.set()
    with listen, send:
        while not stop.is_set():
            try:
                packet, (source, _) = listen.recvfrom(4096)
            except TimeoutError:
                continue
            request = packet[(packet[0] & 0x0F) * 4 :]
            if source != monitor or request[0] != 8:
                continue
            ident = struct.unpack_from("!H", request, 4)[0] ^ ident_xor
            body = struct.pack("!BBHH", 0, 0, 0, ident) + request[6:]
            reply = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
            ip = struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(reply),
                0,
                0,
                64,
                socket.IPPROTO_ICMP,
                0,
                socket.inet_aton(forged_source),
                socket.inet_aton(monitor),
            )
            send.sendto(ip + reply, (monitor, 0))
            forged[0] += 1


@pytest.mark.parametrize(
    ("forge_from_other_host", "ident_xor"),
    [(True, 0), (False, 0x5A5A)],
    ids=["other-source-same-id-and-seq", "same-source-other-id"],
)
def test_forged_replies_do_not_make_a_silent_host_alive(
    lab: NetnsLab, forge_from_other_host: bool, ident_xor: int
) -> None:
    silent, other = lab.addresses
    lab.ignore_echo(True, host=0)
    ready, stop, forged = threading.Event(), threading.Event(), [0]
    source = other if forge_from_other_host else silent
    args = (source, lab.monitor_address, ident_xor, ready, stop, forged)
    reflector = lab.thread_in(lab.host_ns(0), reflect, *args)
    assert ready.wait(5)
    try:
        (down, up), prober = probe_in(lab, [silent, other])
    finally:
        stop.set()
        reflector.join(5)
    assert forged[0] == 3  # the fakes did arrive
    assert prober.ignored_replies >= 3
    assert (down.ok, down.loss, down.error) == (False, 1.0, "timeout")
    assert up.ok
    assert up.values["received"] == 3


def test_unreachable_neighbour_and_routes(lab: NetnsLab) -> None:
    mon = lab.monitor_ns
    lab.sysctl(mon, "net.ipv4.neigh.br0.mcast_solicit", "1")  # ARP gives up after 100 ms
    lab.sysctl(mon, "net.ipv4.neigh.br0.retrans_time_ms", "100")
    lab.run(mon, "ip", "route", "add", "unreachable", "198.18.9.0/24")
    lab.run(mon, "ip", "route", "add", "prohibit", "198.18.8.0/24")
    # nobody at .50 (ICMP host unreachable from our own kernel); an unreachable route;
    # a prohibit route; no route at all (the namespace has no default route)
    addresses = ["198.18.0.50", "198.18.9.1", "198.18.8.1", "198.19.0.1", lab.addresses[0]]
    results, _ = probe_in(lab, addresses, timeout="1s")
    summary = [(r.ok, r.loss, r.error, r.values["sent"]) for r in results]
    assert summary == [
        (False, 1.0, "unreachable", 3),
        (False, 1.0, "unreachable", 0),
        (False, 1.0, "prohibited", 0),
        (False, 1.0, "unreachable", 0),
        (True, 0.0, None, 3),
    ]
    assert results[1].detail == "No route to host"
    assert results[3].detail == "Network is unreachable"


PRIVILEGE_SCRIPT = """
import asyncio, json, sys
from monitor.config.daemon import IcmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes.base import ProbeError
from probes.icmp import IcmpProbe
privileged, *addresses = sys.argv[1:]
config = IcmpProbeConfig(count=2, timeout="500ms", packet_interval="20ms", privileged=privileged)
nodes = [NodeConfig(id=f"n{i}", name=a, system="s", address=a) for i, a in enumerate(addresses)]
async def main():
    probe = IcmpProbe(config)
    try:
        results = await probe.probe_round(nodes)
        modes = probe.modes
    except ProbeError as exc:
        print(exc, file=sys.stderr)
        return 3
    finally:
        await probe.close()
    for r in results:
        print(json.dumps({"mode": modes, **r.to_json()}))
    return 0
sys.exit(asyncio.run(main()))
"""


def run_without_cap_net_raw(
    lab: NetnsLab, privileged: str, *addresses: str
) -> subprocess.CompletedProcess[str]:
    """The probe as root minus CAP_NET_RAW (setpriv drops it from the bounding set)."""
    setpriv = require_binary("setpriv")
    command = [
        setpriv,
        "--bounding-set=-net_raw",
        "--inh-caps=-net_raw",
        sys.executable,
        "-c",
        PRIVILEGE_SCRIPT,
    ]
    try:
        return lab.run(lab.monitor_ns, *command, privileged, *addresses)
    except LabCommandError as exc:
        return subprocess.CompletedProcess(exc.cmd, exc.returncode, exc.stdout, exc.stderr)


@pytest.mark.parametrize("privileged", ["auto", "raw", "dgram"])
def test_without_any_permission_the_error_says_what_to_do(lab: NetnsLab, privileged: str) -> None:
    lab.sysctl(lab.monitor_ns, "net.ipv4.ping_group_range", "1 0")  # the kernel default: nobody
    done = run_without_cap_net_raw(lab, privileged, lab.addresses[0])
    assert done.returncode == 3, done.stdout + done.stderr
    if privileged != "dgram":
        assert "CAP_NET_RAW" in done.stderr
        assert "AmbientCapabilities=CAP_NET_RAW" in done.stderr
    if privileged != "raw":
        assert "net.ipv4.ping_group_range" in done.stderr
        assert "sysctl -w" in done.stderr


def test_auto_falls_back_to_ping_sockets(lab: NetnsLab) -> None:
    lab.ignore_echo(True, host=0)
    lab.sysctl(lab.monitor_ns, "net.ipv4.ping_group_range", "0 2147483647")  # this namespace only
    done = run_without_cap_net_raw(lab, "auto", *lab.addresses, "127.0.0.1", "::1")
    assert done.returncode == 0, done.stderr
    silent, alive, v4, v6 = [json.loads(line) for line in done.stdout.splitlines()]
    assert silent["mode"] == {"AF_INET": "dgram", "AF_INET6": "dgram"}
    assert (silent["ok"], silent["loss"], silent["error"]) == (False, 1.0, "timeout")
    assert all(r["ok"] and r["received"] == 2 for r in (alive, v4, v6))


def test_lab_leaves_nothing_behind() -> None:
    before = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    with netns_lab(hosts=1) as lab:
        names = [lab.monitor_ns, *lab.target_ns]
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert all(name in listed for name in names)
    after = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(name in listed for name in names)
    assert "198.18." not in before + after


def test_leftovers_of_dead_runs_are_removed() -> None:
    with netns_lab(hosts=1):
        pass  # root and ip are there
    finished = subprocess.Popen(["true"])
    finished.wait()  # its PID now names a process that is gone
    stale = f"cwlab-{finished.pid}-abcdef-mon"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    try:
        assert stale in remove_leftovers()
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True)

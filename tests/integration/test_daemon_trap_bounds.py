"""Traps cannot flood the daemon: bounded metric series, rate-limited re-probes, quiet rejects.

The real daemon with its trap receiver on loopback gets 300 v2c traps with
300 distinct trap OIDs from a known node, 300 undecodable datagrams and 50
traps with a wrong community. Before: every trap OID became a metric series,
every trap an extra probe round, every bad datagram a pysnmp traceback.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from probes.snmp_ber import encode_int, encode_oid, tlv
from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.requirements import require_root
from tests.snmp_agent import octets, timeticks
from tests.snmpd import free_udp_port

TRAPS = 300
GARBAGE = 300
WRONG_COMMUNITY = 50
NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

[[node]]
id = "cmcc-core-1"
name = "移动城区核心路由器1"
system = "cmcc"
address = "127.0.0.1"
"""


def _trap(community: str, trap_oid: tuple[int, ...], request_id: int) -> bytes:
    binds = tlv(0x30, encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0)) + timeticks(100)) + tlv(
        0x30, encode_oid((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)) + encode_oid(trap_oid)
    )
    pdu = encode_int(request_id) + encode_int(0) + encode_int(0) + tlv(0x30, binds)
    return tlv(0x30, encode_int(1) + octets(community.encode()) + tlv(0xA7, pdu))


def test_trap_storm_is_bounded(tmp_path: Path) -> None:
    require_root()
    port, trap_port = free_port(), free_udp_port()
    extra = f"""
[snmp.auth.v2c]
version = "2c"
community = "right"

[traps]
enabled = true
listen = "127.0.0.1:{trap_port}"
auth = ["v2c"]
reprobe_every = "10s"
"""
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, interval="60s", extra=extra)
    config = make_config(tmp_path / "config", toml, NODES)
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    icmp = 'probe="icmp"'
    try:
        daemon.wait_for(
            "first round", lambda: daemon.sample("commwatch_probe_rounds_total", icmp) == 1.0
        )
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = ("127.0.0.1", trap_port)
        sender.sendto(_trap("right", (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), 1), target)  # linkDown
        for n in range(TRAPS):
            sender.sendto(_trap("right", (1, 3, 6, 1, 4, 1, 9, 9, 41, 2, n), n + 2), target)
        for n in range(GARBAGE):
            sender.sendto(os.urandom(20 + n % 60), target)
        for n in range(WRONG_COMMUNITY):
            sender.sendto(_trap("wrong", (1, 3, 6, 1, 6, 3, 1, 1, 5, 3), 10_000 + n), target)
        sender.close()
        daemon.wait_for(
            "every trap counted",
            lambda: daemon.sample("commwatch_snmp_traps_total", 'trap="other"') == TRAPS,
        )
        daemon.wait_for(
            "wrong communities counted",
            lambda: (
                daemon.sample(
                    "commwatch_snmp_trap_packets_rejected_total", 'reason="unauthenticated"'
                )
                == WRONG_COMMUNITY
            ),
        )
        body = daemon.metrics()
    finally:
        daemon.stop()
    series = re.findall(r'^commwatch_snmp_traps_total\{trap="([^"]*)"\}', body, re.M)
    assert sorted(series) == ["linkDown", "other"]
    malformed = float(
        re.search(
            r'^commwatch_snmp_trap_packets_rejected_total\{reason="malformed"\} (\S+)', body, re.M
        ).group(1)  # type: ignore[union-attr]
    )
    assert 0 < malformed <= GARBAGE
    rounds = float(
        re.search(r'^commwatch_probe_rounds_total\{probe="icmp"\} (\S+)', body, re.M).group(1)  # type: ignore[union-attr]
    )
    assert rounds <= 3, f"{TRAPS + 1} traps from one node re-probed it {rounds - 1} times"
    suppressed = re.search(r"^commwatch_snmp_trap_reprobes_suppressed_total (\S+)", body, re.M)
    assert suppressed is not None
    assert float(suppressed.group(1)) >= TRAPS - 1
    log = daemon.log()
    assert "Traceback" not in log
    assert log.count("SNMP packets rejected by the trap receiver") <= 2

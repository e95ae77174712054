"""One hostile SNMP agent does not blind its bucket: a 401-digit INTEGER is that node's problem.

The hostile node is a scripted agent answering a custom OID with a 401-digit
INTEGER; its neighbour in the same scheduler bucket is a real snmpd. The
neighbour must come UP, and go DOWN when its snmpd stops, while the hostile
node is judged (DEGRADED: value out of range) on every round.
"""

from __future__ import annotations

from pathlib import Path

from probes.snmp_judge import SYS_NAME, SYS_UPTIME
from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.snmp_agent import ScriptedAgent, integer, octets, timeticks
from tests.snmpd import Snmpd

CUSTOM = (1, 3, 6, 1, 4, 1, 99999, 1, 0)
NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

[[node]]
id = "hostile"
name = "畸形应答设备"
system = "cmcc"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "v2c"
snmp_port = {hostile}
oids = [{{ name = "temp", oid = "1.3.6.1.4.1.99999.1.0", warn_above = 80.0 }}]

[[node]]
id = "healthy"
name = "正常设备"
system = "cmcc"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "v2c"
snmp_port = {healthy}
"""
EXTRA = """
[probes.snmp]
interval = "1s"
timeout = "300ms"
retries = 0

[snmp.auth.v2c]
version = "2c"
community = "public"
"""
STATE = {"UP": 1.0, "DEGRADED": 2.0, "DOWN": 3.0}


def test_a_huge_integer_stays_with_its_node(tmp_path: Path) -> None:
    values = {
        SYS_UPTIME: timeticks(12345),
        SYS_NAME: octets(b"hostile"),
        CUSTOM: integer(10**400),
    }
    with ScriptedAgent(values) as hostile, Snmpd(tmp_path / "snmpd") as agent:
        port = free_port()
        config = make_config(
            tmp_path / "config",
            daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, fail_after=2, extra=EXTRA),
            NODES.format(hostile=hostile.port, healthy=agent.port),
        )
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
        try:

            def state(node: str) -> float | None:
                return daemon.sample(
                    "commwatch_node_state", f'node="{node}",street="",system="cmcc"'
                )

            daemon.wait_for("healthy UP", lambda: state("healthy") == STATE["UP"])
            daemon.wait_for("hostile DEGRADED", lambda: state("hostile") == STATE["DEGRADED"])
            agent.stop()
            daemon.wait_for("healthy DOWN", lambda: state("healthy") == STATE["DOWN"])
            assert state("hostile") == STATE["DEGRADED"]
            assert (daemon.sample("commwatch_probe_errors_total", 'probe="snmp"') or 0.0) == 0.0
            assert "Traceback" not in daemon.log()
        finally:
            daemon.stop()

"""The daemon polls a real snmpd every round and a linkDown trap from the node re-probes it at once."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.requirements import require_binary, require_root
from tests.snmpd import Snmpd, free_udp_port, snmp_env

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
probes = ["icmp", "snmp"]
snmp_auth = "test-v2c"
snmp_port = {port}
interfaces = ["lo"]
"""


def test_snmp_polled_and_trap_triggers_reprobe(tmp_path: Path) -> None:
    require_root()
    snmptrap = require_binary("snmptrap")
    with Snmpd(tmp_path / "snmpd") as agent:
        trap_port = free_udp_port()
        metrics_port = free_port()
        extra = f"""
[probes.snmp]
interval = "60s"
timeout = "500ms"
retries = 0

[snmp.auth.test-v2c]
version = "2c"
community = "{agent.community}"

[traps]
enabled = true
listen = "127.0.0.1:{trap_port}"
auth = ["test-v2c"]
"""
        toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", metrics_port, interval="60s", extra=extra)
        config = make_config(tmp_path / "config", toml, NODES.format(port=agent.port))
        daemon = DaemonProcess(config, metrics_port, tmp_path / "daemon.log")
        try:
            rounds = 'probe="snmp"'
            daemon.wait_for(
                "first SNMP round",
                lambda: daemon.sample("commwatch_probe_rounds_total", rounds) == 1.0,
            )
            assert (
                daemon.sample("commwatch_snmp_interface_up", 'interface="lo",node="cmcc-core-1"')
                == 1.0
            )
            sent = subprocess.run(
                [
                    snmptrap,
                    "-v2c",
                    "-c",
                    agent.community,
                    f"127.0.0.1:{trap_port}",
                    "",
                    "1.3.6.1.6.3.1.1.5.3",
                ],
                env=snmp_env(),
                capture_output=True,
                text=True,
                timeout=10,
            )
            assert sent.returncode == 0, sent.stderr
            daemon.wait_for(
                "trap counted",
                lambda: daemon.sample("commwatch_snmp_traps_total", 'trap="linkDown"') == 1.0,
            )
            daemon.wait_for(
                "re-probed at once",
                lambda: daemon.sample("commwatch_probe_rounds_total", rounds) == 2.0,
                timeout=10,
            )
        finally:
            assert daemon.stop() == 0, daemon.log()[-3000:]

"""SNMP v2c nodes for bench/daemon_steady.py: snmpd agents and snmp_exporter as the reference.

Everything runs inside the lab's monitor namespace (its own loopback): `agents`
net-snmp `snmpd` on 127.0.0.1 (one port each), the daemon's SNMP nodes spread
round-robin over them (address 127.0.0.1, `snmp_port` = the agent's port,
probes = ["snmp"], v2c), and prometheus-snmp-exporter with a module that GETs
what commwatch GETs per node and round when no interface or custom OID is
configured: sysUpTime.0 and sysName.0 in one request. Once per interval the
bench scrapes the exporter once per SNMP node (curl --parallel, 32 at a time,
from a config file: one process per interval) and reads the exporter's own CPU
from /proc, as it reads the daemon's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.netns import NetnsLab
from tests.snmpd import Snmpd

AUTH = """
[snmp.auth.bench-v2c]
version = "2c"
community = "public"

[probes.snmp]
interval = "{interval}"
timeout = "2s"
retries = 1
"""
EXPORTER_YML = """
sys:
  version: 2
  auth:
    community: public
  timeout: 2s
  retries: 1
  get: [1.3.6.1.2.1.1.3.0, 1.3.6.1.2.1.1.5.0]
  metrics:
    - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge, help: time since the agent started}
    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: node name}
"""
EXPORTER = "prometheus-snmp-exporter"


SYSTEM = """
[[system]]
id = "bench-snmp"
name = "SNMP基准网络"
kind = "operator"
unit = "区交通局"
"""


def nodes_toml(count: int, ports: list[int], system: str = "bench-snmp") -> str:
    """`count` SNMP-only nodes on 127.0.0.1, spread over the agents' ports (and their system)."""
    return SYSTEM + "".join(
        f'\n[[node]]\nid = "s{i}"\nname = "SNMP节点{i}"\nsystem = "{system}"\n'
        f'address = "127.0.0.1"\nprobes = ["snmp"]\nsnmp_auth = "bench-v2c"\n'
        f"snmp_port = {ports[i % len(ports)]}\n"
        for i in range(count)
    )


class SnmpLab:
    """The agents and the exporter in the lab's monitor namespace; stopped by PID."""

    def __init__(self, lab: NetnsLab, work: Path, agents: int) -> None:
        self.lab = lab
        self.work = work
        self.agents = [
            Snmpd(work / f"agent{i}", netns=lab.monitor_ns) for i in range(max(1, agents))
        ]
        self.exporter: subprocess.Popen[bytes] | None = None
        self.exporter_port = 0

    @property
    def ports(self) -> list[int]:
        return [agent.port for agent in self.agents]

    def start(self, exporter_port: int) -> None:
        """The agents, then the exporter (when installed), both answering before this returns."""
        for agent in self.agents:
            agent.start()
        binary = shutil.which(EXPORTER)
        if binary is None:
            return
        (self.work / "snmp.yml").write_text(EXPORTER_YML, encoding="utf-8")
        self.exporter_port = exporter_port
        self.exporter = self.lab.spawn(
            self.lab.monitor_ns,
            binary,
            f"--config.file={self.work / 'snmp.yml'}",
            f"--web.listen-address=127.0.0.1:{exporter_port}",
            "--log.level=error",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{exporter_port}/snmp?module=sys&target=127.0.0.1:{self.ports[0]}"
        for _ in range(100):
            try:
                if "sysUpTime" in self.lab.call_in(self.lab.monitor_ns, _get, url):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("snmp_exporter did not answer")

    def exporter_round(self, count: int) -> tuple[int, int]:
        """One scrape per SNMP node through the exporter: (answered, curl's exit code)."""
        urls = self.work / "scrape.curl"
        urls.write_text(
            "".join(
                f'url = "http://127.0.0.1:{self.exporter_port}/snmp?module=sys'
                f'&target=127.0.0.1:{self.ports[i % len(self.ports)]}"\n'
                "output = /dev/null\n"
                for i in range(count)
            ),
            encoding="utf-8",
        )
        done = subprocess.run(
            ["ip", "netns", "exec", self.lab.monitor_ns, "curl", "-s", "--parallel",
             "--parallel-max", "32", "-K", str(urls), "-w", "%{http_code}\n"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        return done.stdout.split().count("200"), done.returncode

    def stop(self) -> None:
        """The exporter and every agent, by PID."""
        if self.exporter is not None and self.exporter.poll() is None:
            self.exporter.terminate()
            try:
                self.exporter.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.exporter.kill()
                self.exporter.wait(timeout=5)
        for agent in self.agents:
            agent.stop()

    def agents_cpu(self) -> float:
        """utime + stime of every snmpd (the same for the daemon and the exporter)."""
        return sum(cpu_seconds(a.pid) for a in self.agents if a.pid is not None)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return str(reply.read().decode())


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

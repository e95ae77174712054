"""Restarts during an outage send nothing: the real daemon, stopped by SIGTERM and SIGKILL.

Three key systems are down (SNMP-only nodes whose agent port on loopback has
nobody listening), an incident is open and its notices are out. Every restart
must come back to the same picture: nodes DOWN from the first scrape, the
Assessment unchanged, and not one notice more in the outbox.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.snmpd import free_udp_port

RESTARTS = 10
DOWN = 3.0  # commwatch_node_state value of DOWN

NODES = """
[[system]]
id = "portal"
name = "区政府门户网站"
kind = "key_system"
unit = "区政府办公室"

[[system]]
id = "police-video"
name = "区公安分局视频专网"
kind = "key_system"
unit = "区公安分局"

[[system]]
id = "media"
name = "区融媒体中心播出系统"
kind = "key_system"
unit = "区融媒体中心"
{nodes}
"""

NODE = """
[[node]]
id = "{id}"
name = "{id}"
system = "{system}"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "dead"
snmp_port = {port}
critical = true
"""

EXTRA = """
[probes.snmp]
interval = "1s"
timeout = "200ms"
retries = 0

[snmp.auth.dead]
version = "2c"
community = "public"

[[notifier]]
name = "outbox"
type = "file"
directory = "{outbox}"
"""


def _outbox(outbox: Path) -> list[str]:
    if not outbox.is_dir():
        return []
    return sorted(str(p.relative_to(outbox)) for p in outbox.rglob("*") if p.is_file())


def _settled(outbox: Path, quiet_for: float = 4.0, timeout: float = 60.0) -> list[str]:
    """The outbox once nothing new has appeared for quiet_for seconds."""
    deadline = time.monotonic() + timeout
    seen, since = _outbox(outbox), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _outbox(outbox)
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return seen
    raise AssertionError(f"outbox never settled: {len(seen)} files")


def test_restarts_during_an_outage_send_no_notice(tmp_path: Path) -> None:
    port = free_port()
    outbox = tmp_path / "outbox"
    systems = ("portal", "police-video", "media")
    nodes = "".join(NODE.format(id=f"{s}-1", system=s, port=free_udp_port()) for s in systems)
    config = make_config(
        tmp_path / "config",
        daemon_toml(
            f"sqlite:///{tmp_path}/cw.db",
            port,
            fail_after=2,
            recover_after=2,
            extra=EXTRA.format(outbox=outbox),
        ),
        NODES.format(nodes=nodes),
    )
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    daemon = DaemonProcess(config, port, log_dir / "first.log")
    try:
        daemon.wait_for("情形2", lambda: daemon.sample("commwatch_scenario") == 2.0, timeout=40)
        before = _settled(outbox)
        assert before, "the outage sent no notice at all"
    finally:
        daemon.stop()
    for attempt in range(RESTARTS):
        how = signal.SIGKILL if attempt % 2 else signal.SIGTERM
        _restart_once(config, port, log_dir / f"restart-{attempt}.log", how, systems)
        after = _outbox(outbox)
        assert after == before, f"restart {attempt} ({how.name}) sent {set(after) - set(before)}"
    # a request written just before the last SIGKILL would go out on this start (and drain)
    _restart_once(config, port, log_dir / "final.log", signal.SIGTERM, systems)
    assert _outbox(outbox) == before


def _restart_once(
    config: Path, port: int, log: Path, how: signal.Signals, systems: tuple[str, ...]
) -> None:
    """Start the daemon, check it resumed the outage, let it run a few rounds, stop it by `how`."""
    daemon = DaemonProcess(config, port, log)
    try:
        daemon.wait_for("metrics", lambda: daemon.sample("commwatch_scenario") is not None)
        states = [
            daemon.sample("commwatch_node_state", f'node="{s}-1",street="",system="{s}"')
            for s in systems
        ]
        assert states == [DOWN] * len(systems), f"{log.name}: nodes not restored DOWN: {states}"
        daemon.wait_for(
            "three rounds",
            lambda: (daemon.sample("commwatch_probe_rounds_total", 'probe="snmp"') or 0) >= 3,
        )
        assert daemon.sample("commwatch_scenario") == 2.0
        time.sleep(2.0)  # the old daemon's recovery-then-outage pair came within 10 s
    finally:
        if how is signal.SIGKILL:
            daemon.process.kill()
        daemon.stop()

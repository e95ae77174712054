"""What a started daemon holds: only the libraries its config uses, no per-node models.

A real `commwatch run` (the shipped inventory, loopback nodes; the console off
as in the test harness, no HTTP or email notifier, a new SQLite database) is
started by a small driver that, when the daemon reports itself ready
(sdnotify.ready), writes the modules loaded and some object counts, then sends
itself SIGTERM. Not timed: it checks what is in memory, not how much.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from monitor.config import load_config
from tests.daemon_harness import ROOT, daemon_toml, free_port, loopback_nodes_toml, make_config
from tests.requirements import require_root

DRIVER = """
import gc, json, os, signal, sys
from monitor.runtime import sdnotify

def ready(status):
    from monitor.config.plain import Plain
    gc.unfreeze()  # start-up froze the config: count it too (the daemon stops next)
    objects = gc.get_objects()
    report = {
        "modules": sorted(sys.modules),
        "plain_nodes": sum(isinstance(o, Plain) and type(o).__name__ == "NodeConfig" for o in objects),
        "plain": sum(isinstance(o, Plain) for o in objects),
    }
    with open(sys.argv[2], "w") as out:
        json.dump(report, out)
    os.kill(os.getpid(), signal.SIGTERM)

sdnotify.ready = ready
from monitor.cli import main
raise SystemExit(main(["run", "-c", sys.argv[1]]))
"""

# Loaded only when the config asks for them: an HTTP notifier (httpx), an email
# notifier (aiosmtplib), the receiver or console (starlette, uvicorn), a notice
# being rendered or routed (jinja2, phonenumbers), a schema migration (alembic:
# in a child process), traps (pysnmp). pydantic validates the config in the
# config child (monitor.config.load_child): never in the daemon.
NEVER = ("pydantic", "pydantic_core")
ON_DEMAND = (
    "httpx",
    "httpcore",
    "aiosmtplib",
    "starlette",
    "uvicorn",
    "jinja2",
    "phonenumbers",
    "alembic",
    "mako",
    "pysnmp",
)


def started(config: Path, report: Path) -> dict[str, Any]:
    """What the driver found in the daemon started on `config`, once it was ready."""
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(config), str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return found


def test_a_started_daemon_loads_only_what_its_config_uses(tmp_path: Path) -> None:
    require_root()
    port = free_port()
    config = make_config(tmp_path / "config", daemon_toml(f"sqlite:///{tmp_path}/cw.db", port))
    found = started(config, tmp_path / "report.json")
    loaded = {name.split(".")[0] for name in found["modules"]}
    assert loaded.isdisjoint(ON_DEMAND + NEVER), sorted(loaded & set(ON_DEMAND + NEVER))
    assert "sqlalchemy" in loaded  # the driver saw a real daemon
    # the config in its plain form: one small object per node, no model
    assert found["plain_nodes"] == len(load_config(config).inventory.node)
    assert found["plain"] < found["plain_nodes"] + 200


def test_email_and_snmp_load_their_libraries_not_pydantic(tmp_path: Path) -> None:
    require_root()
    port = free_port()
    extra = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = 9
security = "none"
sender = "commwatch@example.org"

[snmp.auth.v2c]
version = "2c"
community = "public"
"""
    nodes = (
        loopback_nodes_toml(3)
        + """
[[node]]
id = "snmp-1"
name = "SNMP node"
system = "cmcc"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "v2c"
snmp_port = 9
"""
    )
    config = make_config(
        tmp_path / "config",
        daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, extra=extra),
        nodes,
    )
    found = started(config, tmp_path / "report.json")
    assert {"dispatch.email", "probes.snmp"} <= set(found["modules"])  # both were built
    loaded = {name.split(".")[0] for name in found["modules"]}
    assert loaded.isdisjoint(NEVER), sorted(loaded & set(NEVER))

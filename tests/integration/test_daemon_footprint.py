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

from tests.daemon_harness import ROOT, daemon_toml, free_port, make_config
from tests.requirements import require_root

DRIVER = """
import gc, json, os, signal, sys
from monitor.runtime import sdnotify

def ready(status):
    from pydantic import BaseModel
    from monitor.config.inventory import NodeConfig
    gc.unfreeze()  # start-up froze the config: count it too (the daemon stops next)
    objects = gc.get_objects()
    report = {
        "modules": sorted(sys.modules),
        "node_configs": sum(type(o) is NodeConfig for o in objects),
        "models": sum(isinstance(o, BaseModel) for o in objects),
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
# in a child process), traps (pysnmp).
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


def test_a_started_daemon_loads_only_what_its_config_uses(tmp_path: Path) -> None:
    require_root()
    port = free_port()
    config = make_config(tmp_path / "config", daemon_toml(f"sqlite:///{tmp_path}/cw.db", port))
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(config), str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(report.read_text(encoding="utf-8"))
    loaded = {name.split(".")[0] for name in found["modules"]}
    assert loaded.isdisjoint(ON_DEMAND), sorted(loaded & set(ON_DEMAND))
    assert "sqlalchemy" in loaded  # the driver saw a real daemon
    assert "pydantic" in loaded
    # nodes are slotted dataclasses, not models: the models are the config's few tables
    assert found["node_configs"] > 0
    assert found["models"] < 200

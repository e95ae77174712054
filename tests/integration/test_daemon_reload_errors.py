"""A reload that fails for any reason keeps the old config, sets the metric to 0 and says why.

Before: a FIFO as nodes.toml hung the reload for ever, and a duration of
"99999999999999999999d" raised OverflowError inside the reload task — both
left commwatch_config_last_reload_successful at 1 with nothing logged.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.requirements import require_root

RELOAD_OK = "commwatch_config_last_reload_successful"


def _reload(daemon: DaemonProcess, expected: float) -> None:
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(f"reload metric {expected}", lambda: daemon.sample(RELOAD_OK) == expected)


def test_failed_reloads_are_counted_and_logged(tmp_path: Path) -> None:
    require_root()
    port = free_port()
    config = make_config(tmp_path / "config", daemon_toml(f"sqlite:///{tmp_path}/cw.db", port))
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        daemon.wait_for(
            "first round", lambda: daemon.sample("commwatch_nodes", 'state="UP"') == 18.0
        )
        nodes = config / "nodes.toml"
        good_nodes = nodes.read_bytes()
        nodes.unlink()
        os.mkfifo(nodes)
        _reload(daemon, 0.0)
        assert 'problem="nodes.toml: not a regular file"' in daemon.log()
        nodes.unlink()
        nodes.write_bytes(good_nodes)
        _reload(daemon, 1.0)

        commwatch = config / "commwatch.toml"
        good = commwatch.read_text(encoding="utf-8")
        commwatch.write_text(
            good + '\n[dispatch]\nretry_max = "99999999999999999999d"\n', encoding="utf-8"
        )
        _reload(daemon, 0.0)
        assert "commwatch.toml: dispatch.retry_max: a duration is at most 3650d" in daemon.log()
        rounds = daemon.sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0.0
        daemon.wait_for(
            "still probing",
            lambda: (daemon.sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0) > rounds,
        )
        assert "Traceback" not in daemon.log()
    finally:
        assert daemon.stop() == 0

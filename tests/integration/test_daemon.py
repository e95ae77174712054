"""The daemon on the shipped inventory (loopback nodes): probes, persists, serves metrics, reloads, stops."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.cache import load_cached
from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.requirements import require_binary, require_root


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    require_root()
    port = free_port()
    config = make_config(tmp_path / "config", daemon_toml(f"sqlite:///{tmp_path}/cw.db", port))
    process = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        yield process
    finally:
        process.stop()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_daemon_probes_persists_and_serves_metrics(daemon: DaemonProcess) -> None:
    daemon.wait_for(
        "all 18 shipped nodes UP", lambda: daemon.sample("commwatch_nodes", 'state="UP"') == 18.0
    )
    body = daemon.metrics()
    assert 'commwatch_node_up{node="cmcc-core-1",system="cmcc"} 1.0' in body
    assert "commwatch_config_last_reload_successful 1.0" in body
    daemon.wait_for("states flushed", lambda: _all_up_in_db(daemon.config_dir))
    if require_binary("promtool"):
        check = subprocess.run(
            ["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
        )
        assert check.returncode == 0, check.stdout + check.stderr
    assert daemon.stop() == 0
    assert "commwatch stopped" in daemon.log()


def _all_up_in_db(config_dir: Path) -> bool:
    result = _cli("status", "-c", str(config_dir), "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return len(rows) == 18 and all(row["status"] == "UP" for row in rows)


def test_sighup_with_a_broken_config_keeps_the_old_one(daemon: DaemonProcess) -> None:
    daemon.wait_for("first round", lambda: daemon.sample("commwatch_nodes", 'state="UP"') == 18.0)
    nodes = daemon.config_dir / "nodes.toml"
    good = nodes.read_text(encoding="utf-8")
    nodes.write_text(good + '\n[[node]]\nid = "broken"\nsystem = "nope"\n', encoding="utf-8")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(
        "reload rejected", lambda: daemon.sample("commwatch_config_last_reload_successful") == 0.0
    )
    rounds = daemon.sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0.0
    daemon.wait_for(
        "still probing",
        lambda: (daemon.sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0) > rounds,
    )
    assert "config reload rejected" in daemon.log()
    extra = (
        '\n[[node]]\nid = "extra-1"\nname = "新增节点"\nsystem = "cmcc"\naddress = "127.0.1.99"\n'
    )
    nodes.write_text(good + extra, encoding="utf-8")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(
        "reload accepted", lambda: daemon.sample("commwatch_config_last_reload_successful") == 1.0
    )
    daemon.wait_for(
        "new node probed",
        lambda: daemon.sample("commwatch_node_up", 'node="extra-1",system="cmcc"') == 1.0,
    )
    assert daemon.stop() == 0


def test_a_node_added_by_sighup_is_probed_at_once_not_after_an_interval(tmp_path: Path) -> None:
    require_root()
    port = free_port()
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, interval="60s")
    config = make_config(tmp_path / "config", toml)
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        daemon.wait_for(
            "first bucket", lambda: (daemon.sample("commwatch_nodes", 'state="UP"') or 0) >= 1
        )
        nodes = config / "nodes.toml"
        extra = '\n[[node]]\nid = "extra-1"\nname = "新增节点"\nsystem = "cmcc"\naddress = "127.0.1.99"\n'
        nodes.write_text(nodes.read_text(encoding="utf-8") + extra, encoding="utf-8")
        daemon.signal(signal.SIGHUP)
        # With a 60 s interval the node's own bucket may be a minute away; the reload probes it now.
        daemon.wait_for(
            "new node probed",
            lambda: daemon.sample("commwatch_node_up", 'node="extra-1",system="cmcc"') == 1.0,
            timeout=10.0,
        )
        assert "probing new nodes now" in daemon.log()
    finally:
        daemon.stop()


def test_run_and_reload_record_the_config_status_reads(tmp_path: Path) -> None:
    """The validated-config cache (monitor.config.cache): written at start and on reload."""
    require_root()
    port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    console = f'enabled = false\nstate_dir = "{state}"'
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, console=console)
    config = make_config(tmp_path / "config", toml)
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        daemon.wait_for("config recorded at start", lambda: load_cached(config) is not None)
        nodes = config / "nodes.toml"
        extra = '\n[[node]]\nid = "extra-1"\nname = "新增节点"\nsystem = "cmcc"\naddress = "127.0.1.99"\n'
        nodes.write_text(nodes.read_text(encoding="utf-8") + extra, encoding="utf-8")
        assert load_cached(config) is None  # edited: validated again, never the old cache
        daemon.signal(signal.SIGHUP)
        daemon.wait_for("reload recorded", lambda: "extra-1" in _cached_nodes(config))
        assert daemon.stop() == 0
    finally:
        daemon.stop()


def _cached_nodes(config_dir: Path) -> set[str]:
    cached = load_cached(config_dir)
    return set(cached.nodes) if cached is not None else set()

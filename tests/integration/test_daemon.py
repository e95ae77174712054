"""The daemon on the shipped inventory (loopback nodes): probes, persists, serves metrics, reloads, stops."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _samples_per_node(database: Path) -> dict[str, list[int]]:
    """node → [samples, distinct (probe, at)] as committed in the daemon's SQLite file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT node_id, count(*), count(DISTINCT probe || at) FROM probe_samples"
            " GROUP BY node_id"
        ).fetchall()
    return {node: [count, distinct] for node, count, distinct in rows}


def test_every_round_stores_one_sample_per_node_and_probe(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    """The round hands its samples to the writer once: each lands in the database, once."""
    daemon.wait_for("all 18 shipped nodes UP", lambda: _all_up_in_db(daemon.config_dir))
    database = tmp_path / "cw.db"
    daemon.wait_for(
        "three rounds of samples for every node",
        lambda: (
            len(seen := _samples_per_node(database)) == 18
            and min(count for count, _ in seen.values()) >= 3
        ),
    )
    assert all(count == distinct for count, distinct in _samples_per_node(database).values())
    result = _cli("status", "-c", str(daemon.config_dir), "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 18
    assert all(row["last_probe_at"] and row["rtt_ms"] is not None for row in rows)


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
    _, config = _config_with_state_dir(tmp_path, port)
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        daemon.wait_for("config recorded at start", lambda: load_cached(config) is not None)
        # recorded by the config child, before the daemon starts: SIGHUP once it runs
        daemon.wait_for("started", lambda: "commwatch started" in daemon.log())
        nodes = config / "nodes.toml"
        extra = '\n[[node]]\nid = "extra-1"\nname = "新增节点"\nsystem = "cmcc"\naddress = "127.0.1.99"\n'
        nodes.write_text(nodes.read_text(encoding="utf-8") + extra, encoding="utf-8")
        assert load_cached(config) is None  # edited: validated again, never the old cache
        daemon.signal(signal.SIGHUP)
        daemon.wait_for("reload recorded", lambda: "extra-1" in _cached_nodes(config))
        assert daemon.stop() == 0
    finally:
        daemon.stop()


def _config_with_state_dir(tmp_path: Path, port: int) -> tuple[Path, Path]:
    """(state_dir, config dir): a daemon config on SQLite, console off, its own state_dir."""
    state = tmp_path / "state"
    state.mkdir()
    console = f'enabled = false\nstate_dir = "{state}"'
    toml = daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, console=console)
    return state, make_config(tmp_path / "config", toml)


def _cached_nodes(config_dir: Path) -> set[str]:
    cached = load_cached(config_dir)
    return set(cached.nodes) if cached is not None else set()


def test_status_is_answered_by_the_running_daemon_over_its_control_socket(tmp_path: Path) -> None:
    """The installed `commwatch status`, from a neutral directory, asks the daemon (0600 socket)."""
    require_root()
    port = free_port()
    state, config = _config_with_state_dir(tmp_path, port)
    control = state / "control.sock"
    daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        daemon.wait_for("control socket", control.exists)
        assert stat.S_IMODE(os.lstat(control).st_mode) == 0o600
        daemon.wait_for("states flushed", lambda: _all_up_in_db(config))
        neutral = tmp_path / "elsewhere"
        neutral.mkdir()
        asked = daemon.sample("commwatch_control_requests_total", 'result="answered"') or 0.0
        via = _installed(neutral, "status", "-c", str(config), "--verbose")
        assert via.returncode == 0, via.stderr
        assert via.stderr == f"status: answered by the daemon on {control}\n"
        answered = daemon.sample("commwatch_control_requests_total", 'result="answered"')
        assert answered == asked + 1
        for argv in ((), ("--json",), ("--problems",)):  # bytes: tests/monitor/commands/
            for _ in range(3):  # test_status_socket.py; here the live columns aside
                via = _installed(neutral, "status", "-c", str(config), *argv)
                direct = _installed(neutral, "status", "-c", str(config), *argv, "--offline")
                if _said(via) == _said(direct):
                    break
            assert _said(via) == _said(direct)
        assert daemon.stop() == 0
        assert not control.exists()  # removed on a clean stop
        after = _installed(neutral, "status", "-c", str(config), "--verbose")
        assert after.returncode == 0
        assert after.stderr.startswith(f"status: no answer on {control} (No such file")
    finally:
        daemon.stop()


def _installed(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script of this environment (as installed), run from `cwd`."""
    script = Path(sys.executable).parent / "commwatch"
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def _said(result: subprocess.CompletedProcess[str]) -> tuple[int, list[Any], str]:
    """What status said, without what the live daemon changes each round (ages, RTT, loss)."""
    said: list[Any] = []
    table = True
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            said.append({k: v for k, v in record.items() if k not in _LIVE})
        elif table and line:
            said.append(line.split()[:4] + line.split()[7:])  # NODE … STATE, REASON
        else:
            table = False
            said.append(line)
    return result.returncode, said, result.stderr


_LIVE = {"last_probe_at", "rtt_ms", "loss"}

"""The daemon's idle floor: CPU and RSS of a one-node `commwatch run` (a benchmark, not a test).

    .venv/bin/python bench/idle_floor.py --seconds 60                # console on (shipped default)
    .venv/bin/python bench/idle_floor.py --seconds 60 --no-console

One loopback node (127.10.0.1, ICMP every 30 s), SQLite, the shipped contacts and
plan; after `--settle` seconds the daemon's CPU (utime+stime from /proc/PID/stat)
is read over `--seconds`, then RSS now and peak (VmRSS, VmHWM). What remains is
the cost of the daemon's own clocks: the dispatcher's and follow-up's wake-ups,
the loop-lag probe, the plan clock, the storage writer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemon_harness import (
    DaemonProcess,
    daemon_toml,
    free_port,
    loopback_nodes_toml,
    make_config,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--no-console", dest="console", action="store_false")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="idle-floor-") as tmp:
        work = Path(tmp)
        port = free_port()
        console = (
            f'listen = "127.0.0.1:{free_port()}"\nstate_dir = "{work / "state"}"'
            if args.console
            else "enabled = false"
        )
        toml = daemon_toml(f"sqlite:///{work / 'cw.db'}", port, interval="30s", console=console)
        config = make_config(work / "config", toml, loopback_nodes_toml(1))
        daemon = DaemonProcess(config, port, work / "daemon.log")
        try:
            daemon.wait_for("metrics", lambda: bool(daemon.metrics()))
            time.sleep(args.settle)
            pid = daemon.process.pid
            before = cpu_seconds(pid)
            time.sleep(args.seconds)
            used = cpu_seconds(pid) - before
            memory = memory_mib(pid)
            alive = daemon.process.poll() is None
        finally:
            daemon.stop()
        if not alive:
            print(daemon.log()[-3000:])
            return 1
    result = {
        "console": args.console,
        "seconds": args.seconds,
        "cpu_s": round(used, 3),
        "cpu_s_per_30s": round(used * 30 / args.seconds, 3),
        "cpu_pct": round(100 * used / args.seconds, 2),
        "rss_mib": round(memory["VmRSS"], 1),
        "peak_rss_mib": round(memory["VmHWM"], 1),
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

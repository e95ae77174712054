"""The daemon in steady state: CPU per interval, RSS and loop lag, beside fping's CPU, plus an outage.

Run as root from the repository root (a benchmark, not a test):

    sudo .venv/bin/python bench/daemon_steady.py --nodes 10000 --interval 30 --intervals 4
    sudo .venv/bin/python bench/daemon_steady.py --nodes 100000 --interval 60 --intervals 3 --no-outage
    sudo .venv/bin/python bench/daemon_steady.py --nodes 10000 --interval 30 --intervals 3 \
        --aged-rounds 200 --no-outage     # on a samples table with 200 rounds of history
    sudo .venv/bin/python bench/daemon_steady.py --nodes 0 --snmp-nodes 10000 --interval 30 \
        --intervals 3 --no-outage         # SNMP v2c nodes, snmp_exporter beside (bench/steady_snmp.py)

What happens, all inside a throw-away network lab (tests/netns.py), so only
addresses of this machine's loopback and of the lab are probed:

1. a config with N loopback nodes (127.10.0.1 …, spread over the shipped
   systems; ICMP, count 1) plus one critical node in a lab namespace (its own
   key system), SQLite storage, an email notifier to an aiosmtpd server in the
   lab; `commwatch run` starts in the lab's monitor namespace;
2. start-up ends when the database holds all N+1 nodes UP (node_states, read
   every 3 s with sqlite3 from this process: polling /metrics would cost the
   daemon a 100k-node scrape each time); then `--warmup` intervals are not
   measured but their CPU is read too (`warmup_cpu_s_per_interval`). The
   default waits until every node is steady: its streaks stop growing after
   fail_after + 1 rounds (until then its state row is rewritten), and its flap
   window (`[state] flap_window`, 20 rounds by default) fills after as many
   rounds; until then each round steps the node's state machine and flap
   tracker and allocates new state for it, afterwards a clean result leaves a
   steady node as it is (NodeTable's steady path). So at 30 s the measured
   intervals start ≈ 11 minutes after start-up (before session 7 the bench
   waited 3 intervals and measured that transient; until schema revision 0005
   the samples table also grew dearer per row over these minutes,
   bench/sample_growth.py, docs/benchmarks.md "Fewer wake-ups");
3. for `--intervals` intervals the daemon's CPU (utime+stime from
   /proc/PID/stat, the whole process: loop, writer thread, metrics thread) is
   read at each interval boundary; at each interval's start `fping -C1 -q -i 0
   -r 0 -t 500` pings the same N loopback targets once, in the lab host's
   namespace (its own loopback: the same kernel work, but the daemon's raw
   socket does not see fping's packets, nor fping the daemon's), and its own CPU
   comes from wait4()'s rusage — side by side, in the same run; nothing scrapes
   /metrics during the measured intervals (one scrape just before, one after:
   the differences say how often the plan was scored and how many states changed);
4. then one scrape (timeout 120 s): loop lag p50/p99/max (commwatch_event_loop_lag_seconds),
   the time per round phase, late and skipped rounds; RSS now and peak
   (VmRSS, VmHWM);
5. with `--aged-rounds R`, before the daemon starts, its database gets R rounds
   of history for every loopback node (one sample per node and round, timed
   back from now, written through the daemon's own `Store.write_batch`), so the
   measured intervals show a daemon whose samples table has aged for R rounds
   (200 at 30 s: 100 minutes, 2 M rows) instead of a young one
   (bench/sample_growth.py shows why that matters);
6. unless --no-outage: the lab host's link goes down while the N others run,
   and the time until the SMTP server accepts the first notice is measured
   against the bound fail_after × interval + timeout + 1 s.

Prints one human-readable block and one JSON line (for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sample_growth import icmp_sample
from bench.steady_snmp import AUTH, SnmpLab
from bench.steady_snmp import cpu_seconds as _cpu
from bench.steady_snmp import nodes_toml as snmp_nodes_toml
from monitor.config.daemon import StateConfig
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade
from monitor.storage.store import Store
from tests.daemon_harness import (
    DaemonProcess,
    daemon_toml,
    free_port,
    loopback_address,
    loopback_nodes_toml,
    make_config,
)
from tests.netns import NetnsLab
from tests.smtp_server import SmtpServer

FAIL_AFTER, TIMEOUT_S = 2, 0.3
FLAP_WINDOW = int(StateConfig.model_fields["flap_window"].default)  # the bench's config keeps it
STEADY_AFTER_ROUNDS = max(FLAP_WINDOW, FAIL_AFTER + 1) + 1  # warm-up intervals by default
FPING = ("fping", "-C1", "-q", "-i", "0", "-r", "0", "-t", "500")
FPING_CHUNK = 10_000
AGE_BATCH = 5_000  # history rows per transaction when ageing the samples table
TICKS = os.sysconf("SC_CLK_TCK")
LAB_NODE = """
[[system]]
id = "lab-portal"
name = "实验室门户网站"
kind = "key_system"
unit = "区政府办公室"

[[node]]
id = "portal-web"
name = "门户网站服务器"
system = "lab-portal"
address = "{address}"
critical = true
"""
NOTIFIER = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {port}
security = "none"
sender = "commwatch@example.org"
timeout = "5s"
"""


def age_samples(url: str, nodes: int, rounds: int, interval: float) -> dict[str, float]:
    """Write `rounds` rounds of ICMP history for nodes n0 … into a new database at `url`."""
    started = time.monotonic()
    engine = open_engine(url)
    upgrade(engine)
    store = Store(engine)
    now = datetime.now(UTC)
    ids = [f"n{i}" for i in range(nodes)]  # loopback_nodes_toml's ids
    try:
        for back in range(rounds, 0, -1):
            at = now - timedelta(seconds=back * interval)
            results = [icmp_sample(node, at) for node in ids]
            for first in range(0, nodes, AGE_BATCH):
                store.write_batch(results[first : first + AGE_BATCH], [], {})
    finally:
        engine.dispose()
    return {"aged_rows": rounds * nodes, "aging_s": round(time.monotonic() - started, 1)}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def runqueue_wait_s(pid: int) -> float:
    """Seconds the daemon's main thread (the event loop) waited for a CPU (schedstat).

    On a shared machine this is loop lag no code can remove: the loop was ready
    to run and the kernel ran something else.
    """
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def fping_round(ns: str, targets: Path) -> tuple[float, float, int]:
    """One fping round over the targets inside ns: (CPU s, wall s, alive).

    More than FPING_CHUNK targets go in consecutive chunks: one fping with
    `-i 0` over 100,000 targets overflows its own socket buffer and loses
    almost every reply, which would make its CPU figure meaningless.
    """
    lines = targets.read_text().split()
    cpu = wall = 0.0
    alive = 0
    for start in range(0, len(lines), FPING_CHUNK):
        chunk = targets.with_suffix(f".{start}")
        chunk.write_text("\n".join(lines[start : start + FPING_CHUNK]) + "\n")
        part = _fping(ns, chunk)
        cpu, wall, alive = cpu + part[0], wall + part[1], alive + part[2]
    return cpu, wall, alive


def _fping(ns: str, targets: Path) -> tuple[float, float, int]:
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            ["ip", "netns", "exec", ns, *FPING, "-f", str(targets)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        err.seek(0)
        alive = sum(1 for line in err.read().decode().splitlines() if not line.endswith(" -"))
    return usage.ru_utime + usage.ru_stime, wall, alive


def up_in_db(path: Path) -> int:
    """Nodes UP in the daemon's SQLite database (0 before its schema exists)."""
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
        try:
            row = db.execute("SELECT count(*) FROM node_states WHERE status = 'UP'").fetchone()
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0
    return int(row[0])


def scrape_once(port: int) -> str:
    """The /metrics page, with room for a 100k-node page to be generated."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as reply:
        return str(reply.read().decode())


def sample(body: str, name: str, labels: str = "") -> float | None:
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in body.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return None


def total(body: str, name: str) -> float:
    """The sum of every sample of a family (all label sets)."""
    return sum(float(line.split()[-1]) for line in body.splitlines() if line.startswith(name + "{"))


def counted(body: str, phase: str) -> float:
    """How many icmp rounds ran a phase so far."""
    key = f'commwatch_round_phase_seconds_count{{phase="{phase}",probe="icmp"}} '
    return next(
        (float(line.split()[-1]) for line in body.splitlines() if line.startswith(key)), 0.0
    )


def phases(body: str, probe: str = "icmp") -> dict[str, float]:
    """Mean loop seconds per round for each phase of one probe's rounds."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    pattern = re.compile(
        r'commwatch_round_phase_seconds_(sum|count)\{phase="(\w+)",probe="' + probe + r'"\} (\S+)'
    )
    for match in pattern.finditer(body):
        target = sums if match.group(1) == "sum" else counts
        target[match.group(2)] = float(match.group(3))
    return {p: sums[p] / counts[p] for p in sums if counts.get(p)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    n, interval, k = args.nodes, args.interval, args.snmp_nodes
    warmup = STEADY_AFTER_ROUNDS if args.warmup is None else args.warmup
    report: dict[str, Any] = {
        "nodes": n,
        "snmp_nodes": k,
        "interval_s": interval,
        "warmup_intervals": warmup,
        "loadavg_start": os.getloadavg(),
    }
    with NetnsLab(hosts=1) as lab, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        targets = work / "targets.txt"
        targets.write_text("".join(f"{loopback_address(i)}\n" for i in range(n)))
        smtp = SmtpServer()
        lab.call_in(lab.monitor_ns, smtp.start)
        snmp = SnmpLab(lab, work, args.agents) if k else None
        if snmp is not None:
            snmp.start(free_port())
        port = free_port()
        toml = daemon_toml(
            f"sqlite:///{work}/cw.db",
            port,
            interval=f"{interval:g}s",
            fail_after=FAIL_AFTER,
            extra=NOTIFIER.format(port=smtp.port) + AUTH.format(interval=f"{interval:g}s"),
        )
        nodes = loopback_nodes_toml(n) + LAB_NODE.format(address=lab.addresses[0])
        if snmp is not None:
            nodes += snmp_nodes_toml(k, snmp.ports)
        config = make_config(work / "config", toml, nodes)
        if args.aged_rounds:
            report |= age_samples(f"sqlite:///{work}/cw.db", n, args.aged_rounds, interval)
        n += k  # every node counts for start-up
        started = time.monotonic()
        daemon = DaemonProcess(config, port, work / "daemon.log", netns=lab.monitor_ns)
        pid = daemon.process.pid

        def scrape() -> str:
            return str(lab.call_in(lab.monitor_ns, scrape_once, port))

        try:
            daemon.wait_for(
                f"all {n + 1} nodes UP",
                lambda: up_in_db(work / "cw.db") == n + 1,
                timeout=interval * 4 + n / 500,
            )
            report["startup_s"] = round(time.monotonic() - started, 1)
            report["startup_cpu_s"] = round(cpu_seconds(pid), 2)
            # the last first-round rows settle; then the warm-up intervals, not measured
            # beside fping but their CPU read, in which every node's streaks reach the cap
            # and its flap window fills: what follows is the steady state
            time.sleep(min(5.0, interval / 4))
            warmup_cpu = []
            before = cpu_seconds(pid)
            for _ in range(warmup):
                time.sleep(interval)
                after = cpu_seconds(pid)
                warmup_cpu.append(round(after - before, 3))
                before = after
            report["warmup_cpu_s_per_interval"] = warmup_cpu
            first = scrape()
            daemon_cpu, fping_cpu, fping_wall, alive = [], [], [], []
            exporter_cpu, exporter_ok = [], []
            before = cpu_seconds(pid)
            waited = runqueue_wait_s(pid)
            for _ in range(args.intervals):
                boundary = time.monotonic() + interval
                if args.nodes:
                    cpu, wall, up = fping_round(lab.host_ns(0), targets)
                    fping_cpu.append(cpu)
                    fping_wall.append(wall)
                    alive.append(up)
                if snmp is not None and snmp.exporter is not None:
                    started_cpu = _cpu(snmp.exporter.pid)
                    answered, _ = snmp.exporter_round(k)
                    exporter_cpu.append(_cpu(snmp.exporter.pid) - started_cpu)
                    exporter_ok.append(answered)
                time.sleep(max(0.0, boundary - time.monotonic()))
                after = cpu_seconds(pid)
                daemon_cpu.append(after - before)
                before = after
            waited = runqueue_wait_s(pid) - waited
            memory = memory_mib(pid)
            body = scrape()
            report["during_intervals"] = {
                name: (total(body, name) or 0) - (total(first, name) or 0)
                for name in (
                    "commwatch_state_changes_total",
                    "commwatch_round_phase_seconds_count",
                    "commwatch_probe_results_total",
                )
            } | {
                "scorings": counted(body, "score") - counted(first, "score"),
                "timeouts": (
                    sample(body, "commwatch_probe_results_total", 'probe="icmp",result="timeout"')
                    or 0
                )
                - (
                    sample(first, "commwatch_probe_results_total", 'probe="icmp",result="timeout"')
                    or 0
                ),
            }
            report.update(
                daemon_cpu_s_per_interval=[round(c, 3) for c in daemon_cpu],
                fping_cpu_s_per_round=[round(c, 3) for c in fping_cpu],
                fping_wall_s=round(statistics.median(fping_wall), 3) if fping_wall else None,
                fping_alive=min(alive) if alive else None,
                daemon_cpu_median_s=round(statistics.median(daemon_cpu), 3),
                daemon_cpu_share=round(statistics.median(daemon_cpu) / interval, 4),
                fping_cpu_median_s=round(statistics.median(fping_cpu or [0.0]), 3),
                ratio_to_fping=round(
                    statistics.median(daemon_cpu) / statistics.median(fping_cpu), 1
                )
                if fping_cpu
                else None,
                loop_runqueue_wait_ms_per_s=round(1000 * waited / (args.intervals * interval), 2),
                rss_mib=round(memory["VmRSS"], 1),
                peak_rss_mib=round(memory["VmHWM"], 1),
                loop_lag_p50_ms=round(
                    1000
                    * (sample(body, "commwatch_event_loop_lag_seconds", 'quantile="0.5"') or 0),
                    2,
                ),
                loop_lag_p99_ms=round(
                    1000
                    * (sample(body, "commwatch_event_loop_lag_seconds", 'quantile="0.99"') or 0),
                    2,
                ),
                loop_lag_max_ms=round(
                    1000 * (sample(body, "commwatch_event_loop_lag_seconds", 'quantile="1"') or 0),
                    2,
                ),
                phase_ms_per_round={k: round(v * 1000, 2) for k, v in phases(body).items()},
                rounds_late=sample(body, "commwatch_probe_rounds_late_total", 'probe="icmp"'),
                rounds_skipped=sum(
                    float(line.split()[-1])
                    for line in body.splitlines()
                    if line.startswith("commwatch_probe_rounds_skipped_total{")
                ),
            )
            if exporter_cpu:
                report.update(
                    snmp_exporter_cpu_s_per_round=[round(c, 3) for c in exporter_cpu],
                    snmp_exporter_cpu_median_s=round(statistics.median(exporter_cpu), 3),
                    snmp_exporter_answered=min(exporter_ok),
                    ratio_to_snmp_exporter=round(
                        statistics.median(daemon_cpu) / statistics.median(exporter_cpu), 2
                    ),
                    snmp_phase_ms_per_round={
                        k: round(v * 1000, 2) for k, v in phases(body, "snmp").items()
                    },
                )
            if args.outage:
                report.update(outage(lab, smtp, interval))
            report["loadavg_end"] = os.getloadavg()
        finally:
            daemon.stop()
            lab.link_up(0)
            lab.call_in(lab.monitor_ns, smtp.stop)
            if snmp is not None:
                snmp.stop()
        report["log_lines"] = len(daemon.log().splitlines())
    return report


def outage(lab: NetnsLab, smtp: SmtpServer, interval: float) -> dict[str, float]:
    """Unplug the lab host; seconds until the first notice is accepted, and the bound."""
    before = len(smtp.messages)
    started = time.time()
    lab.link_down(0)
    received = smtp.wait_for(before + 1, timeout=FAIL_AFTER * interval + 30)
    return {
        "outage_to_notice_s": round(received[before].at - started, 2),
        "outage_bound_s": FAIL_AFTER * interval + TIMEOUT_S + 1.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--intervals", type=int, default=5)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="intervals after start-up that are not measured (default "
        f"{STEADY_AFTER_ROUNDS}: every node's streaks at their cap and its flap window full)",
    )
    parser.add_argument("--no-outage", dest="outage", action="store_false")
    parser.add_argument(
        "--aged-rounds",
        type=int,
        default=0,
        help="rounds of sample history written into the database before the daemon starts",
    )
    parser.add_argument(
        "--snmp-nodes",
        type=int,
        default=0,
        help="SNMP v2c nodes beside the ICMP ones (snmpd agents in the lab; "
        "snmp_exporter, scraped once per node and interval, as the reference)",
    )
    parser.add_argument("--agents", type=int, default=4, help="snmpd agents for --snmp-nodes")
    report = run(parser.parse_args())
    for key, value in report.items():
        print(f"{key:28} {value}")
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Outage → notice latency: a namespace host stops answering; how long until the SMTP server accepts the notice.

Run as root from the repository root:  python bench/outage_latency.py [TRIALS]

Each trial starts a fresh daemon (fresh SQLite database) inside a test
network namespace, with an aiosmtpd server inside the same namespace, waits
until the node is UP, takes the host's link down and times the first notice
accepted by the SMTP server. Goal (issue 5): median ≤ fail_after × interval +
timeout + 1 s. Only namespace addresses are probed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.netns import NetnsLab
from tests.smtp_server import SmtpServer

FAIL_AFTER, INTERVAL_S, TIMEOUT_S = 2, 1.0, 0.3
NODES = """
[[system]]
id = "portal"
name = "区政府门户网站"
kind = "key_system"
unit = "区政府办公室"

[[node]]
id = "portal-web"
name = "门户网站服务器"
system = "portal"
address = "{address}"
critical = true
"""


def trial(lab: NetnsLab, workdir: Path) -> float:
    smtp = SmtpServer()
    lab.call_in(lab.monitor_ns, smtp.start)
    port = free_port()
    extra = f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "commwatch@example.org"
timeout = "5s"
"""
    toml = daemon_toml(f"sqlite:///{workdir}/cw.db", port, fail_after=FAIL_AFTER, extra=extra)
    config = make_config(workdir / "config", toml, NODES.format(address=lab.addresses[0]))
    daemon = DaemonProcess(config, port, workdir / "daemon.log", netns=lab.monitor_ns)
    try:
        daemon.wait_for(
            "UP",
            lambda: (
                lab.call_in(lab.monitor_ns, daemon.sample, "commwatch_nodes", 'state="UP"') == 1.0
            ),
        )
        before = len(smtp.messages)
        started = time.time()
        lab.link_down(0)
        received = smtp.wait_for(before + 1, timeout=30)
        return received[before].at - started
    finally:
        daemon.stop()
        lab.link_up(0)
        lab.call_in(lab.monitor_ns, smtp.stop)


def main() -> int:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    latencies = []
    with NetnsLab(hosts=1) as lab:
        for index in range(trials):
            with tempfile.TemporaryDirectory() as tmp:
                latencies.append(trial(lab, Path(tmp)))
            print(f"trial {index + 1}: {latencies[-1]:.3f} s", flush=True)
    goal = FAIL_AFTER * INTERVAL_S + TIMEOUT_S + 1.0
    median = statistics.median(latencies)
    print(
        f"outage → SMTP accepted, {trials} trials: median {median:.3f} s, max {max(latencies):.3f} s "
        f"(goal: median ≤ {goal:.1f} s = fail_after {FAIL_AFTER} × interval {INTERVAL_S:g} s + timeout {TIMEOUT_S:g} s + 1 s)"
    )
    return 0 if median <= goal else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""SMTP down for 10 minutes during an outage: delivered, lost, duplicated, time to drain.

Run from the repository root (no root needed; loopback only):

    .venv/bin/python bench/smtp_outage.py [--outage-s 600] [--systems 5]

The real daemon (`python -m monitor run`) watches SNMP-only nodes on loopback,
each answered by a scripted agent (tests/snmp_agent.py). The SMTP server
(aiosmtpd with STARTTLS and AUTH, trustme certificates) is down from the start.
The agents are stopped one by one, spread over the outage, so notices keep being
created while nothing can be mailed (detection, proposals, changes, §4.1
reminders). Then the SMTP server comes back on the same port.

Reported: emails the outbox holds for the email channel (expected), emails
received, lost (expected but never received), duplicated (a Message-ID received
twice), and the time from recovery to the last arrival (goal: ≤ 30 s).
`[dispatch] fallback_after` is set beyond the outage so every notice waits for
email (no SMS channel here: the fall-through has its own test).
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probes.snmp_judge import SYS_UPTIME
from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.smtp_server import SmtpServer
from tests.snmp_agent import ScriptedAgent, timeticks

warnings.filterwarnings("ignore", "Session.login_data is deprecated")
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")

GOAL_S = 30.0
DRAIN_LIMIT_S = 120.0
SYSTEMS = (
    ("portal", "区政府门户网站", "区政府办公室"),
    ("police-video", "区公安分局视频专网", "区公安分局"),
    ("media", "区融媒体中心播出系统", "区融媒体中心"),
    ("hospital", "区人民医院信息系统", "区卫体局"),
    ("water", "区供水调度系统", "区水务局"),
)
EXTRA = """
[probes.snmp]
interval = "1s"
timeout = "300ms"
retries = 0

[snmp.auth.bench]
version = "2c"
community = "public"

[dispatch]
retry_horizon = "24h"
fallback_after = "2h"

[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {port}
security = "starttls"
ca_file = "{ca}"
username = "cw"
password = "bench-secret"
sender = "commwatch@example.org"
timeout = "5s"
"""
NODE = """
[[system]]
id = "{id}"
name = "{name}"
kind = "key_system"
unit = "{unit}"

[[node]]
id = "{id}-1"
name = "{name}服务器"
system = "{id}"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "bench"
snmp_port = {port}
critical = true
"""


def expected_emails(db: Path) -> tuple[int, dict[str, int]]:
    """Email deliveries in the outbox (all of them) and their statuses."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM dispatch_deliveries WHERE channel = 'email' "
            "GROUP BY status"
        ).fetchall()
    statuses = {str(s): int(n) for s, n in rows}
    return sum(statuses.values()), statuses


def run(outage_s: float, systems: int, workdir: Path) -> int:
    smtp = SmtpServer(mode="starttls", users={"cw": "bench-secret"})  # not started: refused
    agents = [ScriptedAgent({SYS_UPTIME: timeticks(100 + i)}) for i in range(systems)]
    for agent in agents:
        agent.__enter__()
    nodes = "".join(
        NODE.format(id=s, name=n, unit=u, port=a.port)
        for (s, n, u), a in zip(SYSTEMS[:systems], agents, strict=True)
    )
    metrics = free_port()
    extra = EXTRA.format(port=smtp.port, ca=smtp.ca_file(workdir))
    toml = daemon_toml(f"sqlite:///{workdir}/cw.db", metrics, fail_after=2, extra=extra)
    config = make_config(workdir / "config", toml, nodes)
    daemon = DaemonProcess(config, metrics, workdir / "daemon.log")
    try:
        daemon.wait_for(
            "nodes UP", lambda: daemon.sample("commwatch_nodes", 'state="UP"') == systems, 60
        )
        started = time.monotonic()
        print(f"SMTP down; {systems} systems fail one by one over {outage_s:.0f} s", flush=True)
        for index, agent in enumerate(agents):
            at = outage_s * index / (systems + 1)
            time.sleep(max(0.0, at - (time.monotonic() - started)))
            agent.stop()
            print(f"  t={time.monotonic() - started:5.0f} s: {SYSTEMS[index][1]} down", flush=True)
        time.sleep(max(0.0, outage_s - (time.monotonic() - started)))
        if daemon.process.poll() is not None:
            raise AssertionError(f"daemon exited during the outage:\n{daemon.log()[-4000:]}")
        queued, statuses = expected_emails(workdir / "cw.db")
        print(f"after {outage_s:.0f} s: {queued} email deliveries in the outbox {statuses}")
        smtp.start()
        recovered = time.time()
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while time.monotonic() < deadline:
            total, statuses = expected_emails(workdir / "cw.db")
            if len(smtp.messages) >= total and set(statuses) <= {"sent"}:
                break
            time.sleep(0.2)
        time.sleep(3.0)  # anything sent twice would arrive now
        total, statuses = expected_emails(workdir / "cw.db")
    finally:
        daemon.stop()
        smtp.stop()
    with sqlite3.connect(workdir / "cw.db") as conn:
        keys = {
            (str(a), str(k))
            for a, k in conn.execute(
                "SELECT address, dedupe_key FROM dispatch_deliveries WHERE channel = 'email'"
            )
        }
    received = list(smtp.messages)
    ids = collections.Counter(r.message_id for r in received)
    duplicated = sum(n - 1 for n in ids.values() if n > 1)
    lost = total - len(ids)
    last = max((r.at for r in received), default=recovered)
    drain = last - recovered
    print(
        f"SMTP down {outage_s:.0f} s: {total} emails expected ({len(keys)} distinct), "
        f"{len(received)} received, lost {lost}, duplicated {duplicated}, statuses {statuses}; "
        f"last arrival {drain:.1f} s after recovery (goal ≤ {GOAL_S:.0f} s); "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    ok = lost == 0 and duplicated == 0 and drain <= GOAL_S and set(statuses) <= {"sent"}
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage-s", type=float, default=600.0)
    parser.add_argument("--systems", type=int, default=len(SYSTEMS), choices=range(1, 6))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-smtp-outage-") as tmp:
        return run(args.outage_s, args.systems, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())

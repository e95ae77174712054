"""End to end in network namespaces: an outage, a notice nobody acknowledges, escalation on time,
a SIGKILL mid-chain (no step lost, none repeated), an SMS reply 收到 that stops it, and call tasks.

The daemon runs in the lab's monitor namespace; the 收到 reply reaches its
receiver the way Kannel's sms-service delivers an MO (GET /kannel/mo/<token>),
from inside that namespace. The real Kannel path is in test_receipts_and_replies.py.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.netns import netns_lab

ACK_WITHIN = 8.0  # long enough for a loaded CI machine to look between two steps
NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

[[node]]
id = "cmcc-core-1"
name = "移动城区核心路由器1"
system = "cmcc"
address = "{address}"
critical = true
street = "东街街道办事处"
"""


def followup_toml(outbox: Path, receiver_port: int, token: str) -> str:
    return f"""
[dispatch]
poll_interval = "200ms"

[[notifier]]
name = "outbox"
type = "file"
directory = "{outbox}"

[escalation]
ack_within = "{ACK_WITHIN:g}s"

[[escalation.chain]]
person = "deputy-miit"
kinds = ["detection"]
then = ["deputy-govoffice", "commander", "duty-officer"]

[calls]
within = "1h"

[receiver]
enabled = true
listen = "127.0.0.1:{receiver_port}"
token = "{token}"
"""


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "monitor", *args, "-c", str(config)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def notices(config: Path) -> list[dict[str, Any]]:
    out = cli(config, "notice", "list", "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def chain(config: Path) -> list[dict[str, Any]]:
    """The detection's deliveries along the chain (deputy-miit at step 0)."""
    return [
        n
        for n in notices(config)
        if n["kind"] == "detection"
        and n["medium"] == "sms"
        and (n["recipient"] == "deputy-miit" or n["escalation_step"] > 0)
    ]


def at(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(line["created_at"])


def reply(port: int, token: str, number: str, text: str) -> int:
    query = urllib.parse.urlencode({"from": number, "text": text, "coding": "0"})
    url = f"http://127.0.0.1:{port}/kannel/mo/{token}?{query}"
    with urllib.request.urlopen(url, timeout=5) as answer:
        return int(answer.status)


def test_unanswered_notice_escalates_survives_sigkill_and_stops_on_reply(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    with netns_lab(hosts=1) as lab:
        port, receiver_port = free_port(), free_port()
        extra = followup_toml(tmp_path / "outbox", receiver_port, token)
        config = make_config(
            tmp_path / "config",
            daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, fail_after=2, extra=extra),
            NODES.format(address=lab.addresses[0]),
        )
        daemon = DaemonProcess(config, port, tmp_path / "daemon1.log", netns=lab.monitor_ns)
        try:
            daemon.wait_for(
                "up",
                lambda: (
                    lab.call_in(lab.monitor_ns, daemon.sample, "commwatch_nodes", 'state="UP"')
                    == 1.0
                ),
            )
            lab.link_down(0)
            daemon.wait_for("the notice to deputy-miit", lambda: len(chain(config)) == 1, 30)
            daemon.wait_for("step 1", lambda: len(chain(config)) == 2, ACK_WITHIN + 10)
            first = chain(config)
            assert [(n["recipient"], n["escalation_step"]) for n in first] == [
                ("deputy-miit", 0),
                ("deputy-govoffice", 1),
            ]
            waited = (at(first[1]) - at(first[0])).total_seconds()
            assert ACK_WITHIN <= waited <= ACK_WITHIN + 2.5, waited
            daemon.process.kill()  # SIGKILL mid-chain: step 2 falls due while it is dead
            daemon.process.wait(timeout=10)
        finally:
            daemon.stop()
        time.sleep(ACK_WITHIN + 0.5)
        assert len(chain(config)) == 2  # nothing moved while it was dead

        daemon = DaemonProcess(config, port, tmp_path / "daemon2.log", netns=lab.monitor_ns)
        try:
            daemon.wait_for("step 2 after restart", lambda: len(chain(config)) == 3, 30)
            second = chain(config)
            assert [(n["recipient"], n["escalation_step"]) for n in second] == [
                ("deputy-miit", 0),
                ("deputy-govoffice", 1),
                ("commander", 2),
            ]  # step 1 not repeated, step 2 not lost
            status = lab.call_in(lab.monitor_ns, reply, receiver_port, token, "13800000001", "收到")
            assert status == 200
            daemon.wait_for(
                "收到 recorded",
                lambda: chain(config)[2]["state"] == "acknowledged",
            )
            time.sleep(ACK_WITHIN + 1.0)  # step 3 would be due now: it must not come
            final = chain(config)
            assert len(final) == 3
            assert (final[2]["ack_means"], final[2]["acked_by"]) == ("sms", "commander")
            incident = final[0]["incident"]
            shown = cli(config, "incident", "show", str(incident), "--json")
            events = json.loads(shown.stdout)["events"]
            kinds = [(e["kind"], e["data"].get("to")) for e in events]
            assert kinds.count(("escalated", "deputy-govoffice")) == 1
            assert kinds.count(("escalated", "commander")) == 1
            assert ("acknowledged", None) in kinds

            issued = cli(config, "warning", "issue", str(incident), "--by", "commander")
            assert issued.returncode == 0, issued.stderr
            daemon.wait_for("call tasks", lambda: bool(_calls(config)), 20)
            calls = _calls(config)
            assert {c["unit"] for c in calls} >= {"移动城区分公司", "区工信局"}
            for task in calls:
                assert set(task) >= {"id", "unit", "phone", "incident", "due"}
                assert task["incident"] == incident
            done = cli(
                config, "call", "done", str(calls[0]["id"]), "--by", "duty-officer",
                "--answered-by", "值班员王某", "--outcome", "已传达预警",
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert calls[0]["id"] not in {c["id"] for c in _calls(config)}
            report = cli(
                config, "report", "render", str(incident), "--kind", "final", "--format", "md"
            )
            assert report.returncode == 0, report.stderr
            table = report.stdout[report.stdout.index("## 通知情况") :]
            table = table[: table.index("\n## ")]
            assert "commander（短信回复）" in table  # who knew, how and when
            assert "（第2级升级）" in table
            assert "值班员王某（电话）：已传达预警" in table
            assert "电话待拨" in table  # the calls not yet made
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]


def _calls(config: Path) -> list[dict[str, Any]]:
    out = cli(config, "call", "list", "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

"""Fate-sharing end to end: 移动 goes down in a namespace lab; the notice goes by the SMS
gateway that does not ride on 移动, and says so.

The daemon and the SMSC (node-smpp, two accounts' worth of routes: source
10690001 = the gateway on 移动, 10690002 = the one on 联通) run inside the
lab's monitor namespace; nothing leaves the namespaces the test created.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.netns import netns_lab
from tests.requirements import require_root
from tests.smsc import NodeSmsc

pytestmark = [pytest.mark.root, pytest.mark.peer]

NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

[[system]]
id = "cucc"
name = "联通城区分公司网络"
kind = "operator"
unit = "联通城区分公司"

[[node]]
id = "cmcc-core-1"
name = "移动城区核心路由器1"
system = "cmcc"
address = "{a0}"
critical = true
street = "东街街道办事处"

[[node]]
id = "cucc-core-1"
name = "联通城区核心路由器1"
system = "cucc"
address = "{a1}"
critical = true
"""

CHANNELS = """
[[notifier]]
name = "sms-cmcc"
type = "sms_smpp"
host = "127.0.0.1"
port = {port}
system_id = "commwatch"
password = "pw5Lq"
source_addr = "10690001"
depends_on = ["cmcc"]

[[notifier]]
name = "sms-cucc"
type = "sms_smpp"
host = "127.0.0.1"
port = {port}
system_id = "commwatch"
password = "pw5Lq"
source_addr = "10690002"
depends_on = ["cucc"]

[[notifier]]
name = "outbox"
type = "file"
directory = "{outbox}"

[dispatch]
poll_interval = "200ms"
"""


def test_a_cmcc_outage_notice_goes_by_the_gateway_that_does_not_ride_on_cmcc(
    tmp_path: Path,
) -> None:
    require_root()
    with netns_lab(hosts=2) as lab, NodeSmsc("commwatch", "pw5Lq", lab.monitor_ns) as smsc:
        port = free_port()
        channels = CHANNELS.format(port=smsc.port, outbox=tmp_path / "outbox")
        config = make_config(
            tmp_path / "config",
            daemon_toml(f"sqlite:///{tmp_path}/cw.db", port, fail_after=2, extra=channels),
            NODES.format(a0=lab.addresses[0], a1=lab.addresses[1]),
        )
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log", netns=lab.monitor_ns)
        try:

            def sample(name: str, labels: str = "") -> float | None:
                return lab.call_in(lab.monitor_ns, daemon.sample, name, labels)

            daemon.wait_for("all UP", lambda: sample("commwatch_nodes", 'state="UP"') == 2.0)
            assert smsc.messages() == []
            lab.link_down(0)
            daemon.wait_for("SMS sent", lambda: bool(smsc.messages()), timeout=40)
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]
    messages = smsc.messages()
    assert {m["source"] for m in messages} == {"10690002"}, messages
    assert all("〔移动城区分公司网络中断，改经sms-cucc发送〕" in m["text"] for m in messages)
    assert "13800000010" in {m["dest"] for m in messages}  # the HQ office's duty mobile
    with sqlite3.connect(tmp_path / "cw.db") as db:
        used = {
            row[0]
            for row in db.execute("select notifier from dispatch_deliveries where channel = 'sms'")
        }
    assert used == {"sms-cucc"}

"""Real ICMP in namespaces: the monitor's own blindness, and a 情形3 beside a maintenance window.

1. The daemon's namespace has a default route via a lab host (its uplink).
   Taking the monitor's own link down (br0) must give: no incident, no
   scenario, the nodes UNKNOWN (not DOWN), commwatch_monitor_blind 1, one log
   line, and an out-of-band notice to the HQ office duty (file notifier); and
   when the link returns, sight and a second notice, still no incident.
2. Three operator networks go down for real while one of them is in a
   maintenance window: the daemon opens a 情形3 incident with a proposed Ⅱ级
   (§4.3.2 ①), not the 情形2 that three operators would be (§3.3 (2)).

Traffic stays inside the lab's namespaces (198.18.0.0/24).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.netns import netns_lab

SYSTEMS = """
[[system]]
id = "portal"
name = "区政府门户网站"
kind = "key_system"
unit = "区政府办公室"

[[system]]
id = "police-video"
name = "区公安分局视频专网"
kind = "key_system"
unit = "区公安分局"

[[system]]
id = "media"
name = "区融媒体中心播出系统"
kind = "key_system"
unit = "区融媒体中心"

[[node]]
id = "portal-web"
name = "门户网站服务器"
system = "portal"
address = "{a1}"
critical = true

[[node]]
id = "video-core"
name = "视频专网核心交换机"
system = "police-video"
address = "{a2}"
critical = true

[[node]]
id = "media-encoder"
name = "融媒体播出编码器"
system = "media"
address = "{a3}"
critical = true
"""

OPERATORS = """
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

[[system]]
id = "tower"
name = "铁塔城区分公司基站网络"
kind = "operator"
unit = "铁塔城区分公司"

[[node]]
id = "cmcc-core"
name = "移动核心"
system = "cmcc"
address = "{a0}"
critical = true

[[node]]
id = "cucc-core"
name = "联通核心"
system = "cucc"
address = "{a1}"
critical = true

[[node]]
id = "tower-ring"
name = "铁塔传输环"
system = "tower"
address = "{a2}"
critical = true

[[maintenance]]
name = "铁塔割接"
systems = ["tower"]
start = {start}
end = {end}
"""


def _cli(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _incidents(config: Path) -> list[dict[str, object]]:
    out = _cli("incident", "list", "-c", str(config), "--json").strip()
    return [json.loads(line) for line in out.splitlines()] if out else []


def _outbox(outbox: Path) -> str:
    files = sorted(p for p in outbox.rglob("*") if p.is_file()) if outbox.is_dir() else []
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def _file_notifier(outbox: Path) -> str:
    return f'\n[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{outbox}"\n'


def test_own_uplink_down_is_blindness_not_an_incident(tmp_path: Path) -> None:
    with netns_lab(hosts=4) as lab:
        gateway = lab.addresses[0]  # host 0 is the ops network's router: not a node
        lab.run(lab.monitor_ns, "ip", "route", "add", "default", "via", gateway)
        port, outbox = free_port(), tmp_path / "outbox"
        config = make_config(
            tmp_path / "config",
            daemon_toml(
                f"sqlite:///{tmp_path}/cw.db",
                port,
                fail_after=2,
                extra=_file_notifier(outbox),
                self_monitor="detect_gateway = true",
            ),
            SYSTEMS.format(a1=lab.addresses[1], a2=lab.addresses[2], a3=lab.addresses[3]),
        )
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log", netns=lab.monitor_ns)
        try:

            def sample(name: str, labels: str = "") -> float | None:
                return lab.call_in(lab.monitor_ns, daemon.sample, name, labels)

            daemon.wait_for("all UP", lambda: sample("commwatch_nodes", 'state="UP"') == 3.0)
            assert sample("commwatch_monitor_blind") == 0.0
            lab.run(lab.monitor_ns, "ip", "link", "set", "br0", "down")  # the monitor's own link
            daemon.wait_for("blind", lambda: sample("commwatch_monitor_blind") == 1.0)
            daemon.wait_for(
                "nodes UNKNOWN", lambda: sample("commwatch_nodes", 'state="UNKNOWN"') == 3.0
            )
            daemon.wait_for("blind notice", lambda: "自身上联中断" in _outbox(outbox))
            rounds_later = sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0.0
            daemon.wait_for(
                "several rounds while blind",
                lambda: (
                    (sample("commwatch_probe_rounds_total", 'probe="icmp"') or 0) > rounds_later + 6
                ),
            )
            assert sample("commwatch_nodes", 'state="DOWN"') == 0.0
            assert sample("commwatch_scenario") == 0.0
            assert sample("commwatch_uplink_ok") == 0.0
            assert _incidents(config) == []
            assert "To: 13800000004" in _outbox(outbox)  # the HQ office's 值班员 (contacts.toml)
            assert f"默认网关{gateway}" in daemon.log()
            lab.run(lab.monitor_ns, "ip", "link", "set", "br0", "up")
            lab.run(lab.monitor_ns, "ip", "route", "replace", "default", "via", gateway)
            daemon.wait_for("sight", lambda: sample("commwatch_monitor_blind") == 0.0)
            daemon.wait_for("all UP again", lambda: sample("commwatch_nodes", 'state="UP"') == 3.0)
            daemon.wait_for("sight notice", lambda: "恢复观察" in _outbox(outbox))
            assert _incidents(config) == []
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]
        log = daemon.log()
        assert log.count("monitor blind: its own uplink failed") == 1, log[-3000:]
        assert log.count("monitor sees again") == 1


def test_real_scenario3_during_a_maintenance_window_on_another_operator(tmp_path: Path) -> None:
    with netns_lab(hosts=4) as lab:
        # host 3 is the monitor's uplink (it stays up): three operators down is not blindness
        lab.run(lab.monitor_ns, "ip", "route", "add", "default", "via", lab.addresses[3])
        now = datetime.now(UTC).replace(microsecond=0)
        window = {
            "start": (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "end": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        }
        port, outbox = free_port(), tmp_path / "outbox"
        config = make_config(
            tmp_path / "config",
            daemon_toml(
                f"sqlite:///{tmp_path}/cw.db",
                port,
                fail_after=2,
                extra=_file_notifier(outbox),
                self_monitor="detect_gateway = true",
            ),
            OPERATORS.format(
                a0=lab.addresses[0], a1=lab.addresses[1], a2=lab.addresses[2], **window
            ),
        )
        down = "cmcc-core,cucc-core,tower-ring"
        argv = ("-m", "monitor", "assess", "-c", str(config), "--down", down, "--json")
        what_if = json.loads(lab.run(lab.monitor_ns, sys.executable, *argv).stdout)
        assert (what_if["scenario"], what_if["level"]) == (3, "II")  # the window is active now
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log", netns=lab.monitor_ns)
        try:

            def sample(name: str, labels: str = "") -> float | None:
                return lab.call_in(lab.monitor_ns, daemon.sample, name, labels)

            daemon.wait_for("all UP", lambda: sample("commwatch_nodes", 'state="UP"') == 3.0)
            for host in range(3):
                lab.link_down(host)
            daemon.wait_for("all DOWN", lambda: sample("commwatch_nodes", 'state="DOWN"') == 3.0)
            daemon.wait_for("情形3", lambda: sample("commwatch_scenario") == 3.0)
            assert sample("commwatch_response_level_proposed") == 2.0
            assert sample("commwatch_monitor_blind") == 0.0
            assert sample("commwatch_affected_systems", 'kind="operator"') == 2.0
            daemon.wait_for("incident", lambda: len(_incidents(config)) == 1)
            [incident] = _incidents(config)
            assert (incident["scenario"], incident["level"]) == (3, "II")
            shown = _cli("incident", "show", str(incident["id"]), "-c", str(config))
            assert "铁塔传输环（tower-ring）（当前DOWN，维护窗口“铁塔割接”）" in shown
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]

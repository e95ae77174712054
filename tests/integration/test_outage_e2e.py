"""End to end: real outages of namespace hosts → node states → 情形3 → 情形2 → notices → recovery.

The daemon runs inside the lab's monitor namespace and probes hosts inside
the lab (198.18.0.x); nothing leaves the namespaces the test created.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.netns import netns_lab

NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

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
address = "{a0}"
critical = true
street = "东街街道办事处"

[[node]]
id = "video-core"
name = "视频专网核心交换机"
system = "police-video"
address = "{a1}"
critical = true
street = "西街街道办事处"

[[node]]
id = "media-encoder"
name = "融媒体播出编码器"
system = "media"
address = "{a2}"
critical = true
street = "南街街道办事处"
"""


def _incidents(config: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "incident", "list", "-c", str(config), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout.strip()
    if not text:
        return []
    data = (
        json.loads(text)
        if text.startswith("[")
        else [json.loads(line) for line in text.splitlines()]
    )
    return list(data)


def _outbox_text(outbox: Path) -> str:
    files = sorted(p for p in outbox.rglob("*") if p.is_file()) if outbox.is_dir() else []
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def test_outage_goes_scenario3_then_scenario2_and_notices_go_out(tmp_path: Path) -> None:
    with netns_lab(hosts=3) as lab:
        port = free_port()
        outbox = tmp_path / "outbox"
        extra = f'\n[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{outbox}"\n'
        config = make_config(
            tmp_path / "config",
            daemon_toml(
                f"sqlite:///{tmp_path}/cw.db", port, fail_after=2, recover_after=2, extra=extra
            ),
            NODES.format(a0=lab.addresses[0], a1=lab.addresses[1], a2=lab.addresses[2]),
        )
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log", netns=lab.monitor_ns)
        try:

            def sample(name: str, labels: str = "") -> float | None:
                return lab.call_in(lab.monitor_ns, daemon.sample, name, labels)

            daemon.wait_for("all UP", lambda: sample("commwatch_nodes", 'state="UP"') == 3.0)
            lab.link_down(0)
            daemon.wait_for(
                "portal DOWN",
                lambda: (
                    sample(
                        "commwatch_node_state",
                        'node="portal-web",street="东街街道办事处",system="portal"',
                    )
                    == 3.0
                ),
            )
            daemon.wait_for("情形3", lambda: sample("commwatch_scenario") == 3.0)
            assert sample("commwatch_response_level_proposed") == 2.0
            lab.link_down(1)
            lab.link_down(2)
            daemon.wait_for("情形2", lambda: sample("commwatch_scenario") == 2.0)
            assert sample("commwatch_response_level_proposed") == 1.0
            assert sample("commwatch_spread") == 1.0
            incidents = _incidents(config)
            assert len(incidents) == 1
            daemon.wait_for("notices written", lambda: outbox.is_dir() and any(outbox.iterdir()))
            texts = "\n".join(
                p.read_text(encoding="utf-8", errors="replace")
                for p in outbox.rglob("*")
                if p.is_file()
            )
            assert "情形" in texts
            issued = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "monitor",
                    "warning",
                    "issue",
                    str(incidents[0]["id"]),
                    "-c",
                    str(config),
                    "--by",
                    "commander",
                    "--note",
                    "演练：发布预警",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert issued.returncode == 0, issued.stderr
            for host in range(3):
                lab.link_up(host)
            daemon.wait_for("recovered", lambda: sample("commwatch_nodes", 'state="UP"') == 3.0)
            daemon.wait_for("assessment cleared", lambda: sample("commwatch_scenario") == 0.0)
            daemon.wait_for(
                "lift proposal written",
                lambda: "已恢复，建议发布人" in _outbox_text(outbox),
                timeout=30,
            )
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]

"""deploy/prometheus: promtool checks, rule unit tests, and a real Prometheus scraping commwatch."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from tests.daemon_harness import DaemonProcess, daemon_toml, free_port, make_config
from tests.deploy.promql import (
    EXTRA_METRICS,
    METRICS,
    SCRAPE_METRICS,
    contract_problems,
    rule_exprs,
)
from tests.requirements import require_binary, require_root

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "commwatch-rules.yml"
RULE_TESTS = Path(__file__).with_name("commwatch-rules.test.yml")
RULES_TEXT = RULES.read_text(encoding="utf-8")
ALERTS = re.findall(r"^\s*- alert:\s*(\S+)\s*$", RULES_TEXT, re.M)
GROUPS = re.findall(r"^\s*- name:\s*(\S+)\s*$", RULES_TEXT, re.M)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False)


def test_promtool_check_config() -> None:
    done = promtool("check", "config", str(CONFIG))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout


def test_promtool_check_rules() -> None:
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(ALERTS)} rules found" in done.stdout


def test_promtool_rule_unit_tests() -> None:
    done = promtool("test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_rule_unit_tests_cover_several_alerts() -> None:
    tested = set(re.findall(r"alertname:\s*(\S+)", RULE_TESTS.read_text(encoding="utf-8")))
    assert len(tested) >= 3
    assert tested <= set(ALERTS)


REQUIRED_ALERTS = [
    "CommwatchDown",
    "CommwatchMetricsAbsent",
    "CommwatchConfigReloadFailed",
    "CommwatchSchedulerLagHigh",
    "CommwatchProbeRoundsSkipped",
    "CommwatchStoreErrors",
    "CommwatchOutboxBacklog",
    "CommwatchNoticeUndelivered",
    "CommwatchDeliveryFailedPermanently",
    "CommwatchUplinkLost",
    "CommwatchSnmpAuthFailures",
]


@pytest.mark.parametrize("alert", REQUIRED_ALERTS)
def test_required_alert_present(alert: str) -> None:
    assert alert in ALERTS


def test_alert_names_unique() -> None:
    assert len(ALERTS) == len(set(ALERTS))


def test_rules_use_only_the_metric_contract() -> None:
    exprs = rule_exprs(RULES_TEXT)
    assert sorted(exprs) == sorted(ALERTS)  # the reader found every alert's expr
    allowed = {**METRICS, **EXTRA_METRICS, **SCRAPE_METRICS}
    problems = {alert: contract_problems(expr, allowed) for alert, expr in exprs.items()}
    assert {alert: p for alert, p in problems.items() if p} == {}


def test_every_alert_has_severity_and_summary() -> None:
    blocks = re.split(r"^\s*- alert:", RULES_TEXT, flags=re.M)[1:]
    assert len(blocks) == len(ALERTS)
    for block in blocks:
        name = block.split()[0]
        assert re.search(r"severity: (critical|warning)\n", block), name
        assert "summary:" in block, name
        assert "description:" in block, name


# --------------------------------------------------------------------------- real Prometheus


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.loads(reply.read().decode("utf-8"))


class PrometheusProcess:
    """`prometheus` on 127.0.0.1 with the shipped config, retargeted; stopped by its PID."""

    def __init__(self, workdir: Path, commwatch_port: int) -> None:
        binary = require_binary("prometheus")
        self.port = free_port()
        text = CONFIG.read_text(encoding="utf-8")
        text = text.replace("127.0.0.1:9810", f"127.0.0.1:{commwatch_port}")
        text = text.replace("scrape_interval: 15s", "scrape_interval: 1s")
        text = text.replace("scrape_timeout: 10s", "scrape_timeout: 1s")
        text = text.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
        text = text.replace("- commwatch-rules.yml", f"- {RULES}")
        config = workdir / "prometheus.yml"
        config.write_text(text, encoding="utf-8")
        self.log_path = workdir / "prometheus.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        reply = _get_json(f"http://127.0.0.1:{self.port}/api/v1/{path}{query}")
        assert reply["status"] == "success", reply
        return reply["data"]

    def wait_for(self, what: str, check: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log()}")
            try:
                last = check()
                if last:
                    return last
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what} (last: {last}):\n{self.log()[-3000:]}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


@pytest.fixture
def commwatch(tmp_path: Path) -> Iterator[DaemonProcess]:
    require_root()
    port = free_port()
    config = make_config(tmp_path / "config", daemon_toml(f"sqlite:///{tmp_path}/cw.db", port))
    process = DaemonProcess(config, port, tmp_path / "daemon.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def prometheus(tmp_path: Path, commwatch: DaemonProcess) -> Iterator[PrometheusProcess]:
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    process = PrometheusProcess(workdir, commwatch.metrics_port)
    try:
        yield process
    finally:
        process.stop()


def test_real_prometheus_scrapes_commwatch(
    commwatch: DaemonProcess, prometheus: PrometheusProcess
) -> None:
    commwatch.wait_for("metrics", lambda: commwatch.sample("commwatch_up") == 1.0)

    def up() -> list[Any]:
        result: list[Any] = prometheus.api("query", query='commwatch_up{job="commwatch"}')["result"]
        return result

    (series,) = prometheus.wait_for("commwatch_up in Prometheus", up)
    assert series["value"][1] == "1"
    assert series["metric"]["service"] == "commwatch"

    def node_states() -> list[Any]:
        result: list[Any] = prometheus.api("query", query="commwatch_node_state")["result"]
        return result

    states = prometheus.wait_for("node states", node_states)
    expected = {node.id for node in load_config(commwatch.config_dir).inventory.node}
    assert {s["metric"]["node"] for s in states} == expected

    targets = prometheus.api("targets")["activeTargets"]
    assert [t["health"] for t in targets if t["labels"]["job"] == "commwatch"] == ["up"]

    def evaluated() -> list[Any]:
        groups: list[Any] = prometheus.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if not rules or any(rule["health"] != "ok" for rule in rules):
            return []
        return groups

    groups = prometheus.wait_for("rules evaluated", evaluated)
    assert sorted(group["name"] for group in groups) == sorted(GROUPS)

    def healthy() -> bool:
        names = {a["labels"]["alertname"] for a in prometheus.api("alerts")["alerts"]}
        return not names & {"CommwatchDown", "CommwatchMetricsAbsent"}

    prometheus.wait_for("no down/absent alert, not even pending", healthy)

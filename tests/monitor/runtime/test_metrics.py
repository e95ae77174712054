"""Metrics: names, cardinality, a real scrape over HTTP, and promtool's lint."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Iterable

import pytest

from monitor.runtime.metrics import DaemonMetrics, MetricsServer, NodeView, counter, gauge
from tests.requirements import require_binary


class FakeNodes:
    def __init__(self, views: list[NodeView]) -> None:
        self.views = views

    def node_views(self) -> Iterable[NodeView]:
        return self.views


def _views(count: int) -> list[NodeView]:
    return [
        NodeView(
            node=f"n{i}",
            system="cmcc",
            street="东街街道办事处",
            status="UP" if i % 3 else "DOWN",
            rtt_seconds={"icmp": 0.0012},
            loss_ratio=0.0 if i % 3 else 1.0,
            interfaces={"eth0": True} if i == 1 else {},
        )
        for i in range(count)
    ]


def _serve(metrics: DaemonMetrics) -> tuple[MetricsServer, str]:
    server = MetricsServer(metrics.registry, "127.0.0.1", 0)
    server.start()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as reply:
        body = reply.read().decode()
    return server, body


def test_scrape_over_http_has_node_and_build_series() -> None:
    metrics = DaemonMetrics(FakeNodes(_views(3)))
    metrics.round_duration.labels("icmp").observe(0.02)
    metrics.collector.add_source(lambda: [gauge("commwatch_outbox_pending", "Notices waiting", 4)])
    server, body = _serve(metrics)
    server.stop()
    assert 'commwatch_node_up{node="n0",system="cmcc"} 0.0' in body
    assert 'commwatch_node_state{node="n1",street="东街街道办事处",system="cmcc"} 1.0' in body
    assert 'commwatch_snmp_interface_up{interface="eth0",node="n1"} 1.0' in body
    assert 'commwatch_nodes{state="DOWN"} 1.0' in body
    assert "commwatch_build_info{" in body
    assert "commwatch_outbox_pending 4.0" in body
    assert "_created" not in body


def test_server_binds_only_the_configured_address() -> None:
    metrics = DaemonMetrics(FakeNodes([]))
    server = MetricsServer(metrics.registry, "127.0.0.1", 0)
    server.start()
    try:
        assert server._server.server_address[0] == "127.0.0.1"
    finally:
        server.stop()


def test_a_broken_source_does_not_break_the_page() -> None:
    metrics = DaemonMetrics(FakeNodes(_views(1)))

    def broken() -> list[object]:
        raise RuntimeError("boom")

    metrics.collector.add_source(broken)  # type: ignore[arg-type]
    server, body = _serve(metrics)
    server.stop()
    assert "commwatch_node_up" in body


def test_per_node_series_stay_few() -> None:
    metrics = DaemonMetrics(FakeNodes(_views(1000)))
    server, body = _serve(metrics)
    server.stop()
    node_lines = [line for line in body.splitlines() if 'node="n' in line]
    assert len(node_lines) <= 1000 * 4 + 1


def test_promtool_check_metrics_is_clean() -> None:
    require_binary("promtool")
    metrics = DaemonMetrics(FakeNodes(_views(5)))
    metrics.rounds.labels("icmp").inc()
    metrics.collector.add_source(
        lambda: [
            counter(
                "commwatch_deliveries",
                "Deliveries",
                {("email", "sent"): 2.0},
                ["channel", "result"],
            )
        ]
    )
    server, body = _serve(metrics)
    server.stop()
    promtool = shutil.which("promtool")
    assert promtool is not None
    check = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("ok", [True, False], ids=["ok", "rejected"])
def test_reload_gauge(ok: bool) -> None:
    metrics = DaemonMetrics(FakeNodes([]))
    metrics.config_loaded(ok)
    assert metrics.registry.get_sample_value("commwatch_config_last_reload_successful") == (
        1.0 if ok else 0.0
    )

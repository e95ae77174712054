"""The daemon's metrics registry, its direct metrics, and the scrape-time collector.

One `CollectorRegistry` per daemon, created here and injected: the scheduler's
round figures are direct metrics (`DaemonMetrics`); every other component owns
its figures and exports them itself through `metric_families()` (a
`MetricSource`), which app.py registers once at start. Per-node values are read
at scrape time, so updating a node costs nothing and a 10k-node scrape stays
small. The page is rendered by prometheus-client's own HTTP server thread,
never on the event loop, bound to the configured address.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor import __version__
from monitor.config.names import PROBE_KINDS

log = logging.getLogger(__name__)
disable_created_metrics()  # type: ignore[no-untyped-call]

STATE_CODES: dict[str, int] = {
    "UNKNOWN": 0,
    "UP": 1,
    "DEGRADED": 2,
    "DOWN": 3,
    "UNREACHABLE": 4,
    "FLAPPING": 5,
    "MAINTENANCE": 6,
}
ROUND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30)


@dataclass(frozen=True, slots=True)
class NodeView:
    """What the collector exports for one node."""

    node: str
    system: str
    street: str
    status: str
    rtt_seconds: Mapping[str, float]
    loss_ratio: float | None
    interfaces: Mapping[str, bool]


class NodeSource(Protocol):
    """Something that lists the current NodeViews (the daemon's node table)."""

    def node_views(self) -> Iterable[NodeView]: ...


class MetricSource(Protocol):
    """A component that exports its own figures as metric families at scrape time."""

    def metric_families(self) -> Iterable[Metric]: ...


FamilySource = Callable[[], Iterable[Metric]]


class StateCollector(Collector):
    """Scrape-time view of node state plus registered family sources."""

    def __init__(self, nodes: NodeSource) -> None:
        self._nodes = nodes
        self._sources: list[FamilySource] = []

    def add_source(self, source: FamilySource) -> None:
        """Register another scrape-time source of metric families."""
        self._sources.append(source)

    def collect(self) -> Iterator[Metric]:
        yield from _node_families(list(self._nodes.node_views()))
        for source in list(self._sources):
            try:
                yield from source()
            except Exception:  # a broken source must not take the whole page down
                log.exception("metrics source failed")


def _node_families(views: list[NodeView]) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "commwatch_node_up", "1 when the node is UP or DEGRADED", labels=["node", "system"]
    )
    state = GaugeMetricFamily(
        "commwatch_node_state",
        "Node state: 0 UNKNOWN 1 UP 2 DEGRADED 3 DOWN 4 UNREACHABLE 5 FLAPPING 6 MAINTENANCE",
        labels=["node", "system", "street"],
    )
    rtt = GaugeMetricFamily(
        "commwatch_node_rtt_seconds", "Average RTT of the last round", labels=["node", "probe"]
    )
    loss = GaugeMetricFamily(
        "commwatch_node_loss_ratio", "ICMP loss of the last round (0-1)", labels=["node"]
    )
    interfaces = GaugeMetricFamily(
        "commwatch_snmp_interface_up",
        "1 when a watched interface is operationally up",
        labels=["node", "interface"],
    )
    counts = dict.fromkeys(STATE_CODES, 0)
    for view in views:
        counts[view.status] = counts.get(view.status, 0) + 1
        up.add_metric([view.node, view.system], 1.0 if view.status in ("UP", "DEGRADED") else 0.0)
        state.add_metric([view.node, view.system, view.street], STATE_CODES.get(view.status, 0))
        for probe, seconds in view.rtt_seconds.items():
            rtt.add_metric([view.node, probe], seconds)
        if view.loss_ratio is not None:
            loss.add_metric([view.node], view.loss_ratio)
        for name, is_up in view.interfaces.items():
            interfaces.add_metric([view.node, name], 1.0 if is_up else 0.0)
    nodes = GaugeMetricFamily("commwatch_nodes", "Nodes by state", labels=["state"])
    for name, count in counts.items():
        nodes.add_metric([name], count)
    yield from (up, state, rtt, loss, interfaces, nodes)


def gauge(name: str, doc: str, value: float, labels: Mapping[str, str] | None = None) -> Metric:
    """A one-sample gauge family (for family sources)."""
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def counter(
    name: str, doc: str, samples: Mapping[tuple[str, ...], float], labels: list[str]
) -> Metric:
    """A counter family from label tuples to totals (name without _total)."""
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in samples.items():
        family.add_metric(list(key), value)
    return family


class DaemonMetrics:
    """The registry and the direct metrics the daemon updates."""

    def __init__(self, nodes: NodeSource) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.collector = StateCollector(nodes)
        r.register(self.collector)
        Gauge("commwatch_build_info", "Build information", ["version"], registry=r).labels(
            __version__
        ).set(1)
        Gauge("commwatch_up", "1 while the daemon runs", registry=r).set(1)
        self.round_duration = Histogram(
            "commwatch_probe_round_duration_seconds",
            "Wall time of one probe round",
            ["probe"],
            buckets=ROUND_BUCKETS,
            registry=r,
        )
        self.rounds = Counter("commwatch_probe_rounds", "Probe rounds run", ["probe"], registry=r)
        self.rounds_skipped = Counter(
            "commwatch_probe_rounds_skipped",
            "Probe rounds skipped (missed or still running)",
            ["probe", "reason"],
            registry=r,
        )
        self.results = Counter(
            "commwatch_probe_results", "Probe results by outcome", ["probe", "result"], registry=r
        )
        self.lag = Gauge(
            "commwatch_scheduler_lag_seconds",
            "How late the last round started",
            ["probe"],
            registry=r,
        )
        self.lag_histogram = Histogram(
            "commwatch_scheduler_start_delay_seconds",
            "How late rounds start",
            ["probe"],
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.state_changes = Counter(
            "commwatch_state_changes", "Node state changes by new state", ["state"], registry=r
        )
        self.reload_ok = Gauge(
            "commwatch_config_last_reload_successful",
            "1 if the last config (re)load succeeded",
            registry=r,
        )
        self.reload_time = Gauge(
            "commwatch_config_last_reload_success_timestamp_seconds",
            "Time of the last successful config (re)load",
            registry=r,
        )
        self.rounds_slow = Counter(
            "commwatch_probe_rounds_slow",
            "Rounds that took more than 80% of their interval",
            ["probe"],
            registry=r,
        )
        self.rounds_late = Counter(
            "commwatch_probe_rounds_late",
            "Rounds that started more than 1 s after their scheduled time",
            ["probe"],
            registry=r,
        )
        self.probe_errors = Counter(
            "commwatch_probe_errors",
            "Rounds that could not run (permission, socket)",
            ["probe"],
            registry=r,
        )
        for probe in PROBE_KINDS:
            self.round_duration.labels(probe)
            self.rounds.labels(probe)
            self.lag.labels(probe)
            self.rounds_late.labels(probe)

    def register(self, source: MetricSource) -> None:
        """Export a component's own figures (see MetricSource)."""
        self.collector.add_source(source.metric_families)

    def config_loaded(self, ok: bool) -> None:
        """Record the outcome of a config load or reload."""
        self.reload_ok.set(1 if ok else 0)
        if ok:
            self.reload_time.set(time.time())


class MetricsServer:
    """prometheus-client's threaded HTTP server, bound to the configured address only."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: Any = None

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return int(self._server.server_port) if self._server is not None else self._port

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        self._server, self._thread = start_http_server(
            self._port, addr=self._host, registry=self._registry
        )
        log.info("metrics listening", extra={"fields": {"address": f"{self._host}:{self.port}"}})

    def stop(self) -> None:
        """Stop serving and release the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None

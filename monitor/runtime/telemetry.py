"""Scrape-time metric families from the counters other parts keep as plain attributes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric

from monitor.runtime.metrics import DaemonMetrics, counter, gauge

if TYPE_CHECKING:
    from monitor.app import Daemon


def register_sources(metrics: DaemonMetrics, daemon: Daemon) -> None:
    """Register the store writer's and probers' counters with the collector."""
    metrics.collector.add_source(lambda: _store_families(daemon.writer))
    metrics.collector.add_source(lambda: _snmp_families(daemon.probes.get("snmp")))
    metrics.collector.add_source(lambda: _trap_families(daemon.traps))


def _store_families(writer: Any) -> Iterator[Metric]:
    yield gauge("commwatch_store_pending_rows", "Rows waiting to be written", float(writer.pending))
    yield counter(
        "commwatch_store_written_rows", "Rows written", {(): float(writer.written_rows)}, []
    )
    yield counter("commwatch_store_errors", "Database write errors", {(): float(writer.errors)}, [])
    yield counter(
        "commwatch_store_dropped_samples",
        "Probe samples dropped while the database was failing",
        {(): float(writer.dropped_samples)},
        [],
    )
    yield gauge(
        "commwatch_store_last_flush_seconds",
        "Duration of the last batch commit",
        float(writer.last_flush_seconds),
    )


def _snmp_families(probe: Any) -> Iterator[Metric]:
    if probe is None:
        return
    for name, doc in (
        ("requests", "SNMP requests sent"),
        ("timeouts", "SNMP requests that got no answer"),
        ("auth_failures", "SNMPv3 authentication failures (a config problem)"),
    ):
        yield counter(f"commwatch_snmp_{name}", doc, {(): float(getattr(probe, name, 0))}, [])


def _trap_families(receiver: Any) -> Iterator[Metric]:
    if receiver is None:
        return
    yield counter(
        "commwatch_snmp_traps",
        "Traps and informs from known nodes, by trap",
        {(str(name),): float(n) for name, n in receiver.by_trap.items()},
        ["trap"],
    )
    yield counter(
        "commwatch_snmp_traps_unknown_sender",
        "Traps from unknown senders (dropped)",
        {(): float(receiver.unknown_senders)},
        [],
    )

"""The daemon's table of nodes: state machines fed by probe results.

A node's *primary* probe (ICMP when listed, else SNMP) drives its state
machine; a secondary SNMP result only adds DEGRADED (an uplink down, a value
over its threshold, no SNMP answer). An SNMP auth failure is a config problem:
it is logged and counted, never turned into an outage.

While the monitor is blind (`blind = True`, set each round from
`monitor.plan.blindness`), a failed primary result does not step the state
machine: the node becomes UNKNOWN with BLIND_REASON (it cannot be seen, it is
not known to be down). `note()` keeps, per node, when its current run of
failures began — the mass-failure rule reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.config import Config
from monitor.config.inventory import NodeConfig
from monitor.nodes.flapping import FlapLimits, FlapState, shown_status, track
from monitor.nodes.state import (
    NodeState,
    Observation,
    Outcome,
    Status,
    Transition,
    observe,
    step,
    transition,
)
from monitor.nodes.windows import thresholds_for
from monitor.runtime.metrics import NodeView
from probes.base import ProbeResult

CONFIG_ERRORS = frozenset({"auth"})
BLIND_REASON = "监测系统自身上联中断，无法判断（非确认中断）"


def primary_probe(node: NodeConfig) -> str:
    """The probe whose rounds decide UP/DOWN for this node."""
    return "icmp" if "icmp" in node.probes else node.probes[0]


@dataclass
class NodeEntry:
    """One node's live state and its latest results per probe."""

    config: NodeConfig
    state: NodeState = field(default_factory=NodeState)
    latest: dict[str, ProbeResult] = field(default_factory=dict)
    flap: FlapState = field(default_factory=FlapState)
    failing_since: datetime | None = None
    unseen: bool = False  # made UNKNOWN by blindness, not judged UP/DOWN since


class NodeTable:
    """All nodes of the running config; implements metrics.NodeSource."""

    def __init__(self, config: Config, restored: Mapping[str, NodeState] | None = None) -> None:
        self._config = config
        self._entries: dict[str, NodeEntry] = {}
        self.blind = False
        self.reconfigure(config, restored or {})

    def reconfigure(self, config: Config, restored: Mapping[str, NodeState] | None = None) -> None:
        """Adopt a new config: keep state of nodes that stay, add new ones, drop removed.

        A `restored` state (read back from the database at start) wins over the
        fresh UNKNOWN the table was built with.
        """
        restored = restored or {}
        entries: dict[str, NodeEntry] = {}
        for node in config.inventory.node:
            old = self._entries.get(node.id)
            if node.id in restored:
                entries[node.id] = NodeEntry(node, restored[node.id])
            elif old is not None:
                entries[node.id] = NodeEntry(
                    node, old.state, old.latest, old.flap, old.failing_since, old.unseen
                )
            else:
                entries[node.id] = NodeEntry(node, NodeState())
        self._config = config
        self._entries = entries

    def states(self) -> dict[str, NodeState]:
        """Current state of every node."""
        return {node_id: entry.state for node_id, entry in self._entries.items()}

    def statuses(self) -> dict[str, Status]:
        """Current status of every node."""
        return {node_id: entry.state.status for node_id, entry in self._entries.items()}

    def flaps(self) -> dict[str, FlapState]:
        """Flap history of every node (FLAPPING detection, monitor.nodes.flapping)."""
        return {node_id: entry.flap for node_id, entry in self._entries.items()}

    def note(self, results: Iterable[ProbeResult], now: datetime) -> None:
        """Record when each node's current run of failed primary rounds began."""
        for result in results:
            entry = self._entries.get(result.node)
            if entry is None or result.error in CONFIG_ERRORS:
                continue
            if result.probe != primary_probe(entry.config):
                continue
            if result.ok:
                entry.failing_since = None
            elif entry.failing_since is None:
                entry.failing_since = now

    def failing(self) -> set[str]:
        """Nodes whose latest primary round failed."""
        return {n for n, e in self._entries.items() if e.failing_since is not None}

    def fresh_failures(self, since: datetime) -> set[str]:
        """Nodes that started failing at or after `since` (and still fail)."""
        return {
            n
            for n, e in self._entries.items()
            if e.failing_since is not None and e.failing_since >= since
        }

    def unseen(self) -> set[str]:
        """Nodes made UNKNOWN by blindness and not judged again since."""
        return {n for n, e in self._entries.items() if e.unseen}

    def apply(self, result: ProbeResult, now: datetime) -> Transition | None:
        """Feed one probe result; returns the node's Transition if its status changed."""
        entry = self._entries.get(result.node)
        if entry is None:
            return None
        entry.latest[result.probe] = result
        if result.error in CONFIG_ERRORS:
            return None
        if result.probe != primary_probe(entry.config):
            return None
        limits = thresholds_for(self._config, entry.config.id, now)
        observation = self._with_secondary(entry, observe(result, limits))
        before = entry.state
        if self.blind and observation.outcome is Outcome.FAILED:
            since = before.since if before.status is Status.UNKNOWN else now
            entry.state = NodeState(Status.UNKNOWN, since, BLIND_REASON)
            entry.unseen = True
            return transition(entry.config.id, before, entry.state)
        entry.state = step(before, observation, limits, now)
        entry.unseen = entry.unseen and entry.state.status is Status.UNKNOWN
        flap_limits = FlapLimits.from_config(self._config.daemon.state)
        entry.flap = track(entry.flap, observation.outcome, entry.state.status, flap_limits)
        return transition(entry.config.id, before, entry.state)

    def _with_secondary(self, entry: NodeEntry, observation: Observation) -> Observation:
        if observation.outcome is Outcome.FAILED:
            return observation
        primary = primary_probe(entry.config)
        extra = []
        for probe, result in entry.latest.items():
            if probe == primary or result.error in CONFIG_ERRORS:
                continue
            if not result.ok:
                extra.append(
                    f"{probe.upper()}无响应"
                    if result.error == "timeout"
                    else f"{probe.upper()}：{result.error}"
                )
            elif result.degraded:
                extra.append(result.detail or f"{probe.upper()}指标越限")
        if not extra:
            return observation
        reasons = [r for r in (observation.reason, *extra) if r]
        return replace(observation, outcome=Outcome.DEGRADED, reason="；".join(reasons))

    def node_views(self) -> Iterable[NodeView]:
        """NodeViews for the metrics collector (called from the scrape thread)."""
        for entry in list(self._entries.values()):
            node = entry.config
            latest = dict(entry.latest)
            rtts = {p: r.rtt_ms / 1000 for p, r in latest.items() if r.rtt_ms is not None}
            icmp = latest.get("icmp")
            snmp = latest.get("snmp")
            interfaces = _interfaces(snmp) if snmp is not None else {}
            yield NodeView(
                node=node.id,
                system=node.system,
                street=node.street or "",
                status=shown_status(entry.flap, entry.state.status).value,
                rtt_seconds=rtts,
                loss_ratio=icmp.loss if icmp is not None else None,
                interfaces=interfaces,
            )


def _interfaces(result: ProbeResult) -> dict[str, bool]:
    raw = result.values.get("interfaces")
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): isinstance(info, dict) and info.get("oper") == "up" for name, info in raw.items()
    }

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
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.nodes.flapping import FLAP_START, FlapLimits, FlapState, shown_status, track
from monitor.nodes.state import (
    NodeState,
    Observation,
    Outcome,
    Status,
    Thresholds,
    Transition,
    clean,
    observe,
    step,
    transition,
)
from monitor.nodes.windows import active_guarantees, base_thresholds, thresholds_for
from monitor.runtime.metrics import NodeView
from probes.base import ProbeResult

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig

CONFIG_ERRORS = frozenset({"auth"})
BLIND_REASON = "监测系统自身上联中断，无法判断（非确认中断）"


def primary_probe(node: NodeConfig) -> str:
    """The probe whose rounds decide UP/DOWN for this node."""
    return "icmp" if "icmp" in node.probes else node.probes[0]


@dataclass(slots=True)
class NodeEntry:
    """One node's live state and its latest results per probe (slots: no per-node __dict__).

    An ICMP result is kept as two floats (all that metrics read of it; ICMP is
    always the primary probe when listed, so no other node logic needs it);
    other probes' results are kept whole (SNMP values, the secondary reasons).
    """

    config: NodeConfig
    state: NodeState = field(default_factory=NodeState)
    latest: dict[str, ProbeResult] | None = None  # made at a non-ICMP result (≈ 64 B a node)
    flap: FlapState = FLAP_START  # frozen: shared until the node's first round
    primary: str = ""  # primary_probe(config), set by the table
    icmp_rtt_ms: float | None = None
    icmp_loss: float | None = None
    base: Thresholds = field(default_factory=Thresholds)  # base_thresholds, set by the table

    failing_since: datetime | None = None
    unseen: bool = False  # made UNKNOWN by blindness, not judged UP/DOWN since


@dataclass(frozen=True, slots=True)
class Applied:
    """What one probe result did to its node, so callers never re-read the table.

    `state` is the node's state after the result; `state_changed` says it
    differs from the one before (persist it); `transition` is set when the
    status changed; `scored_changed` when the change can matter to the scorer:
    the status, or the flap overlay's flapping flag or held status, changed —
    unless no node is down (scored as DOWN) and the node is no uplink
    reference node: then only UNKNOWN/UP/DEGRADED moved, nothing can be out or
    unreachable, and the Assessment cannot change (start-up's UNKNOWN → UP).
    """

    state: NodeState
    state_changed: bool
    transition: Transition | None
    scored_changed: bool


class NodeTable:
    """All nodes of the running config; implements metrics.NodeSource.

    Per result the work is O(1): one dict lookup, one state-machine step, one
    flap step; nothing iterates over all nodes except the whole-table views
    (`states`, `statuses`, `flaps`, `node_views`), which only the scorer (on a
    change), start-up and the metrics scrape call.
    """

    def __init__(self, config: Config, restored: Mapping[str, NodeState] | None = None) -> None:
        self._config = config
        self._entries: dict[str, NodeEntry] = {}
        self.blind = False
        # bumped whenever a node's status (or flapping) changes: readers such as the
        # console compare it instead of every node's status (O(1), not O(nodes))
        self.sequence = 0
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
                entry = NodeEntry(node, old.state, old.latest, old.flap)
                entry.icmp_rtt_ms, entry.icmp_loss = old.icmp_rtt_ms, old.icmp_loss
                entry.failing_since, entry.unseen = old.failing_since, old.unseen
                entries[node.id] = entry
            else:
                entries[node.id] = NodeEntry(node, NodeState())
        self._config = config
        self._entries = entries
        self._cap = streak_cap(config)
        self._uplink = frozenset(config.daemon.self_monitor.uplink_nodes)
        self._down = sum(_scored_down(e) for e in entries.values())
        # kept as they change (note/apply), so a round never scans every node for them
        self._failing = {n: e.failing_since for n, e in entries.items() if e.failing_since}
        self._unseen = {n for n, e in entries.items() if e.unseen}
        self._flap_limits = FlapLimits.from_config(config.daemon.state)
        self._guarantee_now: datetime | None = None
        self._guarded: frozenset[str] = frozenset()
        shared: dict[Thresholds, Thresholds] = {}
        for entry in entries.values():
            entry.primary = primary_probe(entry.config)
            base = base_thresholds(config, entry.config)
            entry.base = shared.setdefault(base, base)
        self.sequence += 1

    def states(self) -> dict[str, NodeState]:
        """Current state of every node."""
        return {node_id: entry.state for node_id, entry in self._entries.items()}

    def statuses(self) -> dict[str, Status]:
        """Current status of every node."""
        return {node_id: entry.state.status for node_id, entry in self._entries.items()}

    def flaps(self) -> dict[str, FlapState]:
        """Flap history of every node (FLAPPING detection, monitor.nodes.flapping)."""
        return {node_id: entry.flap for node_id, entry in self._entries.items()}

    def state(self, node_id: str) -> NodeState | None:
        """One node's current state (None for an unknown id)."""
        entry = self._entries.get(node_id)
        return entry.state if entry is not None else None

    def note(self, results: Iterable[ProbeResult], now: datetime) -> None:
        """Record when each node's current run of failed primary rounds began."""
        for result in results:
            entry = self._entries.get(result.node)
            if entry is None or result.error in CONFIG_ERRORS:
                continue
            if result.probe != entry.primary:
                continue
            if result.ok:
                entry.failing_since = None
                self._failing.pop(result.node, None)
            elif entry.failing_since is None:
                entry.failing_since = self._failing[result.node] = now

    def failing(self) -> set[str]:
        """Nodes whose latest primary round failed (O(failing nodes), not O(nodes))."""
        return set(self._failing)

    def fresh_failures(self, since: datetime) -> set[str]:
        """Nodes that started failing at or after `since` (and still fail)."""
        return {node for node, began in self._failing.items() if began >= since}

    def unseen(self) -> set[str]:
        """Nodes made UNKNOWN by blindness and not judged again since."""
        return set(self._unseen)

    def apply(self, result: ProbeResult, now: datetime) -> Applied | None:
        """Feed one probe result; None when it cannot move the node's state machine.

        None for an unknown node, an SNMP auth failure (a config problem) and a
        secondary probe's result (kept for the next primary round and metrics).
        """
        entry = self._entries.get(result.node)
        if entry is None:
            return None
        if result.probe == "icmp":
            entry.icmp_rtt_ms, entry.icmp_loss = result.rtt_ms, result.loss
        else:
            if entry.latest is None:
                entry.latest = {}
            entry.latest[result.probe] = result
        if result.error in CONFIG_ERRORS:
            return None
        if result.probe != entry.primary:
            return None
        limits = self._limits(entry, now)
        if self._leaves_steady(entry, result, limits):
            return Applied(entry.state, False, None, False)
        observation = self._with_secondary(entry, observe(result, limits))
        before, flap_before = entry.state, entry.flap
        if self.blind and observation.outcome is Outcome.FAILED:  # unseen, not judged DOWN
            since = before.since if before.status is Status.UNKNOWN else now
            entry.state = NodeState(Status.UNKNOWN, since, BLIND_REASON)
            entry.unseen = True
            self._unseen.add(entry.config.id)
            change = transition(entry.config.id, before, entry.state)
            was_down, is_down = _scored_down_of(before, flap_before), _scored_down(entry)
            self._down += is_down - was_down
            stored = _worth_storing(before, entry.state, self._cap)
            if change is not None:
                self.sequence += 1
            return Applied(entry.state, stored, change, change is not None)
        entry.state = step(before, observation, limits, now, self._cap)
        if entry.unseen and entry.state.status is not Status.UNKNOWN:
            entry.unseen = False
            self._unseen.discard(entry.config.id)
        entry.flap = track(flap_before, observation.outcome, entry.state.status, self._flap_limits)
        change = transition(entry.config.id, before, entry.state)
        was_down, is_down = _scored_down_of(before, flap_before), _scored_down(entry)
        self._down += is_down - was_down
        shown = (
            change is not None
            or entry.flap.flapping != flap_before.flapping
            or entry.flap.held != flap_before.held
        )
        if shown:
            self.sequence += 1
        scored_changed = shown and (self._down > 0 or was_down or entry.config.id in self._uplink)
        stored = _worth_storing(before, entry.state, self._cap)
        return Applied(entry.state, stored, change, scored_changed)

    def _leaves_steady(self, entry: NodeEntry, result: ProbeResult, limits: Thresholds) -> bool:
        """True when `result` leaves a steady UP node exactly as it is, checked without stepping.

        Most results at scale: the node is UP with its streaks at the cap and a
        quiet flap window, the result is a clean OK within its limits and no
        secondary result can add a reason. The full path would get the same
        NodeState and FlapState objects back from `step` and `track`, with no
        transition, nothing to store or score, so it is skipped (about half of
        the per-result state work). Anything else takes the full path.
        tests/monitor/nodes/test_table_steady.py runs both on the same results.
        """
        state, flap, cap = entry.state, entry.flap, self._cap
        return (
            entry.latest is None
            and not entry.unseen
            and state.status is Status.UP
            and state.good_streak == cap
            and state.answered_streak == cap
            and state.failed_streak == 0
            and state.bad_streak == 0
            and flap.last_status is Status.UP
            and flap.last_outcome is Outcome.OK
            and flap.held is Status.UP
            and not flap.flapping
            and flap.share == 0.0
            and len(flap.changes) == self._flap_limits.window
            and clean(result, limits)
        )

    def _limits(self, entry: NodeEntry, now: datetime) -> Thresholds:
        """thresholds_for(), with the active guarantee periods found once per round's `now`."""
        if now is not self._guarantee_now:
            self._guarantee_now = now
            active = active_guarantees(self._config, now)
            self._guarded = frozenset(system for g in active for system in g.systems)
        if entry.config.system in self._guarded:
            return thresholds_for(self._config, entry.config.id, now)
        return entry.base

    def _with_secondary(self, entry: NodeEntry, observation: Observation) -> Observation:
        if observation.outcome is Outcome.FAILED:
            return observation
        primary = entry.primary
        extra = []
        for probe, result in (entry.latest or {}).items():
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
            latest = dict(entry.latest or {})
            rtts = {p: r.rtt_ms / 1000 for p, r in latest.items() if r.rtt_ms is not None}
            if entry.icmp_rtt_ms is not None:
                rtts["icmp"] = entry.icmp_rtt_ms / 1000
            snmp = latest.get("snmp")
            interfaces = _interfaces(snmp) if snmp is not None else {}
            yield NodeView(
                node=node.id,
                system=node.system,
                street=node.street or "",
                status=shown_status(entry.flap, entry.state.status).value,
                rtt_seconds=rtts,
                loss_ratio=entry.icmp_loss,
                interfaces=interfaces,
            )


def _scored_down_of(state: NodeState, flap: FlapState) -> bool:
    """True when the scorer counts the node DOWN (its held status while flapping)."""
    return (flap.held if flap.flapping else state.status) is Status.DOWN


def _scored_down(entry: NodeEntry) -> bool:
    return _scored_down_of(entry.state, entry.flap)


def streak_cap(config: Config) -> int:
    """A streak length above every threshold this config applies (guarantees included).

    Past it a streak decides nothing: a node UP, DOWN or DEGRADED for that long
    stays so whatever the streak's exact length, so stored streaks stop at it.
    After a restart with larger thresholds the same holds (a status is only
    left through a streak that restarts from zero). The config's own limits,
    not the schema's maximum (100): with [state] fail_after = 3 a healthy node
    stops rewriting its row after 4 rounds instead of 101.
    """
    defaults = config.daemon.state
    limits = {defaults.fail_after, defaults.recover_after}
    for node in config.inventory.node:
        limits.update(v for v in (node.fail_after, node.recover_after) if v is not None)
    for g in config.plan.guarantee:
        limits.update(v for v in (g.fail_after, g.recover_after) if v is not None)
    return max(limits) + 1


def _worth_storing(before: NodeState, after: NodeState, cap: int) -> bool:
    """True when the stored state must change: anything but a streak growing past `cap`.

    A healthy node's good and answered streaks grow by one every round (a dead
    one's failed streak too); past every threshold they decide nothing, so a
    steady node stops rewriting its row, and restoring it at start behaves the same.
    """
    if after is before:  # a steady node (streaks at the cap): nothing moved
        return False
    return (
        after.status != before.status
        or after.since != before.since
        or after.reason != before.reason
        or min(after.failed_streak, cap) != min(before.failed_streak, cap)
        or min(after.bad_streak, cap) != min(before.bad_streak, cap)
        or min(after.good_streak, cap) != min(before.good_streak, cap)
        or min(after.answered_streak, cap) != min(before.answered_streak, cap)
    )


def _interfaces(result: ProbeResult) -> dict[str, bool]:
    raw = result.values.get("interfaces")
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): isinstance(info, dict) and info.get("oper") == "up" for name, info in raw.items()
    }

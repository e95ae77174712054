"""The board: the district at a glance, from node statuses and the current Assessment. Pure.

A system's condition, gravest first: 中断 (its business is affected, §7.1),
不可达 (affected, but every out node is only cut off behind a dead parent),
部分业务受影响 (some nodes out or degraded, business not affected), 维护 (a
node in a maintenance window), 保障期 (a guarantee period names it), 正常.
A street (annex 8.4) reads the same from the nodes that serve it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.config import Config
from monitor.config.inventory import NodeConfig
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status, is_out
from monitor.nodes.windows import active_guarantees
from monitor.plan.assessment import Assessment
from monitor.plan.names import NODE_CONDITIONS, condition_name, level_name, scenario_label
from monitor.plan.scorer import impacts
from monitor.plan.situation import situation

NODE_LIMIT = 200  # abnormal nodes listed on the board (the rest are counted)
QUIET = (Status.UP, Status.UNKNOWN)


@dataclass(frozen=True)
class Row:
    """One system or street on the board."""

    id: str
    name: str
    condition: str  # a CONDITION_NAMES key
    total: int
    out: int
    degraded: int
    note: str = ""

    @property
    def label(self) -> str:
        return condition_name(self.condition)


@dataclass(frozen=True)
class NodeRow:
    """One node that is not plainly up."""

    id: str
    name: str
    system: str
    street: str
    condition: str

    @property
    def label(self) -> str:
        return condition_name(self.condition)


@dataclass(frozen=True)
class Board:
    """What the board page shows."""

    operators: list[Row]
    key_systems: list[Row]
    streets: list[Row]
    nodes: list[NodeRow]
    nodes_hidden: int
    scenario: str
    level: str
    spread: bool
    reasons: tuple[str, ...]
    uplink_ok: bool
    counts: dict[str, int] = field(default_factory=dict)


def _condition(
    members: Sequence[NodeConfig],
    scored: Mapping[str, Status],
    shown: Mapping[str, Status],
    affected: bool,
    guarded: bool,
) -> tuple[str, int, int]:
    out = [n.id for n in members if is_out(scored.get(n.id, Status.UNKNOWN))]
    degraded = sum(shown.get(n.id) in (Status.DEGRADED, Status.FLAPPING) for n in members)
    if out and affected:
        only_cut_off = all(scored.get(n) is Status.UNREACHABLE for n in out)
        return ("unreachable" if only_cut_off else "down"), len(out), degraded
    if out or degraded:
        return "partial", len(out), degraded
    if any(shown.get(n.id) is Status.MAINTENANCE for n in members):
        return "maintenance", 0, 0
    return ("guarantee" if guarded else "normal"), 0, 0


def build_board(
    config: Config,
    raw: Mapping[str, Status],
    flaps: Mapping[str, FlapState],
    assessment: Assessment,
    now: datetime,
    uplink_ok: bool = True,
) -> Board:
    """The board for these live statuses and the Assessment of the last round."""
    seen = situation(config, raw, flaps, now)
    found = impacts(config, seen.scored)
    guarded = {s: g.name for g in active_guarantees(config, now) for s in g.systems}
    members: dict[str, list[NodeConfig]] = {}
    by_street: dict[str, list[NodeConfig]] = {}
    for node in config.inventory.node:
        members.setdefault(node.system, []).append(node)
        if node.street:
            by_street.setdefault(node.street, []).append(node)
    operators: list[Row] = []
    key_systems: list[Row] = []
    for system in config.inventory.system:
        nodes = members.get(system.id, [])
        impact = found.get(system.id)
        affected = impact is not None and impact.affected
        condition, out, degraded = _condition(
            nodes, seen.scored, seen.shown, affected, system.id in guarded
        )
        row = Row(
            system.id, system.name, condition, len(nodes), out, degraded, guarded.get(system.id, "")
        )
        (operators if system.kind == "operator" else key_systems).append(row)
    streets = _streets(config, by_street, seen.scored, seen.shown)
    abnormal = [
        NodeRow(
            n.id, n.name, n.system, n.street or "", NODE_CONDITIONS.get(seen.shown[n.id], "unknown")
        )
        for n in config.inventory.node
        if seen.shown.get(n.id, Status.UNKNOWN) not in QUIET
    ]
    counts: dict[str, int] = {}
    for status in seen.shown.values():
        name = condition_name(NODE_CONDITIONS.get(status.value, "unknown"))
        counts[name] = counts.get(name, 0) + 1
    return Board(
        operators=operators,
        key_systems=key_systems,
        streets=streets,
        nodes=abnormal[:NODE_LIMIT],
        nodes_hidden=max(len(abnormal) - NODE_LIMIT, 0),
        scenario=scenario_label(assessment.scenario, "未达预警情形"),
        level=level_name(assessment.level, "-"),
        spread=assessment.spread,
        reasons=assessment.reasons,
        uplink_ok=uplink_ok,
        counts=counts,
    )


def _streets(
    config: Config,
    by_street: Mapping[str, Sequence[NodeConfig]],
    scored: Mapping[str, Status],
    shown: Mapping[str, Status],
) -> list[Row]:
    """Streets of contacts.toml (then any other a node names); 中断 when all its nodes are out."""
    names = list(config.streets) + [s for s in by_street if s not in config.streets]
    rows = []
    for name in names:
        nodes = by_street.get(name, [])
        every = bool(nodes) and all(is_out(scored.get(n.id, Status.UNKNOWN)) for n in nodes)
        condition, out, degraded = _condition(nodes, scored, shown, every, False)
        rows.append(Row(name, name, condition, len(nodes), out, degraded))
    return rows

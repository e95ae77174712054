"""The board: the district at a glance, from node statuses and the current Assessment. Pure.

A system's condition, gravest first: 中断 (its business is affected, §7.1),
不可达 (affected, but every out node is only cut off behind a dead parent),
部分业务受影响 (some nodes out or degraded, business not affected), 维护 (a
node in a maintenance window), 保障期 (a guarantee period names it), 正常.
A street (annex 8.4) reads the same from the nodes that serve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from monitor.config import Config
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.nodes.windows import active_guarantees
from monitor.plan.assessment import Assessment
from monitor.plan.impact import impacts
from monitor.plan.names import NODE_CONDITIONS, condition_name, level_name, scenario_label
from monitor.plan.overlays import left_out
from monitor.plan.priority import is_priority
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


@dataclass
class Tally:
    """Counts over the nodes of one system or street (one pass over all nodes)."""

    total: int = 0
    out: int = 0
    down: int = 0  # out for a cause of its own (not only cut off behind a parent)
    degraded: int = 0
    maintained: int = 0

    def add(self, scored: Status, shown: Status) -> None:
        self.total += 1
        if shown is Status.MAINTENANCE:  # neither down nor up for the judgement
            self.maintained += 1
            return
        if scored is Status.DOWN or scored is Status.UNREACHABLE:
            self.out += 1
            self.down += scored is Status.DOWN
        if shown is Status.DEGRADED or shown is Status.FLAPPING:
            self.degraded += 1

    def condition(self, affected: bool, guarded: bool) -> str:
        """The gravest condition that holds (see the module docstring)."""
        if self.out and affected:
            return "down" if self.down else "unreachable"
        if self.out or self.degraded:
            return "partial"
        if self.maintained:
            return "maintenance"
        return "guarantee" if guarded else "normal"


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
    found = impacts(config, seen.scored, left_out(config, seen.scored, seen.maintained))
    guarded = {s: g.name for g in active_guarantees(config, now) for s in g.systems}
    systems: dict[str, Tally] = {system.id: Tally() for system in config.inventory.system}
    streets: dict[str, Tally] = {name: Tally() for name in config.streets}
    unknown = Status.UNKNOWN
    for node in config.inventory.node:
        scored = seen.scored.get(node.id, unknown)
        shown = seen.shown.get(node.id, unknown)
        systems.setdefault(node.system, Tally()).add(scored, shown)
        if node.street:
            streets.setdefault(node.street, Tally()).add(scored, shown)
    operators: list[Row] = []
    key_systems: list[Row] = []
    # §6.3: 优先保障单位 first, config order otherwise
    for system in sorted(config.inventory.system, key=lambda s: not is_priority(config, s.id)):
        tally = systems[system.id]
        impact = found.get(system.id)
        affected = impact is not None and impact.whole
        row = Row(
            system.id,
            system.name,
            tally.condition(affected, system.id in guarded),
            tally.total,
            tally.out,
            tally.degraded,
            guarded.get(system.id, ""),
        )
        (operators if system.kind == "operator" else key_systems).append(row)
    street_rows = [
        # a street is 中断 when every node serving it is out
        Row(name, name, t.condition(t.out == t.total > 0, False), t.total, t.out, t.degraded)
        for name, t in streets.items()
    ]
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
        streets=street_rows,
        nodes=abnormal[:NODE_LIMIT],
        nodes_hidden=max(len(abnormal) - NODE_LIMIT, 0),
        scenario=scenario_label(assessment.scenario, "未达预警情形"),
        level=level_name(assessment.level, "-"),
        spread=assessment.spread,
        reasons=assessment.reasons,
        uplink_ok=uplink_ok,
        counts=counts,
    )

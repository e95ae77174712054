"""The plan's logic: node statuses (+ the earlier set, for spread) → Assessment. Pure.

One function serves the daemon and `commwatch assess`:

    assess(config, statuses, earlier, now=now) -> Assessment

- `statuses`: every node's status as the scorer should count it (the
  daemon passes `Situation.scored`; assess passes `topology.what_if`).
  Topology is (re)applied here, so raw statuses work too: a silent child
  behind dead parents is UNREACHABLE. Nodes missing from the mapping are
  UNKNOWN. Only DOWN and UNREACHABLE count as out; FLAPPING, MAINTENANCE,
  DEGRADED, UP and UNKNOWN do not.
- `earlier`: statuses at the start of the spread window — or, from the
  daemon, `SpreadHistory.earlier()`: the smallest non-empty affected set
  within the window. None or {} means nothing was down then.

Rules (plan.toml; §3.3, §4.3, §7.1 "以上" includes the number):
- a system's business is affected (全部业务中断) when one of its critical
  nodes is out, or when out/total ≥ its affected_share (the system's own,
  else plan.toml [systems] affected_share);
- streets: those of all out nodes;
- spread (扩散性), when anything is affected: the number of affected systems
  grew from a non-empty earlier set [spread.growth]; or the outage reaches
  ≥ min_streets streets [spread.min_streets, 0 = off]; or more than one
  operator network is affected [spread.multiple_operators];
- 情形1: spread and affected/all systems ≥ scenario.all_share;
  情形2: operators ≥ operators_for_scenario2, or key systems ≥
  key_systems_without_spread, or spread and key systems ≥
  key_systems_with_spread, or spread and ≥ 1 operator network;
  情形3: anything else affected (1 operator network and/or 1–2 key systems
  without spread; 1 key system with spread is still 情形3, noted);
  level Ⅰ for 情形1/2 (§4.3.1), Ⅱ for 情形3 (§4.3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.config import Config
from monitor.config.inventory import NodeConfig, SystemConfig
from monitor.nodes.state import Status, is_out
from monitor.nodes.topology import causes, cut_off, effective_statuses, parents_of
from monitor.nodes.windows import active_guarantees
from monitor.plan import reasons as text
from monitor.plan.assessment import Assessment
from monitor.plan.names import Level

LEVELS: dict[int, Level] = {1: "I", 2: "I", 3: "II"}


@dataclass(frozen=True)
class SystemImpact:
    """How one system stands: its out nodes and whether its business is affected."""

    system: SystemConfig
    out: tuple[str, ...]
    critical_out: tuple[str, ...]
    total: int
    threshold: float

    @property
    def share(self) -> float:
        return len(self.out) / self.total if self.total else 0.0

    @property
    def affected(self) -> bool:
        """A critical node out, or the share of out nodes at or above the threshold (§7.1)."""
        return bool(self.critical_out) or (self.total > 0 and self.share >= self.threshold)


@dataclass(frozen=True)
class Spread:
    """Which spread rules hold; `earlier`/`now` are the affected-system counts compared."""

    growth: bool = False
    streets: bool = False
    operators: bool = False
    earlier: int = 0
    now: int = 0

    @property
    def any(self) -> bool:
        return self.growth or self.streets or self.operators


def normalise(config: Config, statuses: Mapping[str, Status] | None) -> dict[str, Status]:
    """Statuses of exactly the configured nodes, with topology applied (live reading)."""
    given = statuses or {}
    raw = {node.id: given.get(node.id, Status.UNKNOWN) for node in config.inventory.node}
    return effective_statuses(raw, parents_of(config), trust_children=True)


def impacts(config: Config, statuses: Mapping[str, Status]) -> dict[str, SystemImpact]:
    """Every system that has an out node, by id (statuses already normalised)."""
    default = config.plan.systems.affected_share
    members: dict[str, list[NodeConfig]] = {}
    for node in config.inventory.node:
        members.setdefault(node.system, []).append(node)
    result: dict[str, SystemImpact] = {}
    for system in config.inventory.system:
        nodes = members.get(system.id, [])
        out = tuple(n.id for n in nodes if is_out(statuses.get(n.id, Status.UNKNOWN)))
        if not out:
            continue
        critical = tuple(n.id for n in nodes if n.critical and n.id in out)
        threshold = system.affected_share or default
        result[system.id] = SystemImpact(system, out, critical, len(nodes), threshold)
    return result


def affected_systems(config: Config, statuses: Mapping[str, Status] | None) -> frozenset[str]:
    """Ids of the systems whose business is affected under these statuses."""
    found = impacts(config, normalise(config, statuses))
    return frozenset(sid for sid, impact in found.items() if impact.affected)


def priority_order(config: Config, ids: set[str] | frozenset[str]) -> tuple[str, ...]:
    """§6.3: priority systems (党政机关、重点单位) first, then operator networks, then by id."""
    systems = config.systems

    def key(sid: str) -> tuple[bool, bool, str]:
        return (not systems[sid].priority, systems[sid].kind != "operator", sid)

    return tuple(sorted(ids, key=key))


def scenario_of(config: Config, operators: int, key_systems: int, spread: bool) -> int | None:
    """The 预警情形 (§3.3) for these counts; None when nothing is affected."""
    rules = config.plan.scenario
    affected = operators + key_systems
    if affected == 0:
        return None
    total = len(config.inventory.system)
    if spread and total and affected / total >= rules.all_share:
        return 1
    if operators >= rules.operators_for_scenario2:
        return 2
    if key_systems >= rules.key_systems_without_spread:
        return 2
    if spread and (key_systems >= rules.key_systems_with_spread or operators >= 1):
        return 2
    return 3


def assess(
    config: Config,
    statuses: Mapping[str, Status] | None,
    earlier: Mapping[str, Status] | None = None,
    *,
    now: datetime | None = None,
) -> Assessment:
    """The Assessment of these node statuses against plan.toml (see the module docstring).

    `now` only adds a reason when an affected system is in an active guarantee
    period (保障期); the judgement itself does not depend on time.
    """
    current = normalise(config, statuses)
    found = impacts(config, current)
    affected = {sid for sid, impact in found.items() if impact.affected}
    kinds = {sid: config.systems[sid].kind for sid in affected}
    operators = tuple(sorted(s for s in affected if kinds[s] == "operator"))
    key_systems = tuple(sorted(s for s in affected if kinds[s] == "key_system"))
    out_nodes = [n for n, s in current.items() if is_out(s)]
    streets = tuple(sorted({st for n in out_nodes if (st := config.nodes[n].street)}))
    spread = _spread(config, affected, streets, len(operators), earlier)
    scenario = scenario_of(config, len(operators), len(key_systems), spread.any)
    guarantees = active_guarantees(config, now, affected) if now and affected else []
    reasons = text.reasons(
        config,
        text.Facts(
            impacts=found,
            ordered=priority_order(config, affected),
            operators=len(operators),
            key_systems=len(key_systems),
            streets=streets,
            spread=spread,
            scenario=scenario,
            causes=causes(current),
            unreachable=cut_off(current),
            guarantees=tuple(g.name for g in guarantees),
        ),
    )
    return Assessment(
        scenario=scenario,
        level=LEVELS[scenario] if scenario is not None else None,
        operator_networks=operators,
        key_systems=key_systems,
        streets=streets,
        spread=spread.any,
        reasons=reasons,
        nodes_down=causes(current),
        nodes_unreachable=cut_off(current),
    )


def _spread(
    config: Config,
    affected: set[str],
    streets: tuple[str, ...],
    operators: int,
    earlier: Mapping[str, Status] | None,
) -> Spread:
    if not affected:
        return Spread()
    rules = config.plan.spread
    before = len(affected_systems(config, earlier)) if earlier else 0
    return Spread(
        growth=rules.growth and 0 < before < len(affected),
        streets=rules.min_streets > 0 and len(streets) >= rules.min_streets,
        operators=rules.multiple_operators and operators > 1,
        earlier=before,
        now=len(affected),
    )

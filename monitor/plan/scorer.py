"""The plan's logic: node statuses (+ the earlier set, for spread) → Assessment. Pure.

One function serves the daemon and `commwatch assess`:

    assess(config, statuses, earlier, now=now, maintained=…) -> Assessment

- `statuses`: every node's status as the scorer should count it (the
  daemon passes `Situation.scored`; assess passes `topology.what_if`).
  Topology is (re)applied here, so raw statuses work too: a silent child
  behind dead parents is UNREACHABLE. Nodes missing from the mapping are
  UNKNOWN. Only DOWN and UNREACHABLE count as out.
- `earlier`: statuses at the start of the spread window (the daemon's
  `SpreadHistory.earlier()`); None or {} means nothing was down then.
- `maintained`: nodes in a maintenance window now → why; they and the nodes
  cut off only by them are left out (`monitor.plan.overlays`).
- `now`: adds the 保障期 active now to the reasons.

The steps: 全部业务 per system (`monitor.plan.impact`), 扩散性 measured
(`monitor.plan.spread`), the scenario and level from §3.3 and §4.3 read together
(`monitor.plan.verdict`), the reasons in the plan's words (`monitor.plan.reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from monitor.config import Config
from monitor.nodes.state import Status, is_out
from monitor.nodes.topology import causes, cut_off
from monitor.plan import reasons as text
from monitor.plan.assessment import Assessment
from monitor.plan.impact import impacts, partial, streets_of, whole
from monitor.plan.overlays import guarantee_lines, left_out
from monitor.plan.priority import repair_order, systems_first
from monitor.plan.spread import Footprint, footprint, measure, normalise
from monitor.plan.verdict import counts_of, judge, scenario_of

__all__ = ["affected_systems", "assess", "priority_order", "scenario_of"]


def affected_systems(config: Config, statuses: Mapping[str, Status] | None) -> frozenset[str]:
    """Ids of the systems whose whole business is down under these statuses."""
    return footprint(config, statuses).systems


def priority_order(config: Config, ids: set[str] | frozenset[str]) -> tuple[str, ...]:
    """§6.3: priority systems (优先保障单位) first, then operator networks, then by id."""
    return systems_first(config, ids)


def assess(
    config: Config,
    statuses: Mapping[str, Status] | None,
    earlier: Mapping[str, Status] | None = None,
    *,
    now: datetime | None = None,
    maintained: Mapping[str, str] | None = None,
) -> Assessment:
    """The Assessment of these node statuses against plan.toml (see the module docstring)."""
    current = normalise(config, statuses)
    skipped = left_out(config, current, maintained or {})
    found = impacts(config, current, skipped)
    affected = whole(found)
    operators = tuple(sorted(s for s in affected if config.systems[s].kind == "operator"))
    key_systems = tuple(sorted(s for s in affected if config.systems[s].kind == "key_system"))
    judged = {n: s for n, s in current.items() if n not in skipped}
    out_nodes = [n for n, s in judged.items() if is_out(s)]
    out_of_affected = [n for sid in affected for n in found[sid].out]
    now_print = Footprint(affected, streets_of(config, out_of_affected))
    before = footprint(config, earlier, skipped) if earlier else Footprint()
    spread = measure(config, now_print, before)
    counts = counts_of(config, len(operators), len(key_systems))
    verdict = judge(config, counts, spread.any)
    reasons = text.reasons(
        config,
        text.Facts(
            impacts=found,
            ordered=priority_order(config, affected),
            partial=priority_order(config, partial(found)),
            counts=counts,
            streets=streets_of(config, out_nodes),
            spread=spread,
            verdict=verdict,
            causes=causes(judged),
            unreachable=cut_off(judged),
            repair=repair_order(config, causes(judged), cut_off(judged)),
            left_out=skipped,
            left_out_status={n: current[n] for n in skipped},
            guarantees=tuple(guarantee_lines(config, now, set(found))),
        ),
    )
    scenario = verdict.scenario
    return Assessment(
        scenario=scenario.number if scenario is not None else None,
        level=scenario.proposed_level if scenario is not None else None,
        operator_networks=operators,
        key_systems=key_systems,
        streets=streets_of(config, out_nodes),
        spread=spread.any,
        reasons=reasons,
        partial_systems=tuple(sorted(partial(found))),
        nodes_down=causes(judged),
        nodes_unreachable=cut_off(judged),
        left_out=tuple(sorted(skipped)),
    )

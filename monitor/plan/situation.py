"""One round, composed: raw statuses → overlays → Assessment → may an incident open? Pure.

Order after every probe round (all results of the round applied first):

1. raw: each node's state-machine status (UNKNOWN/UP/DEGRADED/DOWN);
2. flapping: a FLAPPING node counts with its held status (`monitor.nodes.flapping`);
3. topology on the held statuses: silent children of dead parents become
   UNREACHABLE (`monitor.nodes.topology`) → `scored`, what the scorer counts and
   what SpreadHistory remembers;
4. `shown` (operators, metrics, `status`): topology on the real raw statuses,
   then FLAPPING, then MAINTENANCE on top.

Maintenance never changes `scored`: nodes in a window count as they are, so a
window neither hides an open incident's outage nor resolves it. It only stops
an incident from *opening*: `suppressed` is true when the outage would affect
no system without the nodes in maintenance (a DOWN node inside a window, and
an UNREACHABLE node inside a window or with at least one such parent). When
the window ends while the node is still down, `suppressed` turns false and the
incident opens then. Pass it on: `engine.on_assessment(a, now, suppressed=…)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.config import Config
from monitor.nodes.flapping import FlapState, scored_status, shown_status
from monitor.nodes.state import Status
from monitor.nodes.topology import effective_statuses, parents_of
from monitor.nodes.windows import maintained_nodes
from monitor.plan.assessment import Assessment
from monitor.plan.scorer import affected_systems, assess
from monitor.plan.spread import SpreadHistory


@dataclass(frozen=True)
class Situation:
    """The statuses of one round in their two readings, and who is in maintenance."""

    scored: dict[str, Status]
    shown: dict[str, Status]
    maintained: frozenset[str]


@dataclass(frozen=True)
class RoundResult:
    """What the daemon acts on after a round."""

    situation: Situation
    assessment: Assessment
    suppressed: bool


def situation(
    config: Config,
    raw: Mapping[str, Status],
    flaps: Mapping[str, FlapState],
    now: datetime,
) -> Situation:
    """Overlay flapping, topology and maintenance on the raw statuses."""
    parents = parents_of(config)
    own = {node.id: raw.get(node.id, Status.UNKNOWN) for node in config.inventory.node}
    held = {n: scored_status(flaps.get(n), s) for n, s in own.items()}
    scored = effective_statuses(held, parents)
    real = effective_statuses(own, parents)
    maintained = maintained_nodes(config, now)
    shown = {
        n: Status.MAINTENANCE if n in maintained else shown_status(flaps.get(n), s)
        for n, s in real.items()
    }
    return Situation(scored, shown, maintained)


def excused(
    config: Config, scored: Mapping[str, Status], maintained: frozenset[str]
) -> frozenset[str]:
    """Out nodes whose outage the maintenance windows explain."""
    parents = parents_of(config)
    memo: dict[str, bool] = {}

    def check(node: str, seen: frozenset[str]) -> bool:
        if node in memo:
            return memo[node]
        status = scored.get(node, Status.UNKNOWN)
        if status is Status.DOWN:
            result = node in maintained
        elif status is Status.UNREACHABLE:
            ups = [p for p in parents.get(node, ()) if p not in seen]
            result = node in maintained or any(check(p, seen | {node}) for p in ups)
        else:
            result = False
        memo[node] = result
        return result

    return frozenset(n for n in sorted(scored) if check(n, frozenset()))


def creation_suppressed(
    config: Config, scored: Mapping[str, Status], maintained: frozenset[str]
) -> bool:
    """True when something is affected, but nothing would be without the maintenance windows."""
    if not maintained or not affected_systems(config, scored):
        return False
    forgiven = excused(config, scored, maintained)
    without = {n: Status.UP if n in forgiven else s for n, s in scored.items()}
    return not affected_systems(config, without)


def score_round(
    config: Config,
    raw: Mapping[str, Status],
    flaps: Mapping[str, FlapState],
    history: SpreadHistory,
    now: datetime,
) -> RoundResult:
    """Everything after a round: situation, history, Assessment and suppression."""
    current = situation(config, raw, flaps, now)
    history.record(now, current.scored)
    assessment = assess(config, current.scored, history.earlier(now), now=now)
    suppressed = creation_suppressed(config, current.scored, current.maintained)
    return RoundResult(current, assessment, suppressed)

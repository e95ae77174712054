"""One round, composed: raw statuses → overlays → Assessment → may an incident open? Pure.

Order after every probe round (all results of the round applied first):

1. raw: each node's state-machine status (UNKNOWN/UP/DEGRADED/DOWN);
2. flapping: a FLAPPING node counts with its held status (`monitor.nodes.flapping`);
3. topology on the held statuses: silent children of dead parents become
   UNREACHABLE (`monitor.nodes.topology`) → `scored`, what the scorer counts and
   what SpreadHistory remembers;
4. `shown` (operators, metrics, `status`): topology on the real raw statuses,
   then FLAPPING, then MAINTENANCE on top.

`maintained` (node → the window's name) goes to the scorer, which leaves
those nodes out of the judgement (`monitor.plan.overlays`): a node in
maintenance is neither down nor up for any scenario, so it neither opens nor
follows nor restores an incident, and the reasons say what was left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.config import Config
from monitor.nodes.flapping import FlapState, scored_status, shown_status
from monitor.nodes.state import Status
from monitor.nodes.topology import effective_statuses, parents_of
from monitor.plan.assessment import Assessment
from monitor.plan.overlays import left_out, maintenance_reasons
from monitor.plan.scorer import assess
from monitor.plan.spread import SpreadHistory


@dataclass(frozen=True)
class Situation:
    """The statuses of one round in their two readings, and who is in maintenance."""

    scored: dict[str, Status]
    shown: dict[str, Status]
    maintained: dict[str, str]


@dataclass(frozen=True)
class RoundResult:
    """What the daemon acts on after a round."""

    situation: Situation
    assessment: Assessment


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
    maintained = maintenance_reasons(config, now)
    shown = {
        n: Status.MAINTENANCE if n in maintained else shown_status(flaps.get(n), s)
        for n, s in real.items()
    }
    return Situation(scored, shown, maintained)


def score_round(
    config: Config,
    raw: Mapping[str, Status],
    flaps: Mapping[str, FlapState],
    history: SpreadHistory,
    now: datetime,
) -> RoundResult:
    """Everything after a round: situation, history and Assessment."""
    current = situation(config, raw, flaps, now)
    skipped = left_out(config, current.scored, current.maintained)
    history.record(now, current.scored, skipped)
    earlier = history.earlier(now)
    assessment = assess(config, current.scored, earlier, now=now, maintained=current.maintained)
    return RoundResult(current, assessment)

"""Flap detection: Icinga's weighted window of state changes, with hysteresis (pure).

Every round of a node's primary probe is one entry in a window of the last
`flap_window` rounds (commwatch.toml [state]); an entry records whether the
node's status (UP / DEGRADED / DOWN, after the fail_after / recover_after
thresholds) changed in that round — a state transition, as Icinga and Nagios
count them. A first judgement (from UNKNOWN) is not a change. So a node that
the thresholds keep turning over is caught — DOWN 90 s / UP 60 s at 30 s
rounds with fail_after 3, recover_after 2 changes status 2 rounds in 5
(0.4 ≥ the default flap_high 0.2, Nagios' host default) — while single lost pings, which never
change the status, never make a node flap.
Newer entries weigh more: linearly from 0.8 (oldest slot) to 1.2 (newest
slot), so the share of change is

    share = Σ weight(slot) · changed(slot) / Σ weight(slot)      (over all slots)

Rounds not yet seen count as "no change", so a young node cannot flap on a
handful of rounds. A node starts FLAPPING when share ≥ flap_high ("以上"
includes the number, §7.1) and stops when share < flap_low (hysteresis).

What the scorer sees
    While a node is FLAPPING the scorer gets its *held* status: the status it
    had in the round before it started flapping, i.e. exactly what the scorer
    saw last. Entering FLAPPING therefore changes nothing; flips inside the
    flapping period change nothing (neither raise nor clear an incident); on
    leaving, the node's real status counts again — once. A node that really
    goes down while flapping stops changing, its share decays below flap_low
    and the DOWN is reported then. Operators and metrics see FLAPPING.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.nodes.state import Outcome, Status

if TYPE_CHECKING:
    from monitor.config.daemon import StateConfig


@dataclass(frozen=True, slots=True)
class FlapLimits:
    """The window size (rounds) and the enter/leave shares."""

    window: int = 20
    high: float = 0.2
    low: float = 0.1

    @classmethod
    def from_config(cls, state: StateConfig) -> FlapLimits:
        """From commwatch.toml [state] flap_window / flap_high / flap_low."""
        return cls(window=state.flap_window, high=state.flap_high, low=state.flap_low)


@dataclass(frozen=True, slots=True)
class FlapState:
    """One node's flap history; keep it beside its NodeState."""

    changes: tuple[bool, ...] = ()
    last_outcome: Outcome | None = None
    last_status: Status | None = None
    flapping: bool = False
    held: Status = Status.UNKNOWN
    share: float = 0.0


FLAP_START = FlapState()  # every node's first flap state (frozen: one object for all)
# Steady nodes' flap states are equal: shared, so 10,000 steady nodes hold a handful
# of FlapState objects and tuples instead of 10,000 of each (~2 MiB).
_QUIET: dict[int, tuple[bool, ...]] = {}  # length → (False,) * length
_STEADY: dict[tuple[int, Outcome, Status], FlapState] = {}  # (rounds, outcome, status) → state


def change_share(changes: tuple[bool, ...], window: int) -> float:
    """The weighted share of change over `window` slots; `changes` newest last."""
    if not any(changes):
        return 0.0
    if window < 2:
        return float(any(changes[-1:]))
    recent = changes[-window:]
    offset = window - len(recent)
    total = 0.0
    for index, changed in enumerate(recent):
        if changed:
            total += 0.8 + 0.4 * (offset + index) / (window - 1)
    return total / window  # the weights average exactly 1.0 over the window


def track(flap: FlapState, outcome: Outcome, status: Status, limits: FlapLimits) -> FlapState:
    """The flap state after one round: its outcome and the node's status after `step`.

    A steady node (same outcome and status, a full window without change) gets
    the same FlapState back: nothing to compute or allocate.
    """
    if (
        status is flap.last_status
        and outcome is flap.last_outcome
        and not flap.flapping
        and flap.share == 0.0
        and len(flap.changes) == limits.window
        and flap.held is status
    ):
        return flap
    changes = flap.changes
    if flap.last_status is not None:
        changed = flap.last_status is not Status.UNKNOWN and status is not flap.last_status
        changes = (*changes, changed)[-limits.window :]
        if not changed and not any(changes):
            changes = _QUIET.setdefault(len(changes), changes)
    share = change_share(changes, limits.window)
    flapping, held = flap.flapping, flap.held
    if not flapping and share >= limits.high:
        flapping = True
        held = flap.last_status if flap.last_status is not None else status
    elif flapping and share < limits.low:
        flapping = False
    if not flapping and share == 0.0:
        # no change in the window: equal to that of every other such node as old
        key = (len(changes), outcome, status)
        return _STEADY.setdefault(key, FlapState(changes, outcome, status, False, status))
    return FlapState(
        changes=changes,
        last_outcome=outcome,
        last_status=status,
        flapping=flapping,
        held=held if flapping else status,
        share=share,
    )


def flap_edges(
    before: Mapping[str, FlapState], after: Mapping[str, FlapState]
) -> list[tuple[str, bool]]:
    """(node, started) for every node whose FLAPPING began (True) or ended (False)."""
    edges: list[tuple[str, bool]] = []
    for node, flap in sorted(after.items()):
        was = before.get(node)
        if flap.flapping != (was is not None and was.flapping):
            edges.append((node, flap.flapping))
    return edges


def scored_status(flap: FlapState | None, status: Status) -> Status:
    """What the scorer counts for the node: the held status while FLAPPING."""
    if flap is None or not flap.flapping:
        return status
    return flap.held


def shown_status(flap: FlapState | None, status: Status) -> Status:
    """What operators and metrics see: FLAPPING while flapping."""
    if flap is None or not flap.flapping:
        return status
    return Status.FLAPPING

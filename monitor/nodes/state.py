"""The per-node state machine: pure, no I/O, table-tested.

Each primary-probe round yields an Observation (ok, degraded or failed). A node
goes DOWN after `fail_after` consecutive failed rounds, DEGRADED after
`fail_after` consecutive rounds that answered badly, and back UP after
`recover_after` consecutive good rounds.

The machine itself only ever yields UNKNOWN, UP, DEGRADED and DOWN (the *raw*
status). UNREACHABLE (`monitor.nodes.topology`), FLAPPING (`monitor.nodes.flapping`) and
MAINTENANCE (`monitor.nodes.windows`) are overlays computed across nodes after a
round; `monitor.plan.situation` composes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # probes.base loads prometheus_client and the config models
    from probes.base import ProbeResult


class Status(StrEnum):
    """A node's state as operators see it."""

    UNKNOWN = "UNKNOWN"
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
    UNREACHABLE = "UNREACHABLE"  # every parent is DOWN/UNREACHABLE: not a separate cause
    FLAPPING = "FLAPPING"  # changes too often: held, neither raises nor clears an incident
    MAINTENANCE = "MAINTENANCE"  # inside a maintenance window (display only)


RAW_STATUSES = frozenset({Status.UNKNOWN, Status.UP, Status.DEGRADED, Status.DOWN})
OUT_STATUSES = frozenset({Status.DOWN, Status.UNREACHABLE})


def is_out(status: Status) -> bool:
    """True when the node counts against its system's business (DOWN or UNREACHABLE)."""
    return status in OUT_STATUSES


class Outcome(StrEnum):
    """How one round went for one node."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Observation:
    """The outcome of one round and, when it was not OK, why."""

    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Per-node limits: defaults from commwatch.toml [state], overridable per node."""

    fail_after: int = 3
    recover_after: int = 2
    degraded_loss: float = 0.2
    degraded_rtt: timedelta = timedelta(milliseconds=200)


@dataclass(frozen=True, slots=True)
class NodeState:
    """Where a node stands, with the streaks that decide its next change."""

    status: Status = Status.UNKNOWN
    since: datetime | None = None
    reason: str = ""
    failed_streak: int = 0
    bad_streak: int = 0
    good_streak: int = 0
    answered_streak: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of status, as persisted and announced."""

    node: str
    previous: Status
    current: Status
    at: datetime
    reason: str


def step(
    state: NodeState,
    observation: Observation,
    limits: Thresholds,
    now: datetime,
    cap: int | None = None,
) -> NodeState:
    """The next state of a node after one round.

    With `cap` (above every threshold that can apply) streaks stop growing
    there: a steady node then gets back the very same state object, so a
    steady round allocates nothing for it and callers can compare by identity.
    """
    outcome = observation.outcome
    state = _count(state, outcome, cap)
    target = _target(state, outcome, limits)
    if target is None or target == state.status:
        if state.status is not Status.UP and observation.reason:
            return replace(state, reason=observation.reason)
        return state
    reason = observation.reason or _recovered_reason(state.status, target)
    return replace(state, status=target, since=now, reason=reason)


def transition(node: str, before: NodeState, after: NodeState) -> Transition | None:
    """The Transition between two states of a node, or None when the status held."""
    if before.status == after.status or after.since is None:
        return None
    return Transition(node, before.status, after.status, after.since, after.reason)


def _count(state: NodeState, outcome: Outcome, cap: int | None = None) -> NodeState:
    failed = outcome is Outcome.FAILED
    good = outcome is Outcome.OK
    counts = (
        state.failed_streak + 1 if failed else 0,
        0 if good else state.bad_streak + 1,
        state.good_streak + 1 if good else 0,
        0 if failed else state.answered_streak + 1,
    )
    if cap is not None:
        counts = tuple(min(c, cap) for c in counts)  # type: ignore[assignment]
        if counts == (
            state.failed_streak,
            state.bad_streak,
            state.good_streak,
            state.answered_streak,
        ):
            return state
    return replace(
        state,
        failed_streak=counts[0],
        bad_streak=counts[1],
        good_streak=counts[2],
        answered_streak=counts[3],
    )


def _target(state: NodeState, outcome: Outcome, limits: Thresholds) -> Status | None:
    if state.failed_streak >= limits.fail_after:
        return Status.DOWN
    current = state.status if state.status in RAW_STATUSES else Status.UNKNOWN
    if current is Status.UNKNOWN:
        return {Outcome.OK: Status.UP, Outcome.DEGRADED: Status.DEGRADED}.get(outcome)
    if current is Status.DOWN:
        if state.answered_streak < limits.recover_after:
            return None
        return Status.UP if outcome is Outcome.OK else Status.DEGRADED
    if current is Status.DEGRADED:
        return Status.UP if state.good_streak >= limits.recover_after else None
    return Status.DEGRADED if state.bad_streak >= limits.fail_after else None


def _recovered_reason(previous: Status, target: Status) -> str:
    if target is not Status.UP:
        return ""
    return "首次探测正常" if previous is Status.UNKNOWN else "恢复正常"


OK = Observation(Outcome.OK)


def clean(result: ProbeResult, limits: Thresholds) -> bool:
    """True when `observe` finds the result OK by every limit (NaN values are left to it)."""
    return (
        result.ok
        and not result.degraded
        and (result.loss is None or result.loss < limits.degraded_loss)
        and (result.rtt_ms is None or result.rtt_ms <= limits.degraded_rtt.total_seconds() * 1000)
    )


def observe(result: ProbeResult, limits: Thresholds) -> Observation:
    """Judge one probe result against the node's limits."""
    if not result.ok:
        return Observation(Outcome.FAILED, _failure_reason(result))
    if clean(result, limits):
        return OK
    reasons = []
    if result.loss is not None and result.loss >= limits.degraded_loss:
        reasons.append(f"丢包率{result.loss:.0%}")
    limit_ms = limits.degraded_rtt.total_seconds() * 1000
    if result.rtt_ms is not None and result.rtt_ms > limit_ms:
        reasons.append(f"时延{result.rtt_ms:.0f}ms超过{limit_ms:.0f}ms")
    if result.degraded:
        reasons.append(result.detail or "指标越限")
    if reasons:
        return Observation(Outcome.DEGRADED, "；".join(reasons))
    return Observation(Outcome.OK)


def _failure_reason(result: ProbeResult) -> str:
    if result.probe == "icmp":
        return "ICMP无响应" if result.error in (None, "timeout") else f"ICMP错误：{result.error}"
    return f"{result.probe.upper()}探测失败：{result.error or '无响应'}"

"""The per-node state machine, walked round by round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.nodes.state import (
    NodeState,
    Observation,
    Outcome,
    Status,
    Thresholds,
    observe,
    step,
    transition,
)
from probes.base import ProbeResult

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
OK, BAD, FAIL = Outcome.OK, Outcome.DEGRADED, Outcome.FAILED
U, G, D, N = Status.UP, Status.DEGRADED, Status.DOWN, Status.UNKNOWN


def walk(
    outcomes: list[Outcome], limits: Thresholds, start: NodeState | None = None
) -> list[Status]:
    state = start or NodeState()
    seen = []
    for index, outcome in enumerate(outcomes):
        state = step(state, Observation(outcome, "why"), limits, T0 + timedelta(seconds=index))
        seen.append(state.status)
    return seen


CASES = [
    ("first-ok-is-up", [OK], [U]),
    ("first-degraded", [BAD], [G]),
    ("down-after-fail-after", [OK, FAIL, FAIL, FAIL], [U, U, U, D]),
    ("unknown-to-down", [FAIL, FAIL, FAIL], [N, N, D]),
    ("one-ok-resets-failures", [OK, FAIL, FAIL, OK, FAIL, FAIL], [U, U, U, U, U, U]),
    ("recover-after-two-good", [OK, FAIL, FAIL, FAIL, OK, OK], [U, U, U, D, D, U]),
    ("recover-interrupted", [OK, FAIL, FAIL, FAIL, OK, FAIL, OK, OK], [U, U, U, D, D, D, D, U]),
    ("down-recovers-to-degraded", [OK, FAIL, FAIL, FAIL, BAD, BAD], [U, U, U, D, D, G]),
    ("degraded-after-fail-after-bad", [OK, BAD, BAD, BAD], [U, U, U, G]),
    ("mixed-bad-and-failed-is-degraded", [OK, FAIL, BAD, FAIL], [U, U, U, G]),
    ("degraded-to-down", [OK, BAD, BAD, BAD, FAIL, FAIL, FAIL], [U, U, U, G, G, G, D]),
    ("degraded-recovers", [BAD, OK, OK], [G, G, U]),
]


@pytest.mark.parametrize(
    ("outcomes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_state_walk(outcomes: list[Outcome], expected: list[Status]) -> None:
    assert walk(outcomes, Thresholds(fail_after=3, recover_after=2)) == expected


def test_fail_after_one_is_immediate() -> None:
    assert walk([OK, FAIL], Thresholds(fail_after=1, recover_after=1)) == [U, D]


def test_transition_carries_reason_and_time() -> None:
    limits = Thresholds(fail_after=1)
    before = step(NodeState(), Observation(OK), limits, T0)
    after = step(before, Observation(FAIL, "ICMP无响应"), limits, T0 + timedelta(seconds=30))
    change = transition("n1", before, after)
    assert change is not None
    assert (change.previous, change.current, change.reason) == (U, D, "ICMP无响应")
    assert change.at == T0 + timedelta(seconds=30)
    assert transition("n1", after, after) is None


OBSERVE_CASES = [
    ("answered", ProbeResult("n", "icmp", True, rtt_ms=1.0, loss=0.0), OK),
    ("no-answer", ProbeResult("n", "icmp", False, loss=1.0, error="timeout"), FAIL),
    ("loss-at-limit", ProbeResult("n", "icmp", True, rtt_ms=1.0, loss=0.2), BAD),
    ("loss-below-limit", ProbeResult("n", "icmp", True, rtt_ms=1.0, loss=0.19), OK),
    ("slow", ProbeResult("n", "icmp", True, rtt_ms=250.0, loss=0.0), BAD),
    ("snmp-threshold", ProbeResult("n", "snmp", True, degraded=True, detail="接口eth1中断"), BAD),
]


@pytest.mark.parametrize(
    ("result", "expected"), [c[1:] for c in OBSERVE_CASES], ids=[c[0] for c in OBSERVE_CASES]
)
def test_observe(result: ProbeResult, expected: Outcome) -> None:
    limits = Thresholds(degraded_loss=0.2, degraded_rtt=timedelta(milliseconds=200))
    assert observe(result, limits).outcome is expected


def test_observe_reasons_are_chinese() -> None:
    limits = Thresholds()
    assert observe(ProbeResult("n", "icmp", False, error="timeout"), limits).reason == "ICMP无响应"
    slow = observe(ProbeResult("n", "icmp", True, rtt_ms=250.0, loss=0.34), limits)
    assert slow.reason == "丢包率34%；时延250ms超过200ms"

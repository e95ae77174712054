"""Status values beyond up/down, and flap detection with hysteresis, round by round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.daemon import StateConfig
from monitor.nodes.flapping import (
    FlapLimits,
    FlapState,
    change_share,
    scored_status,
    shown_status,
    track,
)
from monitor.nodes.state import NodeState, Observation, Outcome, Status, Thresholds, is_out, step

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
OK, FAIL = Outcome.OK, Outcome.FAILED
LIMITS = FlapLimits(window=20, high=0.5, low=0.25)


def test_status_values_are_stable_strings() -> None:
    assert [s.value for s in Status] == [
        "UNKNOWN",
        "UP",
        "DEGRADED",
        "DOWN",
        "UNREACHABLE",
        "FLAPPING",
        "MAINTENANCE",
    ]
    assert [s for s in Status if is_out(s)] == [Status.DOWN, Status.UNREACHABLE]


@pytest.mark.parametrize(
    "overlay", [Status.UNREACHABLE, Status.FLAPPING, Status.MAINTENANCE], ids=str
)
def test_machine_restarts_from_an_overlay_status(overlay: Status) -> None:
    state = NodeState(status=overlay)
    assert step(state, Observation(OK), Thresholds(), T0).status is Status.UP


SHARES = [
    ("empty", (), 0.0),
    ("all-changed", (True,) * 20, 1.0),
    ("newest-only", (False,) * 19 + (True,), 1.2 / 20),
    ("oldest-only", (True,) + (False,) * 19, 0.8 / 20),
    ("young-node-counts-unseen-as-steady", (True,), 1.2 / 20),
    ("longer-than-window-is-cut", (True,) * 5 + (False,) * 20, 0.0),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in SHARES], ids=[c[0] for c in SHARES]
)
def test_weighted_share(changes: tuple[bool, ...], expected: float) -> None:
    assert change_share(changes, 20) == pytest.approx(expected)


def feed(outcomes: list[Outcome], limits: Thresholds) -> list[tuple[Status, FlapState]]:
    """Drive the real state machine and the flap tracker together."""
    state, flap, seen = NodeState(), FlapState(), []
    for index, outcome in enumerate(outcomes):
        state = step(state, Observation(outcome), limits, T0 + timedelta(seconds=30 * index))
        flap = track(flap, outcome, state.status, LIMITS)
        seen.append((state.status, flap))
    return seen


FAST = Thresholds(fail_after=1, recover_after=1)  # e.g. a guarantee period: every flip shows


def test_enters_exactly_when_the_share_reaches_flap_high() -> None:
    rounds = feed([OK, FAIL] * 10, FAST)
    entered = next(i for i, (_, f) in enumerate(rounds) if f.flapping)
    assert rounds[entered][1].share >= LIMITS.high
    assert rounds[entered - 1][1].share < LIMITS.high
    assert entered == 9  # the 9th change: weights 0.8…1.2 make 9 newest changes ≥ 0.5


def test_steady_rounds_without_enough_changes_never_flap() -> None:
    rounds = feed([OK, OK, OK, FAIL, FAIL, FAIL] * 7, FAST)  # a change every 3rd round
    assert not any(f.flapping for _, f in rounds)


def test_hysteresis_holds_between_low_and_high_then_leaves() -> None:
    rounds = feed([OK, FAIL] * 10 + [FAIL] * 20, FAST)
    flapping = [f.flapping for _, f in rounds]
    shares = [f.share for _, f in rounds]
    left = next(i for i in range(10, len(rounds)) if not flapping[i])
    assert shares[left] < LIMITS.low <= shares[left - 1]
    between = [i for i in range(10, left) if LIMITS.low <= shares[i] < LIMITS.high]
    assert between  # still FLAPPING though below flap_high
    assert all(flapping[i] for i in between)


def test_scorer_sees_the_held_status_until_flapping_ends() -> None:
    outcomes = [OK, OK] + [FAIL, OK] * 10 + [FAIL] * 20
    rounds = feed(outcomes, FAST)
    scored = [scored_status(f, s) for s, f in rounds]
    shown = [shown_status(f, s) for s, f in rounds]
    entered = next(i for i, (_, f) in enumerate(rounds) if f.flapping)
    left = next(i for i in range(entered, len(rounds)) if not rounds[i][1].flapping)
    # the status the scorer had before the crossing round holds through the flips …
    assert set(scored[entered - 1 : left]) == {scored[entered - 1]}
    assert all(s is Status.FLAPPING for s in shown[entered:left])
    # … and the real status (DOWN: it kept failing) counts once, on leaving
    assert scored[left] is Status.DOWN
    assert shown[left] is Status.DOWN
    flips_while_flapping = {s for s, _ in rounds[entered:left]}
    assert flips_while_flapping == {Status.UP, Status.DOWN}


def test_entering_changes_nothing_for_the_scorer() -> None:
    rounds = feed([OK, FAIL] * 10, FAST)
    entered = next(i for i, (_, f) in enumerate(rounds) if f.flapping)
    before = scored_status(rounds[entered - 1][1], rounds[entered - 1][0])
    assert rounds[entered][1].held is before


def test_limits_from_config() -> None:
    limits = FlapLimits.from_config(StateConfig(flap_window=10, flap_high=0.6, flap_low=0.3))
    assert limits == FlapLimits(window=10, high=0.6, low=0.3)


def test_no_flap_state_means_real_status() -> None:
    assert scored_status(None, Status.DOWN) is Status.DOWN
    assert shown_status(None, Status.UP) is Status.UP

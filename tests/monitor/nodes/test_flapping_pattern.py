"""Flap detection with the shipped thresholds (fail_after 3, recover_after 2, 30 s rounds).

The audit's pattern: a node DOWN 90 s / UP 60 s over and over. With the shipped
[state] (flap_window 20, flap_high 0.2, flap_low 0.1) it is caught within a few
cycles; from then on its system is judged on its held state (no more restores and
returns), and the flips produce one notice when flapping starts and one when it
ends. Noise (single lost pings) alone never flaps; noise on top of the pattern
does not hide it.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Config, load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.nodes.flapping import FlapLimits
from monitor.nodes.state import Status
from monitor.nodes.table import NodeTable
from monitor.plan.situation import score_round
from monitor.plan.spread import SpreadHistory
from monitor.runtime.flap_notices import FlapNotices
from probes.base import ProbeResult
from tests.paths import PLAN_DATA, ROOT

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # a Monday: no window of the test district
ROUND = timedelta(seconds=30)
NODE = "ks2-srv"  # the critical node of ks2: its status alone decides 情形3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


class ListSink:
    def __init__(self) -> None:
        self.requests: list[NoticeRequest] = []

    def submit(self, request: NoticeRequest) -> None:
        self.requests.append(request)


@dataclass
class Run:
    flapping_from: int | None = None
    restores: int = 0
    returns: int = 0
    notices: list[tuple[int, NoticeKind]] = field(default_factory=list)
    held_affected: set[bool] = field(default_factory=set)


def drive(config: Config, answers: list[bool]) -> Run:
    """The daemon's per-round path: table → flap notices → situation → Assessment."""
    table, history, sink = NodeTable(config), SpreadHistory(config), ListSink()
    notices, run, before = FlapNotices(sink), Run(), None
    for index, answered in enumerate(answers):
        now = T0 + ROUND * index
        result = ProbeResult(NODE, "icmp", answered, at=now)
        table.note([result], now)
        table.apply(result, now)
        count = len(sink.requests)
        notices.update(config, table.flaps(), now)
        run.notices += [(index, r.kind) for r in sink.requests[count:]]
        flap = table.flaps()[NODE]
        if flap.flapping and run.flapping_from is None:
            run.flapping_from = index
        affected = score_round(config, table.statuses(), table.flaps(), history, now).assessment
        if flap.flapping:
            run.held_affected.add(affected.affected)
        if before is not None and before != affected.affected:
            run.restores += before
            run.returns += not before
        before = affected.affected
    return run


def pattern(rounds: int) -> list[bool]:
    """DOWN 90 s (3 failed rounds), UP 60 s (2 good rounds), repeated."""
    return [(i % 5) >= 3 for i in range(rounds)]


def test_shipped_thresholds(world: Config) -> None:
    state = world.daemon.state
    assert (state.fail_after, state.recover_after) == (3, 2)
    assert FlapLimits.from_config(state) == FlapLimits(window=20, high=0.2, low=0.1)


def test_down_90s_up_60s_for_22_minutes_is_caught(world: Config) -> None:
    """The audit: 22 minutes of the pattern gave 8 restores and 7 returns; now it flaps."""
    run = drive(world, pattern(44))
    assert run.flapping_from is not None
    assert run.flapping_from <= 15  # within 7.5 minutes (3 cycles)
    assert run.restores + run.returns <= 4  # only before detection
    assert len(run.held_affected) == 1  # judged on the held state while flapping
    assert run.notices == [(run.flapping_from, NoticeKind.FLAPPING_START)]


def test_one_notice_when_it_ends(world: Config) -> None:
    run = drive(world, pattern(44) + [True] * 30)
    assert [k for _, k in run.notices] == [NoticeKind.FLAPPING_START, NoticeKind.FLAPPING_END]
    assert run.notices[1][0] > 44  # ends only after the node has been steady a while


@pytest.mark.parametrize("seed", range(8))
def test_pattern_with_noise_is_still_caught_with_two_notices(world: Config, seed: int) -> None:
    rng = random.Random(seed)
    answers = [a != (rng.random() < 0.1) for a in pattern(44) + [True] * 30]
    run = drive(world, answers)
    assert run.flapping_from is not None
    assert [k for _, k in run.notices] == [NoticeKind.FLAPPING_START, NoticeKind.FLAPPING_END]


@pytest.mark.parametrize("seed", range(8))
def test_noise_alone_never_flaps(world: Config, seed: int) -> None:
    """Single lost pings (5 %) never reach fail_after: no status change, no flapping."""
    rng = random.Random(seed)
    run = drive(world, [rng.random() >= 0.05 for _ in range(120)])
    assert run.flapping_from is None
    assert run.notices == []


def test_one_real_outage_is_not_flapping(world: Config) -> None:
    run = drive(world, [True] * 5 + [False] * 10 + [True] * 20)
    assert run.flapping_from is None
    assert (run.returns, run.restores) == (1, 1)


def test_while_flapping_the_scorer_holds_and_operators_see_flapping(world: Config) -> None:
    table = NodeTable(world)
    answers = pattern(30)
    for index, answered in enumerate(answers):
        now = T0 + ROUND * index
        table.apply(ProbeResult(NODE, "icmp", answered, at=now), now)
    flap = table.flaps()[NODE]
    assert flap.flapping
    views = {v.node: v.status for v in table.node_views()}
    assert views[NODE] == Status.FLAPPING.value

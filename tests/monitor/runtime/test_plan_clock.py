"""When the plan is scored: on a change, an engaged plan, a window boundary, or when stale."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.runtime.plan_clock import PlanClock, active_windows
from tests.paths import PLAN_DATA, ROOT

CST = timezone(timedelta(hours=8))


def cst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CST)  # 2026-03-01 is a Sunday


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target: Path = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def settled(world: Config, now: datetime) -> PlanClock:
    clock = PlanClock(world)
    assert clock.due(now, changed=False, engaged=False)  # never scored yet
    clock.stale = False
    return clock


def test_nothing_changed_nothing_due(world: Config) -> None:
    clock = settled(world, cst(2, 12))
    assert not clock.due(cst(2, 12, 1), changed=False, engaged=False)


def test_a_change_or_an_engaged_plan_is_due(world: Config) -> None:
    clock = settled(world, cst(2, 12))
    assert clock.due(cst(2, 12, 1), changed=True, engaged=False)
    assert clock.due(cst(2, 12, 2), changed=False, engaged=True)


def test_a_failed_scoring_is_retried(world: Config) -> None:
    clock = settled(world, cst(2, 12))
    clock.stale = True
    assert clock.due(cst(2, 12, 1), changed=False, engaged=False)


def test_a_window_boundary_is_due_once(world: Config) -> None:
    # The test plan's node window (ks2-srv) covers 2026-03-01 00:00-06:00 CST.
    assert active_windows(world, cst(1, 3)) != active_windows(world, cst(1, 7))
    clock = settled(world, cst(1, 3))
    assert clock.due(cst(1, 7), changed=False, engaged=False)  # the window ended
    assert not clock.due(cst(1, 7, 1), changed=False, engaged=False)


def test_reconfigure_makes_it_due(world: Config) -> None:
    clock = settled(world, cst(2, 12))
    clock.reconfigure(world)
    assert clock.due(cst(2, 12, 1), changed=False, engaged=False)

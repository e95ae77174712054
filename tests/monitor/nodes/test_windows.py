"""Maintenance windows and guarantee periods (保障期): when active, whom they cover, thresholds."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.config import Config, ConfigError, load_config
from monitor.config.windows import WindowSchedule
from monitor.nodes.state import Thresholds
from monitor.nodes.windows import (
    active_guarantees,
    in_maintenance,
    maintained_nodes,
    thresholds_for,
    window_active,
)
from tests.paths import PLAN_DATA, ROOT

CST = timezone(timedelta(hours=8))


def cst(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CST)  # 2026-03-01 is a Sunday


def make_world(target: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    for name, text in (extra or {}).items():
        path = target / name
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(make_world(tmp_path_factory.mktemp("world") / "config"))


ONE_OFF = WindowSchedule(start=cst(1, 0), end=cst(1, 6))
NAIVE = WindowSchedule(start=datetime(2026, 4, 1, 8), end=datetime(2026, 4, 1, 9))
NIGHTLY = WindowSchedule(weekdays=["sun"], at="23:00:00", duration="3h")
WEEKLY = WindowSchedule(weekdays=["sun"], at="12:00:00", duration="7d")

ACTIVE = [
    ("one-off-start-inclusive", ONE_OFF, cst(1, 0), True),
    ("one-off-inside", ONE_OFF, cst(1, 5, 59), True),
    ("one-off-end-exclusive", ONE_OFF, cst(1, 6), False),
    ("one-off-before", ONE_OFF, cst(1, 0) - timedelta(seconds=1), False),
    ("one-off-utc-now", ONE_OFF, datetime(2026, 2, 28, 17, 0, tzinfo=UTC), True),
    ("one-off-naive-now-is-utc", ONE_OFF, datetime(2026, 2, 28, 21, 0), True),
    ("naive-window-in-its-timezone", NAIVE, cst(1, 8, 30, month=4), True),
    ("naive-window-not-utc", NAIVE, datetime(2026, 4, 1, 8, 30, tzinfo=UTC), False),
    ("recurring-start", NIGHTLY, cst(1, 23), True),
    ("recurring-past-midnight", NIGHTLY, cst(2, 1, 59), True),
    ("recurring-end-exclusive", NIGHTLY, cst(2, 2), False),
    ("recurring-other-day", NIGHTLY, cst(3, 23, 30), False),
    ("recurring-before-start", NIGHTLY, cst(1, 22, 59), False),
    ("week-long-wraps", WEEKLY, cst(8, 11, 59), True),
    ("week-long-ends", WEEKLY, cst(8, 12), True),  # the next occurrence starts then
]


@pytest.mark.parametrize(
    ("window", "now", "expected"), [c[1:] for c in ACTIVE], ids=[c[0] for c in ACTIVE]
)
def test_window_active(window: WindowSchedule, now: datetime, expected: bool) -> None:
    assert window_active(window, now) is expected


COVERED = [
    ("node-one-off", "ks2-srv", cst(1, 3), True),
    ("node-one-off-over", "ks2-srv", cst(1, 7), False),
    ("other-node", "ks3-core", cst(1, 3), False),
    ("system-recurring", "opc-site-1", cst(3, 2, 30), True),
    ("system-recurring-root", "opc-ring", cst(3, 3, 59), True),
    ("system-recurring-not-child-of-other-system", "ks5-n1", cst(3, 2, 30), False),
    ("street-crossing-midnight", "ks4-n1", cst(2, 1), True),
    ("street-other-node", "ks4-n2", cst(2, 1), False),
    ("naive-one-off-local", "ks3-core", cst(1, 8, 15, month=4), True),
    ("unknown-node", "nope", cst(1, 3), False),
]


@pytest.mark.parametrize(
    ("node", "now", "expected"), [c[1:] for c in COVERED], ids=[c[0] for c in COVERED]
)
def test_in_maintenance(world: Config, node: str, now: datetime, expected: bool) -> None:
    assert in_maintenance(world, node, now) is expected
    assert (node in maintained_nodes(world, now)) is expected


DEFAULTS = Thresholds(
    fail_after=3, recover_after=2, degraded_loss=0.2, degraded_rtt=timedelta(milliseconds=200)
)
GUARANTEED = Thresholds(
    fail_after=1, recover_after=4, degraded_loss=0.05, degraded_rtt=timedelta(milliseconds=100)
)
# fmt: off
THRESHOLDS = [
    ("outside-any-period", "ks1-gw", cst(2, 12), DEFAULTS),
    ("guarantee-period", "ks1-gw", cst(3, 12), GUARANTEED),
    ("other-system-unchanged", "ks2-srv", cst(3, 12), DEFAULTS),
    ("two-periods-strictest-wins", "opa-core", cst(3, 10),
     Thresholds(fail_after=1, recover_after=4, degraded_loss=0.05,
                degraded_rtt=timedelta(milliseconds=50))),
    ("recurring-only", "opa-agg-1", cst(10, 10),
     Thresholds(fail_after=2, recover_after=2, degraded_loss=0.2,
                degraded_rtt=timedelta(milliseconds=50))),
    ("period-over", "opa-core", cst(5, 18), DEFAULTS),
    ("unknown-node", "nope", cst(3, 12), Thresholds()),
]
# fmt: on


@pytest.mark.parametrize(
    ("node", "now", "expected"), [c[1:] for c in THRESHOLDS], ids=[c[0] for c in THRESHOLDS]
)
def test_thresholds_for(world: Config, node: str, now: datetime, expected: Thresholds) -> None:
    assert thresholds_for(world, node, now) == expected


def test_active_guarantees_by_system(world: Config) -> None:
    assert [g.name for g in active_guarantees(world, cst(3, 10))] == ["区两会", "周二调度会"]
    assert [g.name for g in active_guarantees(world, cst(3, 10), ["ks1"])] == ["区两会"]
    assert active_guarantees(world, cst(3, 10), ["ks2"]) == []


# fmt: off
INVALID = [
    ("bad-timezone", "nodes.toml",
     '[[maintenance]]\nname = "x"\nnodes = ["ks2-srv"]\nweekdays = ["mon"]\nat = 01:00:00\n'
     'duration = "1h"\ntimezone = "Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
    ("maintenance-without-scope", "nodes.toml",
     '[[maintenance]]\nname = "x"\nweekdays = ["mon"]\nat = 01:00:00\nduration = "1h"',
     "names at least one of nodes, systems, streets"),
    ("guarantee-unknown-system", "plan.toml",
     '[[guarantee]]\nname = "y"\nsystems = ["nope"]\nweekdays = ["mon"]\nat = 01:00:00\n'
     'duration = "1h"', "unknown system 'nope'"),
    ("zero-spread-window", "plan.toml", "", "the spread window must be longer than 0s"),
]
# fmt: on


@pytest.mark.parametrize(
    ("file", "text", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_windows_are_config_errors(
    tmp_path: Path, file: str, text: str, message: str
) -> None:
    target = make_world(tmp_path / "config", {file: text})
    if not text:
        plan = (target / "plan.toml").read_text(encoding="utf-8")
        (target / "plan.toml").write_text(plan.replace('window = "15m"', 'window = "0s"'))
    with pytest.raises(ConfigError) as caught:
        load_config(target)
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems

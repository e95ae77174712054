"""The plan loop's judgement on a real SQLite store: partial, blind, flapping — metrics and rows."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from monitor.config import Config, load_config
from monitor.incidents.tables import incidents, notice_requests
from monitor.nodes.state import Status
from monitor.nodes.table import NodeTable
from monitor.runtime.plan_loop import PlanRuntime
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade
from probes.base import ProbeResult
from tests.paths import PLAN_DATA, ROOT

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # a Monday: no window of the test district


class Pump:
    """A notice pump that only counts nudges (dispatch is tested on its own)."""

    def __init__(self) -> None:
        self.nudges = 0

    def start(self) -> None: ...

    def nudge(self) -> None:
        self.nudges += 1

    def reconfigure(self, config: Config) -> None: ...

    async def stop(self, drain_timeout: float) -> None: ...


@pytest.fixture
def world(tmp_path: Path) -> Config:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    config = load_config(target)
    monitor = config.daemon.self_monitor.model_copy(
        update={"uplink_nodes": ["ks5-n4"], "detect_gateway": False}
    )
    return dataclasses.replace(
        config, daemon=config.daemon.model_copy(update={"self_monitor": monitor})
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'cw.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def metric(plan: PlanRuntime, name: str) -> float:
    for family in plan.metric_families():
        if family.name == name:
            return float(family.samples[0].value)
    raise AssertionError(name)


def kinds(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [
            r.kind for r in conn.execute(select(notice_requests).order_by(notice_requests.c.id))
        ]


def opened(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(incidents)).all())


def test_partial_is_a_metric_and_a_notice_never_an_incident(world: Config, engine: Engine) -> None:
    plan = PlanRuntime(world, engine, Pump())
    statuses = {n: Status.UP for n in world.nodes} | {"opa-agg-1": Status.DOWN}
    asyncio.run(plan.evaluate(statuses, {}, T0))
    assert metric(plan, "commwatch_partial_systems") == 1.0
    assert metric(plan, "commwatch_scenario") == 0.0
    assert kinds(engine) == ["partial"]
    assert opened(engine) == 0


def test_blind_round_scores_nothing_and_opens_nothing(world: Config, engine: Engine) -> None:
    """The daemon's order: uplink check, blindness, results, then the plan."""
    plan, table = PlanRuntime(world, engine, Pump()), NodeTable(world)
    watch = plan.self_monitor
    for i in range(4):
        now = T0 + timedelta(seconds=30 * i)
        results = [ProbeResult(n, "icmp", n != "ks2-srv" or i == 0, at=now) for n in world.nodes]
        table.note(results, now)
        table.blind = watch.judge(table, {"ks5-n4": i < 2}, now)  # the uplink fails at round 2
        for result in results:
            table.apply(result, now)
        watch.settle(table)
        asyncio.run(plan.evaluate(table.statuses(), table.flaps(), now))
    assert metric(plan, "commwatch_monitor_blind") == 1.0
    assert metric(plan, "commwatch_uplink_ok") == 0.0
    assert metric(plan, "commwatch_scenario") == 0.0
    assert plan.assessment.monitor_blind
    assert table.statuses()["ks2-srv"] is Status.UNKNOWN
    assert opened(engine) == 0
    assert kinds(engine) == ["monitor_blind"]

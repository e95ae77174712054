"""The daemon's side of the scorer: situation overlays, maintenance left out, spread history."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest

from monitor.config import Config, load_config
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from monitor.plan.situation import score_round, situation
from monitor.plan.spread import SpreadHistory
from tests.paths import PLAN_DATA, ROOT

CST = timezone(timedelta(hours=8))
U, D, R = Status.UP, Status.DOWN, Status.UNREACHABLE


def cst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CST)  # 2026-03-01 is a Sunday


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def raw(world: Config, *down: str) -> dict[str, Status]:
    """Live raw statuses: the listed nodes fail, every other node answers."""
    return {n: D if n in down else U for n in world.nodes}


# id (clause), down, now, scenario, operators, key systems, nodes left out
# fmt: off
MAINTENANCE: list[tuple[str, list[str], datetime, int | None, list[str], list[str], list[str]]] = [
    ("node-window-active-3.3", ["ks2-srv"], cst(1, 3), None, [], [], ["ks2-srv"]),
    ("node-window-over-still-down-3.3(3)", ["ks2-srv"], cst(1, 7), 3, [], ["ks2"], []),
    ("another-outage-too-3.3(3)", ["ks2-srv", "ks3-core"], cst(1, 3), 3, [], ["ks3"], ["ks2-srv"]),
    ("parent-in-window-leaves-children-out", ["opc-ring", "opc-site-1", "ks5-n1"], cst(3, 3), None, [], [], ["ks5-n1", "opc-ring", "opc-site-1"]),
    ("parent-window-over-3.3(3)", ["opc-ring", "opc-site-1", "ks5-n1"], cst(3, 4), 3, ["opc"], ["ks5"], []),
    ("street-window-node-alone", ["ks4-n1"], cst(2, 1), None, [], [], ["ks4-n1"]),
    ("street-window-others-all-down-3.3(3)", ["ks4-n2", "ks4-n3", "ks4-n4"], cst(2, 1), 3, [], ["ks4"], ["ks4-n1"]),
    ("real-outage-beside-a-window-4.3.2(1)", ["opa-core", "opb-core", "opc-ring"], cst(3, 3), 3, ["opa", "opb"], [], ["opc-ring", "opc-site-1"]),
    ("same-outage-without-window-3.3(2)", ["opa-core", "opb-core", "opc-ring"], cst(3, 5), 2, ["opa", "opb", "opc"], [], []),
    ("no-window-3.3(3)", ["ks2-srv"], cst(2, 12), 3, [], ["ks2"], []),
]
# fmt: on


@pytest.mark.parametrize(
    ("down", "now", "scenario", "operators", "key_systems", "left_out"),
    [c[1:] for c in MAINTENANCE],
    ids=[c[0] for c in MAINTENANCE],
)
def test_maintenance_is_neither_down_nor_up(
    world: Config,
    down: list[str],
    now: datetime,
    scenario: int | None,
    operators: list[str],
    key_systems: list[str],
    left_out: list[str],
) -> None:
    result = score_round(world, raw(world, *down), {}, SpreadHistory(world), now)
    assert result.assessment.scenario == scenario
    assert list(result.assessment.operator_networks) == operators
    assert list(result.assessment.key_systems) == key_systems
    assert list(result.assessment.left_out) == left_out
    assert not set(left_out) & set(result.assessment.partial_systems)


def test_maintenance_reasons_list_what_was_left_out_and_why(world: Config) -> None:
    statuses = raw(world, "opa-core", "opb-core", "opc-ring", "opc-site-1", "ks5-n1")
    inside = score_round(world, statuses, {}, SpreadHistory(world), cst(3, 3))
    assert inside.situation.shown["opc-ring"] is Status.MAINTENANCE
    line = next(r for r in inside.assessment.reasons if r.startswith("以下节点不计入研判"))
    assert "铁塔传输环（opc-ring）（当前DOWN，维护窗口“铁塔例行维护”）" in line
    assert "门户节点1（ks5-n1）（当前UNREACHABLE，维护窗口“铁塔例行维护”）" not in line
    assert "门户节点1（ks5-n1）（当前UNREACHABLE，上级节点铁塔传输环处于维护中而不可达）" in line
    assert inside.assessment.level == "II"


def test_window_lifecycle_opens_at_window_end_and_resolves_inside_one(world: Config) -> None:
    """A toy incident engine: open on an affected Assessment, resolve when nothing is."""
    open_at: list[datetime] = []
    resolved_at: list[datetime] = []
    history = SpreadHistory(world)
    incident: Assessment | None = None
    timeline = [
        (cst(1, 2), ["ks2-srv"]),
        (cst(1, 5), ["ks2-srv"]),
        (cst(1, 6), ["ks2-srv"]),
        (cst(1, 6, 30), ["ks2-srv"]),
        (cst(1, 7), []),
        (cst(1, 8), ["ks2-srv"]),
    ]
    for now, down in timeline:
        result = score_round(world, raw(world, *down), {}, history, now)
        if incident is None and result.assessment.affected:
            incident = result.assessment
            open_at.append(now)
        elif incident is not None and not result.assessment.affected:
            incident = None
            resolved_at.append(now)
    assert open_at == [cst(1, 6), cst(1, 8)]
    assert resolved_at == [cst(1, 7)]


def test_a_window_takes_its_node_out_of_an_outage_already_seen(world: Config) -> None:
    history = SpreadHistory(world)
    opened = score_round(world, raw(world, "opc-ring"), {}, history, cst(3, 1, 50))
    assert opened.assessment.operator_networks == ("opc",)
    inside = score_round(world, raw(world, "opc-ring"), {}, history, cst(3, 2, 10))
    assert not inside.assessment.affected  # neither down nor up: left out
    assert "opc-ring" in inside.assessment.left_out
    after = score_round(world, raw(world, "opc-ring"), {}, history, cst(3, 4, 10))
    assert after.assessment.operator_networks == ("opc",)


def test_flapping_node_is_held_for_the_scorer_and_shown_as_flapping(world: Config) -> None:
    flaps = {
        "ks2-srv": FlapState(flapping=True, held=U),
        "ks3-core": FlapState(flapping=True, held=D),
    }
    current = situation(world, raw(world, "ks2-srv"), flaps, cst(2, 12))
    assert current.scored["ks2-srv"] is U
    assert current.scored["ks3-core"] is D
    assert current.shown["ks2-srv"] is Status.FLAPPING
    assert current.shown["ks3-core"] is Status.FLAPPING
    result = score_round(world, raw(world, "ks2-srv"), flaps, SpreadHistory(world), cst(2, 12))
    assert result.assessment.key_systems == ("ks3",)


def test_flapping_parent_holds_its_children(world: Config) -> None:
    flaps = {"opc-ring": FlapState(flapping=True, held=D)}
    current = situation(world, raw(world, "opc-site-1"), flaps, cst(2, 12))
    assert current.scored["opc-site-1"] is R
    assert current.shown["opc-site-1"] is D  # really: the ring answers, the site does not


def history_walk(world: Config, steps: list[tuple[int, list[str]]]) -> list[Assessment]:
    history, seen = SpreadHistory(world), []
    for minute, down in steps:
        now = cst(2, 12) + timedelta(minutes=minute)
        seen.append(score_round(world, raw(world, *down), {}, history, now).assessment)
    return seen


def test_growth_within_the_window_is_spread(world: Config) -> None:
    walk = history_walk(
        world,
        [
            (0, []),
            (5, ["ks2-srv"]),
            (10, ["ks2-srv", "ks3-core"]),
            (21, ["ks2-srv", "ks3-core"]),
            (26, ["ks2-srv", "ks3-core"]),
        ],
    )
    assert [(a.scenario, a.spread) for a in walk] == [
        (None, False),
        (3, False),
        (2, True),
        (2, True),
        (3, False),
    ]
    assert "15分钟内受影响系统由1增至2" in walk[2].reasons[0]


def test_growth_after_the_outage_began_before_the_window(world: Config) -> None:
    walk = history_walk(world, [(0, ["ks2-srv"]), (20, ["ks2-srv"]), (30, ["ks2-srv", "ks3-core"])])
    assert [a.spread for a in walk] == [False, False, True]


def test_smallest_non_empty_set_in_the_window_is_the_baseline(world: Config) -> None:
    walk = history_walk(
        world,
        [(0, ["ks2-srv", "ks3-core"]), (3, ["ks2-srv"]), (6, ["ks2-srv", "ks3-core"])],
    )
    assert [a.spread for a in walk] == [False, False, True]


def test_history_keeps_only_changes_and_the_window(world: Config) -> None:
    history = SpreadHistory(world)
    for minute in range(0, 60, 1):
        down = ["ks2-srv"] if 10 <= minute < 20 else []
        history.record(cst(2, 12) + timedelta(minutes=minute), raw(world, *down))
    assert [s.affected for s in history.snapshots] == [frozenset()]
    assert history.earlier(cst(2, 12, 59)) == {}


def test_reconfigure_rejudges_the_snapshots(world: Config) -> None:
    history = SpreadHistory(world)
    history.record(cst(2, 12), raw(world, "ks4-n1"))
    assert history.snapshots[0].affected == frozenset()  # 1 of 4: partial
    systems = world.inventory.model_copy(
        update={
            "system": [
                s.model_copy(update={"affected_share": 0.25}) if s.id == "ks4" else s
                for s in world.inventory.system
            ]
        }
    )
    stricter = Config(world.directory, world.daemon, world.plan, world.contacts, systems)
    history.reconfigure(stricter)
    assert history.snapshots[0].affected == frozenset({"ks4"})


def test_guarantee_period_is_named_in_the_reasons(world: Config) -> None:
    """§3.1.2 (4) 保障期: the reasons say which period is in force and how strict it is."""
    result = score_round(world, raw(world, "opa-core"), {}, SpreadHistory(world), cst(3, 10))
    assert (
        "保障期“区两会”生效中（§3.1.2 (4)、§6.3）：区电子政务外网、移动城区分公司网络按更严格阈值"
        "判定（连续1轮失败即判中断，丢包率5%以上即判劣化，时延超过100ms即判劣化，"
        "连续4轮正常才判恢复）" in result.assessment.reasons
    )
    assert any(r.startswith("保障期“周二调度会”生效中") for r in result.assessment.reasons)
    quiet = score_round(world, raw(world, "opa-core"), {}, SpreadHistory(world), cst(6, 10))
    assert not any(r.startswith("保障期") for r in quiet.assessment.reasons)

"""The scorer walks the plan's cases (§3.3, §4.3, §7.1) on a small test district.

The district (tests/data/plan/nodes.toml): operators opa, opb, opc; key systems
ks1 (priority, dual-homed on opa-core/opb-core), ks2, ks3 (priority), ks4 (4
non-critical nodes in 4 streets), ks5 (own affected_share 0.25, ks5-n1 behind
opc-ring). 8 systems. plan.toml: the shipped rules (全部业务 read literally,
affected_share 1.0) plus a reach of 4 streets as spread (min_streets = 4).
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.nodes.state import Status
from monitor.nodes.topology import what_if
from monitor.plan.scorer import affected_systems, assess, scenario_of
from tests.paths import PLAN_DATA, ROOT

CONTRACT_KEYS = [
    "scenario",
    "level",
    "operator_networks",
    "key_systems",
    "streets",
    "spread",
    "reasons",
    "partial_systems",
    "monitor_blind",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def with_plan(config: Config, **sections: dict[str, Any]) -> Config:
    """The config with some plan.toml keys changed, e.g. spread={"min_streets": 0}."""
    plan = config.plan
    for section, values in sections.items():
        plan = plan.model_copy(update={section: getattr(plan, section).model_copy(update=values)})
    return dataclasses.replace(config, plan=plan)


ALL_BUT_KS3 = [
    "opa-core",
    "opb-core",
    "opc-ring",
    "ks2-srv",
    "ks4-n1",
    "ks4-n2",
    "ks4-n3",
    "ks4-n4",
]
KS4 = ["ks4-n1", "ks4-n2", "ks4-n3", "ks4-n4"]
NO_SPREAD = {"spread": {"growth": False, "min_streets": 0}}
OPERATOR_LIMIT_1 = {"scenario": {"max_operators_without_spread": 1}}

# id (clause), down now, down at the window start, plan changes, scenario, level, operators,
# key systems, spread
# fmt: off
CASES: list[tuple[str, list[str], list[str], dict[str, dict[str, Any]], int | None, str | None, list[str], list[str], bool]] = [
    ("nothing-down-3.3", [], [], {}, None, None, [], [], False),
    ("one-key-system-3.3(3)-4.3.2", ["ks2-srv"], [], {}, 3, "II", [], ["ks2"], False),
    ("exactly-2-key-systems-no-spread-3.3(3)", ["ks2-srv", "ks3-core"], [], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("exactly-2-key-systems-with-spread-3.3(2)-7.1", ["ks2-srv", "ks3-core"], ["ks2-srv"], {}, 2, "I", [], ["ks2", "ks3"], True),
    ("fresh-outage-is-not-growth-3.3(3)", ["ks2-srv", "ks3-core"], [], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("shift-is-not-growth-3.3(3)", ["ks2-srv", "ks3-core"], [*KS4, "ks5-n2"], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("3-key-systems-without-spread-3.3(2)", ["ks2-srv", "ks3-core", "ks5-n2"], [], {}, 2, "I", [], ["ks2", "ks3", "ks5"], False),
    ("1-key-system-with-spread-stays-3.3(3)", KS4, [], {}, 3, "II", [], ["ks4"], True),
    ("one-operator-3.3(3)-4.3.2", ["opb-core"], [], {}, 3, "II", ["opb"], [], False),
    ("one-operator-and-one-key-system-4.3.2", ["opb-core", "ks2-srv"], [], {}, 3, "II", ["opb"], ["ks2"], False),
    ("one-operator-and-two-key-systems-4.3.2", ["opb-core", "ks2-srv", "ks3-core"], [], {}, 3, "II", ["opb"], ["ks2", "ks3"], False),
    ("one-operator-with-growth-3.3(2)", ["opb-core", "ks2-srv"], ["ks2-srv"], {}, 2, "I", ["opb"], ["ks2"], True),
    ("one-operator-reaching-4-streets-3.3(2)-7.1", ["opa-core", *KS4], [], {}, 2, "I", ["opa"], ["ks4"], True),
    ("streets-rule-off-3.3(3)", ["opa-core", *KS4], [], {"spread": {"min_streets": 0}}, 3, "II", ["opa"], ["ks4"], False),
    ("audit-two-operators-without-spread-4.3.2(1)", ["opb-core", "opc-ring"], [], {}, 3, "II", ["opb", "opc"], ["ks5"], False),
    ("two-operators-3-streets-4.3.2(1)", ["opa-core", "opb-core"], [], {}, 3, "II", ["opa", "opb"], ["ks1"], False),
    ("two-operators-when-1-is-the-limit-3.3(3)", ["opb-core", "opc-ring"], [], OPERATOR_LIMIT_1, 2, "I", ["opb", "opc"], ["ks5"], False),
    ("all-operators-3.3(2)", ["opa-core", "opb-core", "opc-ring"], [], NO_SPREAD, 2, "I", ["opa", "opb", "opc"], ["ks1", "ks5"], False),
    ("all-systems-3.3(1)", [*ALL_BUT_KS3, "ks3-core"], [], {}, 1, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks3", "ks4", "ks5"], True),
    ("all-systems-without-spread-3.3(1)", [*ALL_BUT_KS3, "ks3-core"], [], NO_SPREAD, 1, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks3", "ks4", "ks5"], False),
    ("7-of-8-is-not-all-3.3(1)", ALL_BUT_KS3, [], {}, 2, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks4", "ks5"], True),
    ("one-node-of-4-is-partial-3.3", ["ks4-n1"], [], {}, None, None, [], [], False),
    ("3-of-4-is-partial-3.3", KS4[:3], [], {}, None, None, [], [], False),
    ("partial-operator-3.3", ["opa-agg-1", "opa-agg-2"], [], {}, None, None, [], [], False),
    ("two-partial-operators-3.3", ["opa-agg-1", "opa-agg-2", "opb-agg-1"], [], {}, None, None, [], [], False),
    ("non-critical-node-of-2-is-partial-3.3", ["ks1-web"], [], {}, None, None, [], [], False),
    ("system-own-share-7.1", ["ks5-n2"], [], {}, 3, "II", [], ["ks5"], False),
    ("share-below-1-from-plan-7.1", KS4[:2], [], {"systems": {"affected_share": 0.5}}, 3, "II", [], ["ks4"], False),
    ("redundant-parent-one-down-3.3(3)", ["opa-core"], [], {}, 3, "II", ["opa"], [], False),
    ("parent-outage-affects-child-system-3.3(3)", ["opc-ring"], [], {}, 3, "II", ["opc"], ["ks5"], False),
]
# fmt: on


@pytest.mark.parametrize(
    ("down", "earlier", "plan", "scenario", "level", "operators", "key_systems", "spread"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_plan_cases(
    world: Config,
    down: list[str],
    earlier: list[str],
    plan: dict[str, dict[str, Any]],
    scenario: int | None,
    level: str | None,
    operators: list[str],
    key_systems: list[str],
    spread: bool,
) -> None:
    config = with_plan(world, **plan)
    before = what_if(config, earlier) if earlier else None
    result = assess(config, what_if(config, down), before).to_json()
    assert list(result) == CONTRACT_KEYS
    assert (result["scenario"], result["level"]) == (scenario, level)
    assert result["operator_networks"] == operators
    assert result["key_systems"] == key_systems
    assert result["spread"] is spread
    assert result["reasons"]
    assert result["monitor_blind"] is False
    if scenario is not None:
        assert f"（§3.3 情形{scenario}）" in result["reasons"][0]
        assert result["reasons"][-1].endswith("（§4.3.1）" if level == "I" else "（§4.3.2）")


def test_parent_outage_children_count_but_are_not_causes(world: Config) -> None:
    result = assess(world, what_if(world, ["opc-ring", "opc-site-1"]))
    assert result.nodes_down == ("opc-ring",)
    assert result.nodes_unreachable == ("ks5-n1", "opc-site-1")
    assert result.key_systems == ("ks5",)
    assert result.streets == ("开发区街道办事处",)
    assert any("不单独计为事故原因" in r for r in result.reasons)


def test_live_reading_keeps_answering_children(world: Config) -> None:
    raw = {node: Status.UP for node in world.nodes} | {"opc-ring": Status.DOWN}
    raw["opc-site-1"] = Status.DOWN
    result = assess(world, raw)
    assert result.nodes_down == ("opc-ring",)
    assert result.nodes_unreachable == ("opc-site-1",)
    assert result.key_systems == ()  # ks5-n1 still answers


def test_input_order_does_not_matter(world: Config) -> None:
    statuses = what_if(world, ["opa-core", "opb-core", "ks4-n1", "ks4-n2"])
    reference = assess(world, statuses)
    rng = random.Random(4)
    for _ in range(20):
        items = list(statuses.items())
        rng.shuffle(items)
        assert assess(world, dict(items)) == reference


PARTIAL: list[tuple[str, list[str], list[str], str]] = [
    ("operator-aggregations", ["opa-agg-1", "opa-agg-2"], ["opa"], "2/3个节点中断或不可达"),
    ("two-operators", ["opa-agg-1", "opa-agg-2", "opb-agg-1"], ["opa", "opb"], "1/2个节点"),
    ("key-system-web", ["ks1-web"], ["ks1"], "【优先保障单位，§6.3】重要信息系统区电子政务外网"),
    ("beside-a-scenario", ["ks2-srv", "ks4-n1"], ["ks4"], "1/4个节点中断或不可达"),
]


@pytest.mark.parametrize(
    ("down", "partial", "phrase"), [c[1:] for c in PARTIAL], ids=[c[0] for c in PARTIAL]
)
def test_partial_business_is_shown_never_a_scenario_by_itself(
    world: Config, down: list[str], partial: list[str], phrase: str
) -> None:
    """§3.3 speaks of 全部业务: less than that is 部分业务受影响, listed but not counted."""
    result = assess(world, what_if(world, down))
    assert list(result.partial_systems) == partial
    assert not set(partial) & set(result.operator_networks + result.key_systems)
    lines = [r for r in result.reasons if "部分业务受影响" in r]
    assert len(lines) == len(partial)
    assert any(phrase in line for line in lines), lines
    assert all("不单独构成预警情形（§3.3）" in line for line in lines)


def test_own_share_below_1_is_quoted(world: Config) -> None:
    """§7.1: a system's own affected_share is reached at or above it, and the reason quotes it."""
    result = assess(world, what_if(world, ["ks5-n2"]))
    assert any("1/4个节点中断或不可达，达到本系统设定的25%以上" in r for r in result.reasons)


def test_two_operators_without_spread_name_both_clauses(world: Config) -> None:
    """The audit's case: §3.3 情形3 names 1家, §4.3.2 ① 1至2家; the reason says which decided."""
    result = assess(world, what_if(world, ["opb-core", "opc-ring"]))
    assert (result.scenario, result.level, result.spread) == (3, "II", False)
    line = next(r for r in result.reasons if "符合预警情形3" in r)
    assert "§3.3 情形3列“1家基础运营网络”" in line
    assert "§4.3.2 ①列“1至2家基础运营网络" in line
    assert not any("有扩散性" in r for r in result.reasons)


def test_operator_limit_1_names_the_difference(world: Config) -> None:
    config = with_plan(world, **OPERATOR_LIMIT_1)
    result = assess(config, what_if(config, ["opb-core", "opc-ring"]))
    assert any("取§3.3 情形3的“1家基础运营网络”" in r for r in result.reasons)


def test_all_systems_cite_3_3_1(world: Config) -> None:
    result = assess(world, what_if(world, [*ALL_BUT_KS3, "ks3-core"]))
    assert any("全部3家基础运营网络和全部5家重要信息系统" in r for r in result.reasons)


def test_streets_growth_is_spread(world: Config) -> None:
    """Growth of the streets an affected system's outage reaches within the window (§3.3)."""
    config = with_plan(world, systems={"affected_share": 0.5}, spread={"min_streets": 0})
    result = assess(config, what_if(config, KS4[:3]), what_if(config, KS4[:2]))
    assert result.spread is True
    assert "15分钟内涉及镇（街道）由2个增至3个" in result.reasons[0]
    assert result.scenario == 3  # one key system with spread: 情形2 needs 2家以上


def test_growth_reason_cites_window_counts_and_clause(world: Config) -> None:
    result = assess(
        world, what_if(world, ["opb-core", "ks2-srv", "ks3-core"]), what_if(world, ["ks2-srv"])
    )
    assert result.scenario == 2
    assert "15分钟内受影响系统由1增至3，有扩散性（§3.3 情形2）" in result.reasons[0]
    assert result.reasons[-1] == "建议启动Ⅰ级应急响应，由总指挥启动并组织（§4.3.1）"


def test_three_key_systems_cite_7_1(world: Config) -> None:
    result = assess(world, what_if(world, ["ks2-srv", "ks3-core", "ks5-n2"]))
    assert any("“2家以上”（§7.1“以上”含本数）" in r and "情形2" in r for r in result.reasons)


def test_priority_systems_come_first_in_reasons(world: Config) -> None:
    result = assess(world, what_if(world, ["opb-core", "ks2-srv", "ks3-core"]))
    assert result.reasons[0].startswith(
        "区公安分局视频专网、联通城区分公司网络、区融媒体中心播出系统"
    )
    system_lines = [r for r in result.reasons if "全部业务受影响" in r]
    assert system_lines[0].startswith("【优先保障单位，§6.3】重要信息系统区公安分局视频专网")
    assert result.key_systems == ("ks2", "ks3")  # the JSON lists stay sorted by id


def test_unaffected_outage_explains_itself(world: Config) -> None:
    result = assess(world, what_if(world, ["ks4-n1"]))
    assert not result.affected
    assert result.nodes_down == ("ks4-n1",)
    assert result.streets == ("北石店镇人民政府",)
    assert result.reasons[-1] == "没有网络或系统的全部业务受影响，不构成预警情形（§3.3）"


def test_nothing_down_has_a_reason(world: Config) -> None:
    assert assess(world, {}).reasons == (
        "未发现中断或不可达的节点，无受影响的网络和系统，不构成预警情形（§3.3）",
    )


def test_flapping_and_maintenance_do_not_count_as_out(world: Config) -> None:
    statuses = {"ks2-srv": Status.FLAPPING, "ks3-core": Status.MAINTENANCE}
    assert affected_systems(world, statuses) == frozenset()


# operators, key systems, spread → scenario (3 operators, 5 key systems in the district)
BOUNDARIES = [
    ("none", 0, 0, True, None),
    ("1op-3.3(3)", 1, 0, False, 3),
    ("2ks-3.3(3)", 0, 2, False, 3),
    ("2ks-spread-3.3(2)-7.1", 0, 2, True, 2),
    ("1ks-spread-3.3(3)", 0, 1, True, 3),
    ("1op-2ks-4.3.2(1)", 1, 2, False, 3),
    ("1op-spread-3.3(2)", 1, 0, True, 2),
    ("2op-4.3.2(1)", 2, 0, False, 3),
    ("2op-2ks-4.3.2(1)", 2, 2, False, 3),
    ("3op-all-operators-3.3(2)", 3, 0, False, 2),
    ("3ks-3.3(2)", 0, 3, False, 2),
    ("all-3.3(1)", 3, 5, False, 1),
    ("7of8-spread-3.3(2)", 3, 4, True, 2),
    ("7of8-other-3.3(2)", 2, 5, True, 2),
]


@pytest.mark.parametrize(
    ("operators", "key_systems", "spread", "expected"),
    [b[1:] for b in BOUNDARIES],
    ids=[b[0] for b in BOUNDARIES],
)
def test_scenario_boundaries(
    world: Config, operators: int, key_systems: int, spread: bool, expected: int | None
) -> None:
    assert scenario_of(world, operators, key_systems, spread) == expected


def test_an_inventory_without_operator_networks_never_reaches_scenario_1(world: Config) -> None:
    """§3.3 (1) "所有网络和重要信息系统": networks and systems; key systems alone are not all."""
    systems = [s for s in world.inventory.system if s.id == "ks2"]
    nodes = [n for n in world.inventory.node if n.system == "ks2"]
    inventory = world.inventory.model_copy(update={"system": systems, "node": nodes})
    lone = Config(world.directory, world.daemon, world.plan, world.contacts, inventory)
    result = assess(lone, what_if(lone, ["ks2-srv"]))
    assert (result.scenario, result.level) == (3, "II")

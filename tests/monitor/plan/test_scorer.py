"""The scorer walks the plan's cases (§3.3, §4.3, §7.1) on a small test district.

The district (tests/data/plan/nodes.toml): operators opa, opb, opc; key systems
ks1 (priority, dual-homed on opa-core/opb-core), ks2, ks3 (priority), ks4 (4
non-critical nodes in 4 streets, share 0.5), ks5 (share 0.25, ks5-n1 behind
opc-ring). 8 systems; all_share 0.85 (7 of 8).
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


ALL_BUT_KS3 = ["opa-core", "opb-core", "opc-ring", "ks2-srv", "ks4-n1", "ks4-n2"]
NO_SPREAD = {"spread": {"growth": False, "min_streets": 0, "multiple_operators": False}}

# id, down now, down at the window start, plan changes, scenario, level, operators, key systems, spread
# fmt: off
CASES: list[tuple[str, list[str], list[str], dict[str, dict[str, Any]], int | None, str | None, list[str], list[str], bool]] = [
    ("nothing-down", [], [], {}, None, None, [], [], False),
    ("one-key-system", ["ks2-srv"], [], {}, 3, "II", [], ["ks2"], False),
    ("exactly-2-key-systems-no-spread", ["ks2-srv", "ks3-core"], [], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("exactly-2-key-systems-with-spread", ["ks2-srv", "ks3-core"], ["ks2-srv"], {}, 2, "I", [], ["ks2", "ks3"], True),
    ("fresh-outage-is-not-growth", ["ks2-srv", "ks3-core"], [], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("shift-is-not-growth", ["ks2-srv", "ks3-core"], ["ks4-n1", "ks4-n2", "ks5-n2"], {}, 3, "II", [], ["ks2", "ks3"], False),
    ("3-key-systems-without-spread", ["ks2-srv", "ks3-core", "ks5-n2"], [], {}, 2, "I", [], ["ks2", "ks3", "ks5"], False),
    ("1-key-system-with-spread-stays-3", ["ks4-n1", "ks4-n2", "ks4-n3", "ks4-n4"], [], {}, 3, "II", [], ["ks4"], True),
    ("one-operator", ["opb-core"], [], {}, 3, "II", ["opb"], [], False),
    ("one-operator-and-one-key-system", ["opb-core", "ks2-srv"], [], {}, 3, "II", ["opb"], ["ks2"], False),
    ("one-operator-and-two-key-systems", ["opb-core", "ks2-srv", "ks3-core"], [], {}, 3, "II", ["opb"], ["ks2", "ks3"], False),
    ("one-operator-with-growth", ["opb-core", "ks2-srv"], ["ks2-srv"], {}, 2, "I", ["opb"], ["ks2"], True),
    ("one-operator-reaching-4-streets", ["opa-core", "ks4-n1", "ks4-n2"], [], {}, 2, "I", ["opa"], ["ks4"], True),
    ("streets-rule-off", ["opa-core", "ks4-n1", "ks4-n2"], [], {"spread": {"min_streets": 0}}, 3, "II", ["opa"], ["ks4"], False),
    ("two-operators", ["opa-core", "opb-core"], [], {}, 2, "I", ["opa", "opb"], ["ks1"], True),
    ("two-operators-spread-rules-off", ["opa-core", "opc-ring"], [], NO_SPREAD, 2, "I", ["opa", "opc"], ["ks5"], False),
    ("two-operators-when-3-are-needed", ["opa-core", "opc-ring"], [], {**NO_SPREAD, "scenario": {"operators_for_scenario2": 3}}, 3, "II", ["opa", "opc"], ["ks5"], False),
    ("all-systems-with-spread", [*ALL_BUT_KS3, "ks3-core"], [], {}, 1, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks3", "ks4", "ks5"], True),
    ("7-of-8-is-close-to-all", ALL_BUT_KS3, [], {}, 1, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks4", "ks5"], True),
    ("6-of-8-is-not", ALL_BUT_KS3[:-2], [], {}, 2, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks5"], True),
    ("all-systems-without-spread-is-2", [*ALL_BUT_KS3, "ks3-core"], [], NO_SPREAD, 2, "I", ["opa", "opb", "opc"], ["ks1", "ks2", "ks3", "ks4", "ks5"], False),
    ("share-below-threshold", ["ks4-n1"], [], {}, None, None, [], [], False),
    ("share-at-threshold-counts", ["ks4-n1", "ks4-n2"], [], {}, 3, "II", [], ["ks4"], False),
    ("system-own-share", ["ks5-n2"], [], {}, 3, "II", [], ["ks5"], False),
    ("non-critical-node-of-2", ["ks1-web"], [], {}, 3, "II", [], ["ks1"], False),
    ("redundant-parent-one-down", ["opa-core"], [], {}, 3, "II", ["opa"], [], False),
    ("parent-outage-affects-child-system", ["opc-ring"], [], {}, 3, "II", ["opc"], ["ks5"], False),
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


def test_growth_reason_cites_window_counts_and_clause(world: Config) -> None:
    result = assess(
        world, what_if(world, ["opb-core", "ks2-srv", "ks3-core"]), what_if(world, ["ks2-srv"])
    )
    assert result.scenario == 2
    assert "15分钟内受影响系统由1增至3，有扩散性（§3.3 情形2）" in result.reasons[0]
    assert result.reasons[-1] == "建议启动Ⅰ级应急响应，由总指挥启动并组织（§4.3.1）"


def test_three_key_systems_cite_7_1(world: Config) -> None:
    result = assess(world, what_if(world, ["ks2-srv", "ks3-core", "ks5-n2"]))
    assert any("3家以上，§7.1" in r and "情形2" in r for r in result.reasons)


def test_priority_systems_come_first_in_reasons(world: Config) -> None:
    result = assess(world, what_if(world, ["opb-core", "ks2-srv", "ks3-core"]))
    assert result.reasons[0].startswith(
        "区公安分局视频专网、联通城区分公司网络、区融媒体中心播出系统"
    )
    system_lines = [r for r in result.reasons if "全部业务受影响" in r]
    assert system_lines[0].startswith("【优先保障，§6.3】重要信息系统区公安分局视频专网")
    assert result.key_systems == ("ks2", "ks3")  # the JSON lists stay sorted by id


def test_unaffected_outage_explains_itself(world: Config) -> None:
    result = assess(world, what_if(world, ["ks4-n1"]))
    assert not result.affected
    assert result.nodes_down == ("ks4-n1",)
    assert result.streets == ("北石店镇人民政府",)
    assert "不构成预警情形（§3.3）" in result.reasons[-1]


def test_nothing_down_has_a_reason(world: Config) -> None:
    assert assess(world, {}).reasons == (
        "未发现中断或不可达的节点，无受影响的网络和系统，不构成预警情形（§3.3）",
    )


def test_flapping_and_maintenance_do_not_count_as_out(world: Config) -> None:
    statuses = {"ks2-srv": Status.FLAPPING, "ks3-core": Status.MAINTENANCE}
    assert affected_systems(world, statuses) == frozenset()


@pytest.mark.parametrize(
    ("operators", "key_systems", "spread", "expected"),
    [
        (0, 0, True, None),
        (1, 0, False, 3),
        (0, 2, False, 3),
        (0, 2, True, 2),
        (0, 1, True, 3),
        (1, 2, False, 3),
        (1, 0, True, 2),
        (2, 0, False, 2),
        (0, 3, False, 2),
        (3, 4, True, 1),
        (3, 4, False, 2),
    ],
    ids=[
        "none",
        "1op",
        "2ks",
        "2ks-spread",
        "1ks-spread",
        "1op-2ks",
        "1op-spread",
        "2op",
        "3ks",
        "7of8-spread",
        "7of8-no-spread",
    ],
)
def test_scenario_boundaries(
    world: Config, operators: int, key_systems: int, spread: bool, expected: int | None
) -> None:
    assert scenario_of(world, operators, key_systems, spread) == expected

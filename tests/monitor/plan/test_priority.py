"""§6.3 优先保障单位: probed first, named first, repaired first; reasons say so."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.notice_data import build_view
from monitor.config import Config, load_config
from monitor.nodes.topology import what_if
from monitor.plan.priority import is_priority, nodes_first, repair_order, systems_first
from monitor.plan.scorer import assess
from monitor.runtime.scheduler import bucket_nodes
from tests.paths import PLAN_DATA, ROOT


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def with_priority_unit(config: Config, unit: str) -> Config:
    units = [
        u.model_copy(update={"priority": True}) if u.name == unit else u
        for u in config.contacts.unit
    ]
    contacts = config.contacts.model_copy(update={"unit": units})
    return dataclasses.replace(config, contacts=contacts)


def test_priority_from_the_system_or_its_unit(world: Config) -> None:
    """ks1/ks3 are marked in nodes.toml; ks2's unit 区融媒体中心 can be marked in contacts.toml."""
    assert [s for s in world.systems if is_priority(world, s)] == ["ks1", "ks3"]
    marked = with_priority_unit(world, "区融媒体中心")
    assert [s for s in marked.systems if is_priority(marked, s)] == ["ks1", "ks2", "ks3"]


def test_named_first(world: Config) -> None:
    ids = ["ks5", "opb", "ks3", "opa", "ks1", "ks2"]
    assert systems_first(world, ids) == ("ks1", "ks3", "opa", "opb", "ks2", "ks5")


def test_probed_first_in_every_round(world: Config) -> None:
    """The priority systems' nodes lead the first bucket of every interval."""
    ordered = nodes_first(world, world.inventory.node)
    priority = [n.id for n in ordered if is_priority(world, n.system)]
    assert priority == ["ks1-gw", "ks1-web", "ks3-core"]
    assert [n.id for n in ordered[: len(priority)]] == priority
    first = bucket_nodes(ordered, timedelta(seconds=5))[0]
    assert [n.id for n in first[:3]] == priority


# id, down, repair order
REPAIR = [
    ("cut-off-priority-system-first", ["opc-ring", "ks2-srv", "opa-core", "opb-core"],
     ("opa-core", "opb-core", "ks2-srv", "opc-ring")),
    ("own-priority-system-first", ["ks2-srv", "ks3-core", "ks4-n1"],
     ("ks3-core", "ks2-srv", "ks4-n1")),
    ("one-operator-is-not-enough-for-dual-homed", ["opa-core", "ks2-srv"],
     ("ks2-srv", "opa-core")),
]  # fmt: skip


@pytest.mark.parametrize(("down", "expected"), [c[1:] for c in REPAIR], ids=[c[0] for c in REPAIR])
def test_repair_order_puts_priority_first(
    world: Config, down: list[str], expected: tuple[str, ...]
) -> None:
    result = assess(world, what_if(world, down))
    assert repair_order(world, result.nodes_down, result.nodes_unreachable) == expected
    line = next(r for r in result.reasons if r.startswith("建议抢修顺序"))
    assert line.startswith("建议抢修顺序（§6.3 优先保障单位在前）：")
    labels = [world.nodes[n].name for n in expected]
    assert [line.index(label) for label in labels] == sorted(line.index(x) for x in labels)


def test_reasons_say_priority_for_a_unit_marked_in_contacts(world: Config) -> None:
    marked = with_priority_unit(world, "区融媒体中心")
    result = assess(marked, what_if(marked, ["ks2-srv", "opb-core"]))
    assert result.reasons[0].startswith("区融媒体中心播出系统、联通城区分公司网络")
    assert "【优先保障单位，§6.3】重要信息系统区融媒体中心播出系统" in result.reasons[1]


def test_notices_name_priority_first(world: Config) -> None:
    result = assess(world, what_if(world, ["opb-core", "ks2-srv", "ks3-core"]))
    view = build_view(world, "detection", 1, result, {}, datetime(2026, 3, 2, tzinfo=UTC))
    assert view["affected"] == ["区公安分局视频专网", "联通城区分公司网络", "区融媒体中心播出系统"]
    assert view["priority_systems"] == ["区公安分局视频专网"]
    assert [n["id"] for n in view["nodes"] if n["state"] == "中断"] == [
        "ks3-core",
        "ks2-srv",
        "opb-core",
    ]

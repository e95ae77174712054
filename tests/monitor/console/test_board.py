"""The board (pure): conditions of systems and streets from node statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config import Config, load_config
from monitor.console.board import build_board
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def _rows(config: Config, statuses: dict[str, Status]) -> dict[str, str]:
    board = build_board(config, statuses, {}, Assessment(), NOW)
    return {r.id: r.label for r in [*board.operators, *board.key_systems, *board.streets]}


def _all(status: Status, **override: Status) -> dict[str, Status]:
    return {n.id: override.get(n.id.replace("-", "_"), status) for n in CONFIG.inventory.node}


@pytest.mark.parametrize(
    ("down", "row", "label"),
    [
        ({}, "cmcc", "正常"),
        ({"cmcc-core-1": Status.DOWN}, "cmcc", "中断"),
        ({"cmcc-agg-dongjie": Status.DOWN}, "cmcc", "部分业务受影响"),
        ({"cmcc-agg-dongjie": Status.DEGRADED}, "cmcc", "部分业务受影响"),
        ({"cmcc-agg-dongjie": Status.DOWN}, "东街街道办事处", "部分业务受影响"),
    ],
    ids=["all-up", "critical-down", "one-aggregation-down", "degraded", "street-partly-cut"],
)
def test_conditions(down: dict[str, Status], row: str, label: str) -> None:
    statuses = {n.id: Status.UP for n in CONFIG.inventory.node} | down
    assert _rows(CONFIG, statuses)[row] == label


def test_a_system_cut_off_only_behind_a_dead_parent_outside_it_is_unreachable() -> None:
    nodes = [
        n.model_copy(update={"parent": "cmcc-core-1", "critical": True})
        if n.id == "cucc-core-1"
        else n
        for n in CONFIG.inventory.node
    ]
    config = Config(
        CONFIG.directory,
        CONFIG.daemon,
        CONFIG.plan,
        CONFIG.contacts,
        CONFIG.inventory.model_copy(update={"node": nodes}),
    )
    statuses = {n.id: Status.UP for n in nodes} | {
        "cmcc-core-1": Status.DOWN,
        "cucc-core-1": Status.DOWN,
    }
    rows = _rows(config, statuses)
    assert rows["cmcc"] == "中断"
    assert rows["cucc"] == "不可达"


def test_unknown_nodes_are_not_listed_as_abnormal() -> None:
    board = build_board(CONFIG, {}, {}, Assessment(), NOW)
    assert board.nodes == []
    assert {r.label for r in board.operators} == {"正常"}


def test_assessment_and_abnormal_nodes_are_shown() -> None:
    assessment = Assessment(
        3, "II", operator_networks=("cmcc",), reasons=("移动城区分公司网络全部业务中断",)
    )
    statuses = {n.id: Status.UP for n in CONFIG.inventory.node} | {
        "cmcc-core-1": Status.DOWN,
        "cmcc-agg-dongjie": Status.DOWN,  # silent behind its dead parent: UNREACHABLE
    }
    board = build_board(CONFIG, statuses, {}, assessment, NOW)
    assert (board.scenario, board.level) == ("情形3", "Ⅱ级")
    assert board.reasons == ("移动城区分公司网络全部业务中断",)
    down = {n.id: n.label for n in board.nodes}
    assert down["cmcc-core-1"] == "中断"
    assert down["cmcc-agg-dongjie"] == "不可达"


def test_maintenance_and_guarantee(tmp_path: object) -> None:
    from monitor.config.windows import GuaranteePeriod, MaintenanceWindow

    window = MaintenanceWindow(
        name="割接",
        nodes=["cucc-agg-nanjie"],
        start=datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
        end=datetime(2026, 7, 2, tzinfo=UTC),
    )
    period = GuaranteePeriod(
        name="中考保障",
        systems=["portal"],
        start=datetime(2026, 6, 30, tzinfo=UTC),
        end=datetime(2026, 7, 3, tzinfo=UTC),
    )
    config = Config(
        CONFIG.directory,
        CONFIG.daemon,
        CONFIG.plan.model_copy(update={"guarantee": [period]}),
        CONFIG.contacts,
        CONFIG.inventory.model_copy(update={"maintenance": [window]}),
    )
    rows = _rows(config, {n.id: Status.UP for n in CONFIG.inventory.node})
    assert rows["cucc"] == "维护"
    assert rows["portal"] == "保障期"


def test_priority_units_lead_the_board_section_6_3() -> None:
    """§6.3: 优先保障单位 are named first on the board (config order otherwise)."""
    systems = [
        s.model_copy(update={"priority": True}) if s.id == "power-dispatch" else s
        for s in CONFIG.inventory.system
    ]
    config = Config(
        CONFIG.directory,
        CONFIG.daemon,
        CONFIG.plan,
        CONFIG.contacts,
        CONFIG.inventory.model_copy(update={"system": systems}),
    )
    board = build_board(config, _all(Status.UP), {}, Assessment(), NOW)
    ids = [r.id for r in board.key_systems]
    assert ids.index("power-dispatch") < ids.index("media-broadcast")  # config has it last
    priority = [s.id for s in systems if s.priority and s.kind == "key_system"]
    assert ids[: len(priority)] == priority

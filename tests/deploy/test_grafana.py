"""deploy/grafana: the dashboard's structure, its PromQL, and the provisioning files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.promql import (
    METRICS,
    contract_problems,
    grafana_to_promql,
    metric_names,
    promtool_check_exprs,
)
from tests.requirements import require_binary

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD: dict[str, Any] = json.loads((GRAFANA / "commwatch.json").read_text(encoding="utf-8"))
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
STATE_NAMES = ["未知", "正常", "降级", "中断", "不可达", "抖动", "维护"]


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


PANELS = list(all_panels(DASHBOARD["panels"]))
QUERY_PANELS = [p for p in PANELS if p["type"] != "row"]
TARGETS = [(p, t) for p in QUERY_PANELS for t in p.get("targets", [])]


def variable_expr(variable: dict[str, Any]) -> str:
    """The PromQL inside a `label_values(EXPR, label)` query variable."""
    definition = str(variable["definition"])
    return grafana_to_promql(re.sub(r"^label_values\((.*), *\w+\)$", r"\1", definition))


VARIABLE_EXPRS = [variable_expr(v) for v in DASHBOARD["templating"]["list"] if v["type"] == "query"]


def find_panel(title_part: str) -> dict[str, Any]:
    (panel,) = [p for p in QUERY_PANELS if title_part in p["title"]]
    return panel


def mapping_texts(panel: dict[str, Any]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for mapping in panel["fieldConfig"]["defaults"]["mappings"]:
        assert mapping["type"] == "value"
        for value, result in mapping["options"].items():
            texts[value] = result["text"]
    return texts


def test_identity() -> None:
    assert DASHBOARD["uid"] == "commwatch"
    assert DASHBOARD["title"]
    assert DASHBOARD["schemaVersion"] >= 36
    assert "id" not in DASHBOARD or DASHBOARD["id"] is None  # importable anywhere


def test_datasource_variable() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE_REF
            expr = variable_expr(variable)
            assert contract_problems(expr, METRICS) == [], variable["name"]


def test_panel_ids_unique() -> None:
    ids = [p["id"] for p in PANELS]
    assert len(ids) == len(set(ids))
    assert all(isinstance(i, int) and i > 0 for i in ids)


def test_grid_positions_valid_and_not_overlapping() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in DASHBOARD["panels"]:
        pos = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= set(pos), panel["title"]
        assert all(isinstance(pos[k], int) for k in "xywh")
        assert pos["x"] >= 0, panel["title"]
        assert pos["w"] > 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert pos["h"] > 0, panel["title"]
        assert pos["y"] >= 0, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_every_query_panel_uses_the_datasource_variable() -> None:
    assert QUERY_PANELS
    for panel in QUERY_PANELS:
        assert panel["datasource"] == DATASOURCE_REF, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE_REF, panel["title"]
            assert target["expr"].strip(), panel["title"]


@pytest.mark.parametrize(
    ("panel", "target"), TARGETS, ids=[f"{p['id']}{t['refId']}" for p, t in TARGETS]
)
def test_expr_uses_only_the_metric_contract(panel: dict[str, Any], target: dict[str, Any]) -> None:
    expr = grafana_to_promql(target["expr"])
    assert metric_names(expr), f"{panel['title']}: no metric in {expr}"
    assert contract_problems(expr, METRICS) == [], panel["title"]


def test_exprs_parse_with_promtool(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    exprs = [grafana_to_promql(t["expr"]) for _, t in TARGETS]
    exprs += VARIABLE_EXPRS
    promtool_check_exprs(promtool, exprs, tmp_path)


def test_expr_check_catches_a_typo(tmp_path: Path) -> None:
    """The promtool check is not vacuous."""
    promtool = require_binary("promtool")
    with pytest.raises(AssertionError, match="promtool rejects"):
        promtool_check_exprs(promtool, ["sum by (node (commwatch_up)"], tmp_path)
    assert contract_problems("rate(commwatch_nope_total[5m])", METRICS) == [
        "unknown metric commwatch_nope_total"
    ]
    assert contract_problems('commwatch_node_rtt_seconds{system="x"}', METRICS) == [
        "commwatch_node_rtt_seconds has no label(s) ['system']"
    ]


def test_scenario_and_level_stats() -> None:
    scenario = find_panel("当前预警情形 Scenario")
    assert scenario["type"] == "stat"
    assert "commwatch_scenario" in scenario["targets"][0]["expr"]
    assert {mapping_texts(scenario)[k] for k in "123"} == {"情形1", "情形2", "情形3"}
    level = find_panel("Proposed level")
    assert level["type"] == "stat"
    assert "commwatch_response_level_proposed" in level["targets"][0]["expr"]
    assert mapping_texts(level)["1"] == "Ⅰ级"
    assert mapping_texts(level)["2"] == "Ⅱ级"


@pytest.mark.parametrize("title", ["Node map", "Node state over time"])
def test_node_state_panels_map_states_to_chinese(title: str) -> None:
    panel = find_panel(title)
    assert "commwatch_node_state" in panel["targets"][0]["expr"]
    texts = mapping_texts(panel)
    assert [texts[str(code)].split()[0] for code in range(7)] == STATE_NAMES


def test_node_map_groups_by_system_and_street() -> None:
    panel = find_panel("Node map")
    assert panel["type"] == "table"
    organize = next(t for t in panel["transformations"] if t["id"] == "organize")
    assert {"system", "street", "node"} <= set(organize["options"]["indexByName"])


@pytest.mark.parametrize(
    "metric",
    [
        "commwatch_node_rtt_seconds",
        "commwatch_node_loss_ratio",
        "commwatch_snmp_interface_up",
        "commwatch_incidents_open",
        "commwatch_deliveries_total",
        "commwatch_scheduler_lag_seconds",
        "commwatch_probe_rounds_skipped_total",
        "commwatch_store_pending_rows",
        "commwatch_store_errors_total",
        "commwatch_outbox_pending",
        "commwatch_outbox_oldest_pending_seconds",
        "commwatch_config_last_reload_successful",
        "commwatch_uplink_ok",
    ],
)
def test_dashboard_shows(metric: str) -> None:
    assert any(metric in metric_names(grafana_to_promql(t["expr"])) for _, t in TARGETS)


def test_provisioning_files() -> None:
    datasource = (GRAFANA / "provisioning/datasources/commwatch.yml").read_text(encoding="utf-8")
    assert re.search(r"^apiVersion: 1$", datasource, re.M)
    assert re.search(r"^\s+type: prometheus$", datasource, re.M)
    assert re.search(r"^\s+url: http://127\.0\.0\.1:9090$", datasource, re.M)
    dashboards = (GRAFANA / "provisioning/dashboards/commwatch.yml").read_text(encoding="utf-8")
    assert re.search(r"^apiVersion: 1$", dashboards, re.M)
    assert re.search(r"^\s+type: file$", dashboards, re.M)
    assert re.search(r"^\s+path: /\S+$", dashboards, re.M)
    assert "\t" not in datasource + dashboards

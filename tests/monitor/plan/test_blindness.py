"""The monitor's own blindness (monitor.plan.blindness): never mistaken for 情形1 (§3.3 (1), §4.2 (2))."""

from __future__ import annotations

import dataclasses
import shutil
from typing import Any

import pytest

from monitor.config import Config, load_config
from monitor.plan.blindness import (
    Blindness,
    Uplink,
    blind_assessment,
    judge_mass_failure,
    judge_uplink,
    parse_ipv4_gateways,
    parse_ipv6_gateways,
    uplink_of,
    what_if,
)
from tests.paths import PLAN_DATA, ROOT

ROUTE_HEADER = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
)
IPV6_DEFAULT = (
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
)
IPV6_LOCAL = (
    "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def with_self_monitor(config: Config, **values: Any) -> Config:
    daemon = config.daemon
    monitor = daemon.self_monitor.model_copy(update=values)
    return dataclasses.replace(config, daemon=daemon.model_copy(update={"self_monitor": monitor}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ROUTE_HEADER + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
            ["192.0.2.1"],
        ),
        (ROUTE_HEADER + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", []),
        (ROUTE_HEADER + "tun0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n", []),
        (ROUTE_HEADER, []),
    ],
    ids=["default-via-gateway", "only-a-subnet", "default-without-gateway-flag", "empty"],
)
def test_ipv4_default_gateway_from_proc_net_route(text: str, expected: list[str]) -> None:
    assert parse_ipv4_gateways(text) == expected


def test_ipv6_default_gateway_from_proc_net_ipv6_route() -> None:
    assert parse_ipv6_gateways(IPV6_DEFAULT + IPV6_LOCAL) == ["fe80::1"]
    assert parse_ipv6_gateways(IPV6_LOCAL) == []


def test_uplink_is_configured_nodes_plus_gateways(world: Config) -> None:
    config = with_self_monitor(world, uplink_nodes=["ks2-srv"])
    assert uplink_of(config, ["127.0.1.1", "192.0.2.1"]) == Uplink(
        ("ks2-srv", "opa-core"), ("192.0.2.1",)
    )  # a gateway that is a node is judged as that node
    off = with_self_monitor(config, detect_gateway=False)
    assert uplink_of(off, ["192.0.2.1"]) == Uplink(("ks2-srv",), ())
    assert not uplink_of(world, []).determinable


# id, uplink_min_up, answered, blind
UPLINK_CASES = [
    ("all-answer", 1, {"ks2-srv": True, "192.0.2.1": True}, False),
    ("one-answers", 1, {"ks2-srv": False, "192.0.2.1": True}, False),
    ("none-answers", 1, {"ks2-srv": False, "192.0.2.1": False}, True),
    ("min-up-2-one-answers", 2, {"ks2-srv": False, "192.0.2.1": True}, True),
    ("not-checked-yet", 1, {}, False),
]


@pytest.mark.parametrize(
    ("min_up", "answered", "blind"),
    [c[1:] for c in UPLINK_CASES],
    ids=[c[0] for c in UPLINK_CASES],
)
def test_uplink_judgement(
    world: Config, min_up: int, answered: dict[str, bool], blind: bool
) -> None:
    config = with_self_monitor(world, uplink_nodes=["ks2-srv"], uplink_min_up=min_up)
    result = judge_uplink(config, Uplink(("ks2-srv",), ("192.0.2.1",)), answered)
    assert result.blind is blind
    if blind:
        assert "播出服务器（ks2-srv）、默认网关192.0.2.1" in result.why


ALL = ["opa-core", "opa-agg-1", "opa-agg-2", "opb-core", "opb-agg-1", "opc-ring", "opc-site-1",
       "ks1-gw", "ks1-web", "ks2-srv", "ks3-core", "ks4-n1", "ks4-n2", "ks4-n3", "ks4-n4",
       "ks5-n1", "ks5-n2", "ks5-n3", "ks5-n4"]  # fmt: skip
OPERATORS = ALL[:7]

# id (§7.1: "以上" includes the number), fresh, failing, was blind, blind
MASS_CASES = [
    ("all-at-once", ALL, ALL, False, True),
    ("16-of-19-is-84%", ALL[:16], ALL[:16], False, True),
    ("15-of-19-is-79%", ALL[:15], ALL[:15], False, False),
    ("operators-only-3-systems-but-37%", OPERATORS, OPERATORS, False, False),
    ("old-outage-is-not-fresh", ALL[:2], ALL, False, False),
    ("stays-blind-while-failing", [], ALL[:16], True, True),
    ("leaves-when-answers-return", [], ALL[:10], True, False),
]


@pytest.mark.parametrize(
    ("fresh", "failing", "was_blind", "blind"),
    [c[1:] for c in MASS_CASES],
    ids=[c[0] for c in MASS_CASES],
)
def test_mass_failure_without_an_uplink(
    world: Config, fresh: list[str], failing: list[str], was_blind: bool, blind: bool
) -> None:
    assert judge_mass_failure(world, fresh, failing, was_blind).blind is blind


def test_mass_failure_needs_a_real_inventory(world: Config) -> None:
    """19 nodes in the test district: below mass_failure_min_nodes the rule never fires."""
    assert judge_mass_failure(world, ALL, ALL, False).blind
    small = with_self_monitor(world, mass_failure_min_nodes=20)
    assert not judge_mass_failure(small, ALL, ALL, False).blind


def test_mass_failure_needs_several_systems(world: Config) -> None:
    config = with_self_monitor(world, mass_failure_share=0.2, mass_failure_systems=4)
    ks = ["ks4-n1", "ks4-n2", "ks4-n3", "ks4-n4", "ks5-n1", "ks5-n2"]  # 2 systems, 32 %
    assert not judge_mass_failure(config, ks, ks, False).blind
    assert judge_mass_failure(config, [*ks, "opa-core", "ks2-srv"], ks, False).blind


# id, config changes, --down, gateways, blind
WHAT_IF = [
    ("configured-uplink-node-down", {"uplink_nodes": ["ks2-srv"]}, ["ks2-srv"], [], True),
    ("configured-uplink-node-up", {"uplink_nodes": ["ks2-srv"]}, ["opa-core"], [], False),
    ("gateway-node-down", {}, ["opa-core"], ["127.0.1.1"], True),
    ("gateway-not-a-node", {}, ALL, ["192.0.2.1"], False),
    ("no-uplink-mass-failure", {}, ALL, [], True),
    ("no-uplink-two-operators", {}, ["opb-core", "opc-ring"], [], False),
]


@pytest.mark.parametrize(
    ("changes", "down", "gateways", "blind"),
    [c[1:] for c in WHAT_IF],
    ids=[c[0] for c in WHAT_IF],
)
def test_what_if_judges_like_the_daemon(
    world: Config, changes: dict[str, Any], down: list[str], gateways: list[str], blind: bool
) -> None:
    assert what_if(with_self_monitor(world, **changes), set(down), gateways).blind is blind


def test_blind_assessment_has_no_scenario() -> None:
    result = blind_assessment(Blindness(True, "上联无响应"), ["a", "b"]).to_json()
    assert (result["scenario"], result["level"], result["monitor_blind"]) == (None, None, True)
    assert result["operator_networks"] == result["key_systems"] == []
    assert "2个节点状态未知（UNKNOWN）" in result["reasons"][0]
    assert "不构成预警情形" in result["reasons"][0]
    settling = blind_assessment(Blindness(), ["a"])
    assert not settling.monitor_blind
    assert settling.scenario is None

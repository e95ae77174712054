"""`commwatch assess`: the what-if contract (DESIGN.md) on the shipped config and a test district."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from tests.paths import PLAN_DATA, ROOT

SHIPPED = ROOT / "config"
KEYS = [
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
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(SHIPPED, target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return target


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["assess", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    data: dict[str, Any] = json.loads(out)
    assert list(data) == KEYS
    return data


def test_module_entry_point_on_the_shipped_config() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "assess",
            "-c",
            "config",
            "--down",
            "cmcc-core-1",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == KEYS
    assert (data["scenario"], data["level"]) == (3, "II")
    assert data["operator_networks"] == ["cmcc"]
    assert data["key_systems"] == ["emergency-platform"]
    assert data["spread"] is False
    assert data["reasons"][0].endswith("（§3.3 情形3）")


# fmt: off
SHIPPED_CASES = [
    ("nothing", [], [], None, None, [], []),
    ("cucc-core", ["--down", "cucc-core-1"], [], 3, "II", ["cucc"], ["portal"]),
    ("two-operators-without-spread-4.3.2(1)", ["--down", "cucc-core-1,tower-ring-1"], [], 3, "II",
     ["cucc", "tower"], ["portal"]),
    ("two-operators-three-key-systems-3.3(2)", ["--down", "cmcc-core-1,cucc-core-1"], [], 2, "I",
     ["cmcc", "cucc"], ["egov", "emergency-platform", "portal"]),
    ("three-operators-3.3(2)", ["--down", "cmcc-core-1,cucc-core-1,tower-ring-1"], [], 2, "I",
     ["cmcc", "cucc", "tower"], ["egov", "emergency-platform", "portal"]),
    ("two-key-systems", ["--down", "portal-web", "--down", "media-encoder"], [], 3, "II", [],
     ["media-broadcast", "portal"]),
    ("two-key-systems-growing", ["--down", "portal-web,media-encoder"],
     ["--earlier", "portal-web"], 2, "I", [], ["media-broadcast", "portal"]),
    ("three-key-systems", ["--down", "portal-web,media-encoder,power-dispatch-gw"], [], 2, "I",
     [], ["media-broadcast", "portal", "power-dispatch"]),
    ("dual-homed-survives", ["--down", "cmcc-core-1"], [], 3, "II", ["cmcc"],
     ["emergency-platform"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("down", "earlier", "scenario", "level", "operators", "key_systems"),
    [c[1:] for c in SHIPPED_CASES],
    ids=[c[0] for c in SHIPPED_CASES],
)
def test_shipped_config_cases(
    capsys: pytest.CaptureFixture[str],
    down: list[str],
    earlier: list[str],
    scenario: int | None,
    level: str | None,
    operators: list[str],
    key_systems: list[str],
) -> None:
    data = run_json(capsys, "-c", str(SHIPPED), *down, *earlier)
    assert (data["scenario"], data["level"]) == (scenario, level)
    assert (data["operator_networks"], data["key_systems"]) == (operators, key_systems)


def test_repeated_and_comma_separated_down_accumulate(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = run_json(capsys, "-c", str(world), "--down", "ks2-srv,ks3-core", "--down", "ks5-n2")
    two = run_json(capsys, "-c", str(world), "--down", "ks2-srv", "--down", "ks3-core,,ks5-n2,")
    assert one == two
    assert (one["scenario"], one["key_systems"]) == (2, ["ks2", "ks3", "ks5"])


def test_children_of_a_down_parent_are_cut_off(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, "-c", str(world), "--down", "opc-ring")
    assert data["operator_networks"] == ["opc"]
    assert data["key_systems"] == ["ks5"]  # ks5-n1 sits behind opc-ring
    assert data["streets"] == ["开发区街道办事处"]


def test_earlier_makes_growth(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh = run_json(capsys, "-c", str(world), "--down", "ks2-srv,ks3-core")
    grown = run_json(capsys, "-c", str(world), "--down", "ks2-srv,ks3-core", "--earlier", "ks2-srv")
    assert (fresh["scenario"], fresh["spread"]) == (3, False)
    assert (grown["scenario"], grown["spread"], grown["level"]) == (2, True, "I")


@pytest.mark.parametrize(
    ("argv", "named"),
    [(["--down", "ks2-srv,nope"], "'nope'"), (["--earlier", "ks2-srvv"], "'ks2-srvv'")],
    ids=["down", "earlier"],
)
def test_unknown_node_id_exits_2_naming_it(
    world: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    assert main(["assess", "-c", str(world), *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"unknown node id {named}" in captured.err


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "-c", str(tmp_path / "missing"), "--json"]) == 2
    assert "error:" in capsys.readouterr().err


def test_readable_summary_in_chinese(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["assess", "-c", str(world), "--down", "opb-core,ks2-srv", "--earlier", "ks2-srv"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("研判结果：情形2，建议Ⅰ级应急响应\n")
    assert "受影响基础运营网络：联通城区分公司网络（opb）" in out
    assert "扩散性：有" in out
    assert "  - 建议启动Ⅰ级应急响应，由总指挥启动并组织（§4.3.1）" in out


def test_readable_summary_when_nothing_is_down(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assess", "-c", str(world)]) == 0
    assert capsys.readouterr().out.startswith("研判结果：不构成预警情形\n")


# id (clause), argv, scenario, level, operators, key systems
# fmt: off
MAINTENANCE_CASES = [
    ("three-operators-3.3(2)", ["--down", "opa-core,opb-core,opc-ring"], 2, "I",
     ["opa", "opb", "opc"], ["ks1", "ks5"]),
    ("one-in-maintenance-4.3.2(1)", ["--down", "opa-core,opb-core,opc-ring",
     "--maintenance", "opc-ring"], 3, "II", ["opa", "opb"], ["ks1"]),
    ("maintenance-of-an-up-node-changes-share-7.1", ["--down", "ks5-n2",
     "--maintenance", "ks5-n3,ks5-n4"], 3, "II", [], ["ks5"]),
    ("all-out-in-maintenance", ["--down", "ks2-srv", "--maintenance", "ks2-srv"], None, None,
     [], []),
]
# fmt: on


@pytest.mark.parametrize(
    ("argv", "scenario", "level", "operators", "key_systems"),
    [c[1:] for c in MAINTENANCE_CASES],
    ids=[c[0] for c in MAINTENANCE_CASES],
)
def test_maintenance_flag_leaves_nodes_out(
    world: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    scenario: int | None,
    level: str | None,
    operators: list[str],
    key_systems: list[str],
) -> None:
    data = run_json(capsys, "-c", str(world), *argv)
    assert (data["scenario"], data["level"]) == (scenario, level)
    assert (data["operator_networks"], data["key_systems"]) == (operators, key_systems)
    if "--maintenance" in argv:
        left = next(r for r in data["reasons"] if r.startswith("以下节点不计入研判"))
        assert "命令行 --maintenance 指定" in left


def test_maintenance_flag_names_children_cut_off_by_it(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, "-c", str(world), "--down", "opc-ring", "--maintenance", "opc-ring")
    assert data["scenario"] is None
    left = next(r for r in data["reasons"] if r.startswith("以下节点不计入研判"))
    assert "门户节点1（ks5-n1）（当前UNREACHABLE，上级节点铁塔传输环处于维护中而不可达）" in left


def test_unknown_maintenance_id_exits_2(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "-c", str(world), "--maintenance", "opc-rin", "--json"]) == 2
    assert "--maintenance: unknown node id 'opc-rin' (did you mean opc-ring?)" in (
        capsys.readouterr().err
    )


def _self_monitor(world: Path, target: Path, settings: str) -> Path:
    shutil.copytree(world, target)
    toml = target / "commwatch.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("[self_monitor]")
    end = text.index("\n[", start + 1)
    toml.write_text(text[:start] + "[self_monitor]\n" + settings + text[end:], encoding="utf-8")
    return target


# id, [self_monitor] settings, --down, blind
# fmt: off
BLIND_CASES = [
    ("uplink-node-down", 'uplink_nodes = ["ks2-srv"]\n', "ks2-srv,opa-core", True),
    ("uplink-node-up", 'uplink_nodes = ["ks2-srv"]\n', "opa-core", False),
    ("no-uplink-mass-failure", "detect_gateway = false\n",
     "opa-core,opb-core,opc-ring,ks1-web,ks2-srv,ks3-core,ks4-n1,ks4-n2,ks4-n3,ks4-n4,"
     "ks5-n2,ks5-n3,ks5-n4", True),
    ("no-uplink-audit-two-operators", "detect_gateway = false\n", "opb-core,opc-ring", False),
]
# fmt: on


@pytest.mark.parametrize(
    ("settings", "down", "blind"), [c[1:] for c in BLIND_CASES], ids=[c[0] for c in BLIND_CASES]
)
def test_assess_honours_self_monitor_like_the_daemon(
    world: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    settings: str,
    down: str,
    blind: bool,
) -> None:
    """The audit's blind uplink: the monitor's own outage is never a 情形 (§3.3 (1))."""
    config = _self_monitor(world, tmp_path / "config", settings)
    data = run_json(capsys, "-c", str(config), "--down", down)
    assert data["monitor_blind"] is blind
    if blind:
        assert (data["scenario"], data["level"]) == (None, None)
        assert data["operator_networks"] == data["key_systems"] == []
        assert "不构成预警情形" in data["reasons"][0]
    else:
        assert data["scenario"] is not None


def test_readable_summary_when_blind(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _self_monitor(world, tmp_path / "config", 'uplink_nodes = ["ks2-srv"]\n')
    assert main(["assess", "-c", str(config), "--down", "ks2-srv"]) == 0
    assert capsys.readouterr().out.startswith("研判结果：监测系统自身失明，不作研判\n")

"""plan.toml: defaults follow the plan, and check-config rejects values that contradict it (§7.1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config
from monitor.config.plan import PlanConfig
from tests.paths import ROOT

# id (clause), plan.toml text, the start of the expected error
# fmt: off
REJECTED = [
    ("7.1-with-spread-read-as-exclusive", "[scenario]\nkey_systems_with_spread = 3\n",
     "plan.toml: scenario.key_systems_with_spread: 3: §3.3 情形2 says \"2家以上重要信息系统"),
    ("3.3(2)-with-spread-1", "[scenario]\nkey_systems_with_spread = 1\n",
     "plan.toml: scenario.key_systems_with_spread: 1:"),
    ("3.3(3)-key-systems-beyond-1-2", "[scenario]\nmax_key_systems_without_spread = 3\n",
     "plan.toml: scenario.max_key_systems_without_spread: 3: §3.3 情形3 and §4.3.2 ①"),
    ("4.3.2(1)-operators-beyond-1-2", "[scenario]\nmax_operators_without_spread = 3\n",
     "plan.toml: scenario.max_operators_without_spread: 3: §3.3 情形3 names 1家基础运营网络"),
    ("3.3(1)-all-is-every-one", "[scenario]\nall_share = 0.9\n",
     "plan.toml: scenario.all_share: 0.9: §3.3 情形1 says \"本区所有网络和重要信息系统\""),
    ("removed-operators-for-scenario2", "[scenario]\noperators_for_scenario2 = 2\n",
     "plan.toml: scenario: operators_for_scenario2 = 2: removed"),
    ("removed-multiple-operators", "[spread]\nmultiple_operators = true\n",
     "plan.toml: spread: multiple_operators = True: removed: the number of operator networks"),
]
# fmt: on


def _config_with_plan(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    (target / "plan.toml").write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_values_contradicting_the_plan_are_rejected(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config_with_plan(tmp_path, text))
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(expected) for m in messages), messages


def test_check_config_exits_2_naming_the_clause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config_with_plan(tmp_path, "[scenario]\nall_share = 0.9\n")
    assert main(["check-config", "-c", str(config)]) == 2
    assert "§3.3 情形1" in capsys.readouterr().err


def test_operators_without_spread_may_follow_either_section(tmp_path: Path) -> None:
    """§3.3 情形3 "1家" or §4.3.2 ① "1至2家": the one choice the plan leaves."""
    config = load_config(
        _config_with_plan(tmp_path, "[scenario]\nmax_operators_without_spread = 1\n")
    )
    assert config.plan.scenario.max_operators_without_spread == 1


def test_defaults_follow_the_plan() -> None:
    """全部业务 read literally (§3.3), 1至2家 (§4.3.2 ①), 2家以上 (§3.3, §7.1), all (§3.3 (1))."""
    plan = PlanConfig()
    assert plan.systems.affected_share == 1.0
    assert plan.scenario.max_operators_without_spread == 2
    assert plan.scenario.max_key_systems_without_spread == 2
    assert plan.scenario.key_systems_with_spread == 2
    assert plan.scenario.all_share == 1.0
    assert plan.spread.growth is True
    assert plan.spread.min_streets == 0  # the plan names no street count
    shipped = load_config(ROOT / "config").plan
    assert shipped.systems == plan.systems
    assert shipped.scenario == plan.scenario
    assert shipped.spread == plan.spread

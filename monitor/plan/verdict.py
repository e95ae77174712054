"""Which 预警情形 (§3.3) and 响应级别 (§4.3) the counts reach, and which clause decided. Pure.

§3.3 and §4.3 read together, spread (扩散性) as the divider; §7.1: "以上"
includes the number. With O of the district's operator networks and K of its
key systems whose whole business is down:

1. every operator network and every key system → 情形1 (§3.3 (1), §4.3.1 ①) —
   "所有网络和重要信息系统" needs both kinds in the inventory; an inventory of key
   systems only never reaches 情形1;
2. more operator networks than max_operators_without_spread (default 2:
   §4.3.2 ① "1至2家"; 1 follows §3.3 情形3 "1家") → 情形2 (§3.3 (2));
3. K ≥ 3: beyond "1至2家重要信息系统" → 情形2;
4. spread and (O ≥ 1 or K ≥ 2, "2家以上" with §7.1) → 情形2;
5. anything else → 情形3 (§3.3 (3), §4.3.2 ①); one key system with spread
   stays 情形3 (情形2 needs 2家以上), and the reason says so.

情形1 and 情形2 propose Ⅰ级 (§4.3.1), 情形3 Ⅱ级 (§4.3.2) — `Scenario.proposed_level`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.config import Config
from monitor.plan.names import SCENARIOS, Scenario


class Rule(StrEnum):
    """The condition that decided."""

    NONE = "none"
    ALL = "all"  # 情形1: every network and system
    OPERATORS = "operators"  # 情形2: more operator networks than 情形3/§4.3.2 ① allow
    KEY_SYSTEMS = "key_systems"  # 情形2: 3 or more key systems
    KEY_SYSTEMS_SPREAD = "key_systems_spread"  # 情形2: 2家以上 key systems, with spread
    OPERATOR_SPREAD = "operator_spread"  # 情形2: operator network(s), with spread
    WITHIN = "within"  # 情形3: 1–2 (or 1) operator networks and/or 1–2 key systems, no spread
    WITHIN_SPREAD = "within_spread"  # 情形3: one key system with spread (情形2 needs 2家以上)


@dataclass(frozen=True)
class Counts:
    """Affected operator networks and key systems, and the district's totals."""

    operators: int
    key_systems: int
    all_operators: int
    all_key_systems: int

    @property
    def any(self) -> bool:
        return bool(self.operators or self.key_systems)

    @property
    def everything(self) -> bool:
        """Every operator network and every key system (the district has both kinds)."""
        if not (self.all_operators and self.all_key_systems):
            return False
        return (self.operators, self.key_systems) == (self.all_operators, self.all_key_systems)


@dataclass(frozen=True)
class Verdict:
    """The scenario reached (None: nothing affected) and the rule that decided it."""

    scenario: Scenario | None
    rule: Rule


def counts_of(config: Config, operators: int, key_systems: int) -> Counts:
    """Counts with the district's totals from nodes.toml."""
    kinds = [s.kind for s in config.inventory.system]
    return Counts(operators, key_systems, kinds.count("operator"), kinds.count("key_system"))


def judge(config: Config, counts: Counts, spread: bool) -> Verdict:
    """The Verdict for these counts (see the module docstring)."""
    rules = config.plan.scenario
    if not counts.any:
        return Verdict(None, Rule.NONE)
    if counts.everything:
        return Verdict(SCENARIOS[1], Rule.ALL)
    if counts.operators > rules.max_operators_without_spread:
        return Verdict(SCENARIOS[2], Rule.OPERATORS)
    if counts.key_systems > rules.max_key_systems_without_spread:
        return Verdict(SCENARIOS[2], Rule.KEY_SYSTEMS)
    if spread and counts.key_systems >= rules.key_systems_with_spread:
        return Verdict(SCENARIOS[2], Rule.KEY_SYSTEMS_SPREAD)
    if spread and counts.operators >= 1:
        return Verdict(SCENARIOS[2], Rule.OPERATOR_SPREAD)
    return Verdict(SCENARIOS[3], Rule.WITHIN_SPREAD if spread else Rule.WITHIN)


def scenario_of(config: Config, operators: int, key_systems: int, spread: bool) -> int | None:
    """The 预警情形 number for these counts; None when nothing is affected."""
    found = judge(config, counts_of(config, operators, key_systems), spread).scenario
    return found.number if found is not None else None

"""The scorer's reasons: Chinese sentences in the plan's words, each citing its clause. Pure.

Order: the headline first (incidents use it as the title), then one line per
affected system — priority systems (党政机关、重点单位, §6.3) first — then the
cause and cut-off nodes, the scenario's justification and the proposed level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor.config import Config

if TYPE_CHECKING:
    from monitor.plan.scorer import Spread, SystemImpact

SCENARIO_CLAUSE = {1: "§3.3 情形1", 2: "§3.3 情形2", 3: "§3.3 情形3"}
LEVEL_LINES = {
    1: "建议启动Ⅰ级应急响应，由总指挥启动并组织（§4.3.1）",
    2: "建议启动Ⅰ级应急响应，由总指挥启动并组织（§4.3.1）",
    3: "建议启动Ⅱ级应急响应，由总指挥或副总指挥启动（§4.3.2）",
}
MAX_NAMES = 4


@dataclass(frozen=True)
class Facts:
    """Everything the sentences are made of."""

    impacts: Mapping[str, SystemImpact]
    ordered: tuple[str, ...]
    operators: int
    key_systems: int
    streets: tuple[str, ...]
    spread: Spread
    scenario: int | None
    causes: tuple[str, ...]
    unreachable: tuple[str, ...]
    guarantees: tuple[str, ...] = ()


def duration_zh(value: timedelta) -> str:
    """15分钟, 1小时, 1小时30分钟, 45秒."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}小时" if hours else "", f"{minutes}分钟" if minutes else ""]
    parts.append(f"{secs}秒" if secs or not any(parts) else "")
    return "".join(parts)


def node_label(config: Config, node_id: str) -> str:
    node = config.nodes.get(node_id)
    return f"{node.name}（{node_id}）" if node is not None else node_id


def _names(config: Config, ids: tuple[str, ...]) -> str:
    names = [config.systems[sid].name for sid in ids]
    if len(names) <= MAX_NAMES:
        return "、".join(names)
    return "、".join(names[:MAX_NAMES]) + f"等{len(names)}个网络和系统"


def spread_phrases(config: Config, facts: Facts) -> list[str]:
    """One phrase per spread rule that holds."""
    spread, phrases = facts.spread, []
    if spread.growth:
        window = duration_zh(config.plan.spread.window)
        phrases.append(f"{window}内受影响系统由{spread.earlier}增至{spread.now}")
    if spread.streets:
        phrases.append(
            f"中断涉及{len(facts.streets)}个镇（街道），达到{config.plan.spread.min_streets}个以上"
        )
    if spread.operators:
        phrases.append(f"{facts.operators}家基础运营网络同时受影响")
    return phrases


def headline(config: Config, facts: Facts) -> str:
    """The first reason: what is down, spread or not, the scenario's clause."""
    phrases = spread_phrases(config, facts)
    spread = "；".join(phrases) + "，有扩散性" if phrases else "无扩散性"
    line = f"{_names(config, facts.ordered)}全部业务中断；{spread}"
    if facts.scenario is not None:
        line += f"（{SCENARIO_CLAUSE[facts.scenario]}）"
    return line


def system_line(config: Config, impact: SystemImpact, causes: tuple[str, ...]) -> str:
    """Why one system's business counts as affected."""
    system = impact.system
    kind = "基础运营网络" if system.kind == "operator" else "重要信息系统"
    prefix = "【优先保障，§6.3】" if system.priority else ""
    if impact.critical_out:
        nodes = "、".join(
            node_label(config, n) + ("中断" if n in causes else "不可达")
            for n in impact.critical_out
        )
        why = f"关键节点{nodes}"
    else:
        why = (
            f"{len(impact.out)}/{impact.total}个节点中断或不可达，"
            f"达到{impact.threshold:.0%}以上（§7.1）"
        )
    return f"{prefix}{kind}{system.name}：{why}，全部业务受影响"


def scenario_line(config: Config, facts: Facts) -> str:
    """Which condition of §3.3 is met, with §7.1 where a count decides."""
    rules, ops, keys = config.plan.scenario, facts.operators, facts.key_systems
    clause = SCENARIO_CLAUSE[facts.scenario] if facts.scenario else "§3.3"
    if facts.scenario == 1:
        share = (ops + keys) / len(config.inventory.system)
        return (
            f"受影响网络和系统占全区的{share:.0%}（达到{rules.all_share:.0%}以上），并有扩散性，"
            f"可能影响本区所有网络和重要信息系统并扩散到全区（{clause}）"
        )
    if facts.scenario == 2:
        if ops >= rules.operators_for_scenario2:
            why = f"{ops}家基础运营网络同时受影响（{rules.operators_for_scenario2}家以上，§7.1）"
        elif keys >= rules.key_systems_without_spread:
            why = (
                f"{keys}家重要信息系统全部业务受影响（{rules.key_systems_without_spread}家以上，"
                f"§7.1），超出情形3的“1至2家”"
            )
        elif keys >= rules.key_systems_with_spread:
            why = (
                f"{keys}家重要信息系统全部业务受影响（{rules.key_systems_with_spread}家以上，"
                f"§7.1）并有继续扩散的可能性"
            )
        else:
            why = "本区基础运营网络受影响并有继续扩散的可能性"
        return f"{why}，符合预警情形2（{clause}）"
    parts = [f"{ops}家基础运营网络" if ops else "", f"{keys}家重要信息系统" if keys else ""]
    scope = "和".join(p for p in parts if p)
    if facts.spread.any:
        return (
            f"影响{scope}的全部业务；虽有扩散迹象，但未达到情形2的条件，"
            f"按预警情形3研判并密切关注发展（{clause}）"
        )
    return f"影响{scope}的全部业务，无扩散性，符合预警情形3（{clause}）"


def reasons(config: Config, facts: Facts) -> tuple[str, ...]:
    """All reasons, headline first, level last."""
    if not facts.causes and not facts.unreachable:
        return ("未发现中断或不可达的节点，无受影响的网络和系统，不构成预警情形（§3.3）",)
    lines: list[str] = []
    if facts.ordered:
        lines.append(headline(config, facts))
        lines.extend(system_line(config, facts.impacts[sid], facts.causes) for sid in facts.ordered)
    if facts.causes:
        labels = "、".join(node_label(config, n) for n in facts.causes)
        lines.append(f"中断节点：{labels}")
    if facts.unreachable:
        labels = "、".join(node_label(config, n) for n in facts.unreachable)
        lines.append(
            f"因上级节点中断而不可达：{labels}；计入所属系统的业务影响，不单独计为事故原因"
        )
    if facts.streets:
        lines.append(f"涉及镇（街道）：{'、'.join(facts.streets)}")
    if facts.scenario is None:
        lines.append("中断节点未使任何网络或系统的全部业务受影响，不构成预警情形（§3.3）")
        return tuple(lines)
    for name in facts.guarantees:
        lines.append(f"受影响系统处于保障期“{name}”，应优先保障（§3.1.2 (4)、§6.3）")
    lines.append(scenario_line(config, facts))
    lines.append(LEVEL_LINES[facts.scenario])
    return tuple(lines)

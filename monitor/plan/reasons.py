"""The scorer's reasons: Chinese sentences in the plan's words, each citing its clause. Pure.

Order: the headline first (incidents use it as the title), then one line per
affected system — priority systems (优先保障单位, §6.3) first — then the
partial systems, the cause and cut-off nodes, what was left out and why
(maintenance), the 保障期 in force, the clause that decided the scenario and
the proposed level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.config import Config
from monitor.nodes.state import Status
from monitor.plan.impact import SystemImpact
from monitor.plan.names import LEVEL_NAMES, SCENARIOS, duration_name
from monitor.plan.priority import is_priority
from monitor.plan.spread import Spread
from monitor.plan.verdict import Counts, Rule, Verdict

LEVEL_LINES = {
    "I": f"建议启动{LEVEL_NAMES['I']}应急响应，由总指挥启动并组织（§4.3.1）",
    "II": f"建议启动{LEVEL_NAMES['II']}应急响应，由总指挥或副总指挥启动（§4.3.2）",
}
PRIORITY = "【优先保障单位，§6.3】"
MAX_NAMES = 4
NOTHING_DOWN = "未发现中断或不可达的节点，无受影响的网络和系统，不构成预警情形（§3.3）"
KIND_NAMES = {"operator": "基础运营网络", "key_system": "重要信息系统"}
S2, S3 = SCENARIOS[2], SCENARIOS[3]


@dataclass(frozen=True)
class Facts:
    """Everything the sentences are made of."""

    impacts: Mapping[str, SystemImpact]
    ordered: tuple[str, ...]
    partial: tuple[str, ...]
    counts: Counts
    streets: tuple[str, ...]
    spread: Spread
    verdict: Verdict
    causes: tuple[str, ...]
    unreachable: tuple[str, ...]
    repair: tuple[str, ...]
    left_out: Mapping[str, str]
    left_out_status: Mapping[str, Status]
    guarantees: tuple[str, ...] = ()


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
    window = duration_name(config.plan.spread.window)
    if spread.systems_growth:
        phrases.append(f"{window}内受影响系统由{spread.earlier_systems}增至{spread.now_systems}")
    if spread.streets_growth:
        phrases.append(
            f"{window}内涉及镇（街道）由{spread.earlier_streets}个增至{spread.now_streets}个"
        )
    if spread.reach:
        phrases.append(
            f"中断涉及{spread.now_streets}个镇（街道），达到"
            f"{config.plan.spread.min_streets}个以上（plan.toml [spread] min_streets，§7.1）"
        )
    return phrases


def headline(config: Config, facts: Facts) -> str:
    """The first reason: what is down, spread or not, the scenario's clause."""
    phrases = spread_phrases(config, facts)
    spread = "；".join(phrases) + "，有扩散性" if phrases else "无扩散性"
    line = f"{_names(config, facts.ordered)}全部业务中断；{spread}"
    if facts.verdict.scenario is not None:
        line += f"（{facts.verdict.scenario.clause}）"
    return line


def _why(config: Config, impact: SystemImpact, causes: tuple[str, ...]) -> str:
    if impact.critical_out:
        nodes = "、".join(
            node_label(config, n) + ("中断" if n in causes else "不可达")
            for n in impact.critical_out
        )
        return f"关键节点{nodes}"
    if impact.threshold >= 1.0:
        return f"全部{impact.judged}个节点中断或不可达"
    return (
        f"{len(impact.out)}/{impact.judged}个节点中断或不可达，达到本系统设定的"
        f"{impact.threshold:.0%}以上（nodes.toml affected_share，§7.1）"
    )


def system_line(config: Config, impact: SystemImpact, causes: tuple[str, ...]) -> str:
    """Why one system's whole business counts as down."""
    system = impact.system
    prefix = PRIORITY if is_priority(config, system.id) else ""
    why = _why(config, impact, causes)
    return f"{prefix}{KIND_NAMES[system.kind]}{system.name}：{why}，全部业务受影响（§3.3）"


def partial_line(config: Config, impact: SystemImpact) -> str:
    """A system with part of its business down: shown, never a scenario by itself."""
    system = impact.system
    prefix = PRIORITY if is_priority(config, system.id) else ""
    if impact.threshold >= 1.0:
        rule = "未达到“全部业务”（全部节点或关键节点中断）"
    else:
        rule = f"未达到本系统设定的{impact.threshold:.0%}（nodes.toml affected_share）"
    return (
        f"{prefix}{KIND_NAMES[system.kind]}{system.name}：{len(impact.out)}/{impact.judged}个"
        f"节点中断或不可达，{rule}，部分业务受影响，不单独构成预警情形（§3.3）"
    )


def _scope(counts: Counts) -> str:
    parts = [
        f"{counts.operators}家基础运营网络" if counts.operators else "",
        f"{counts.key_systems}家重要信息系统" if counts.key_systems else "",
    ]
    return "和".join(p for p in parts if p)


def scenario_line(config: Config, facts: Facts) -> str:
    """Which clause decided the scenario, with §7.1 where a count decides."""
    counts, rule, verdict = facts.counts, facts.verdict.rule, facts.verdict
    clause = verdict.scenario.clause if verdict.scenario else "§3.3"
    limit = config.plan.scenario.max_operators_without_spread
    if rule is Rule.ALL:
        return (
            f"全部{counts.all_operators}家基础运营网络和全部{counts.all_key_systems}家重要信息系统"
            f"均受影响，即“本区所有网络和重要信息系统”（{clause}、§4.3.1 ①）"
        )
    if rule is Rule.OPERATORS:
        if counts.operators == counts.all_operators:
            what = (
                f"本区全部{counts.operators}家基础运营网络受影响（{S2.clause}“本区基础运营网络”）"
            )
        else:
            what = f"{counts.operators}家基础运营网络受影响"
        if limit == 1:
            return (
                f"{what}；plan.toml 取{S3.clause}的“1家基础运营网络”（§4.3.2 ①为“1至2家”，"
                f"两节计数不同），超出即按{S2.label}研判（{clause}）"
            )
        return (
            f"{what}，超出§4.3.2 ①的“1至2家基础运营网络”，符合预警{S2.label}（{clause}、§4.3.1 ①）"
        )
    if rule is Rule.KEY_SYSTEMS:
        return (
            f"{counts.key_systems}家重要信息系统全部业务受影响，"
            f"超出{S3.label}和§4.3.2 ①的“1至2家”，属“2家以上”（§7.1“以上”含本数），"
            f"符合预警{S2.label}（{clause}、§4.3.1 ①）"
        )
    if rule is Rule.KEY_SYSTEMS_SPREAD:
        return (
            f"{counts.key_systems}家重要信息系统全部业务受影响，属“2家以上”（§7.1“以上”含本数），"
            f"并有继续扩散的可能性，符合预警{S2.label}（{clause}、§4.3.1 ①）"
        )
    if rule is Rule.OPERATOR_SPREAD:
        return (
            f"本区基础运营网络受影响并有继续扩散的可能性，符合预警{S2.label}（{clause}、§4.3.1 ①）"
        )
    scope = _scope(counts)
    if rule is Rule.WITHIN_SPREAD:
        return (
            f"影响{scope}的全部业务；虽有扩散迹象，但{S2.label}要求“2家以上重要信息系统”或"
            f"基础运营网络，按预警{S3.label}研判并密切关注发展（{clause}）"
        )
    line = f"影响{scope}的全部业务，无扩散性，符合预警{S3.label}（{clause}、§4.3.2 ①）"
    if counts.operators == 2:
        line += (
            f"；注意：{S3.clause}列“1家基础运营网络”，§4.3.2 ①列“1至2家基础运营网络……无扩散性”"
            "（Ⅱ级），两节计数不同，按§4.3.2 ①研判（plan.toml [scenario] "
            "max_operators_without_spread = 2）"
        )
    return line


def left_out_line(config: Config, facts: Facts) -> str:
    """The nodes left out of the judgement, and why."""
    parts = []
    for node_id, why in sorted(facts.left_out.items()):
        status = facts.left_out_status.get(node_id, Status.UNKNOWN).value
        parts.append(f"{node_label(config, node_id)}（当前{status}，{why}）")
    return f"以下节点不计入研判，既不计为中断也不计为正常：{'、'.join(parts)}"


def _nodes_lines(config: Config, facts: Facts) -> list[str]:
    lines: list[str] = []
    if facts.causes:
        lines.append(f"中断节点：{'、'.join(node_label(config, n) for n in facts.causes)}")
    if facts.unreachable:
        labels = "、".join(node_label(config, n) for n in facts.unreachable)
        lines.append(
            f"因上级节点中断而不可达：{labels}；计入所属系统的业务影响，不单独计为事故原因"
        )
    if facts.streets:
        lines.append(f"涉及镇（街道）：{'、'.join(facts.streets)}")
    if len(facts.repair) > 1:
        order = "、".join(node_label(config, n) for n in facts.repair)
        lines.append(f"建议抢修顺序（§6.3 优先保障单位在前）：{order}")
    return lines


def reasons(config: Config, facts: Facts) -> tuple[str, ...]:
    """All reasons, headline first, level last."""
    lines: list[str] = []
    if facts.ordered:
        lines.append(headline(config, facts))
        lines.extend(system_line(config, facts.impacts[sid], facts.causes) for sid in facts.ordered)
    lines.extend(partial_line(config, facts.impacts[sid]) for sid in facts.partial)
    lines.extend(_nodes_lines(config, facts))
    if facts.left_out:
        lines.append(left_out_line(config, facts))
    lines.extend(facts.guarantees)
    scenario = facts.verdict.scenario
    if scenario is None:
        if not facts.causes and not facts.unreachable:
            lines.insert(0, NOTHING_DOWN)
        else:
            lines.append("没有网络或系统的全部业务受影响，不构成预警情形（§3.3）")
        return tuple(lines)
    lines.append(scenario_line(config, facts))
    lines.append(LEVEL_LINES[scenario.proposed_level])
    return tuple(lines)

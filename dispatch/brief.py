"""The written brief report (书面简要报告, §4.1), drafted from a notice view (pure).

§4.1: "书面简要报告的内容包括可能对通信网络设施造成影响的灾害性质，引发造成通信网络
中断的原因、影响的范围、拟采取的措施、社会影响等情况". Each of the five sections is
drafted from what the monitor knows; what only people can know (the real cause,
social effects beyond the networks) is marked 待核实 for the duty officer to fill
in before submitting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SECTION_TITLES = ("灾害性质", "中断原因", "影响范围", "拟采取的措施", "社会影响")
CLOSED = ("已关闭", "误报", "已转交")


def brief_sections(view: Mapping[str, Any]) -> list[dict[str, str]]:
    """The five sections of §4.1, each {"title", "text"}, in the plan's order."""
    texts = (_nature(view), _cause(view), _scope(view), _measures(view), _impact(view))
    return [{"title": t, "text": x} for t, x in zip(SECTION_TITLES, texts, strict=True)]


def names(items: Sequence[str], none: str = "无") -> str:
    """Items joined the Chinese way, or `none`."""
    return "、".join(items) if items else none


def _nature(view: Mapping[str, Any]) -> str:
    affected = view["affected"]
    if not affected:
        source = f"（{view['source_name']}）" if view["source_name"] else ""
        return f"{view['incident_title'] or '通信网络事件'}{source}。性质待核实。"
    state = "中断后已恢复" if view["restored"] else "业务中断"
    text = f"通信网络事故：{names(affected)}{state}。"
    if view["scenario_name"]:
        text += f"经监测研判，事态达到预警{view['scenario_name']}"
        text += f"，建议{view['level_name']}应急响应。" if view["level_name"] else "。"
    else:
        text += "尚未达到预警情形。"
    if view["status_name"]:
        text += f"事件状态：{view['status_name']}。"
    return text


def _cause(view: Mapping[str, Any]) -> str:
    parts = []
    if view["reasons"]:
        parts.append("监测研判：" + "；".join(r.rstrip("。") for r in view["reasons"]) + "。")
    down = [n for n in view["nodes"] if n["state"] == "中断"]
    cut_off = [n for n in view["nodes"] if n["state"] != "中断"]
    if down:
        parts.append(f"监测到{len(down)}个节点中断（{names([n['name'] for n in down])}）")
        if cut_off:
            parts[-1] += f"，另有{len(cut_off)}个节点因上游中断不可达"
        parts[-1] += "。"
    if view["note"]:
        parts.append(f"现场信息：{view['note']}。")
    parts.append("中断的具体原因待相关运营企业和责任单位核实后续报。")
    return "".join(parts)


def _scope(view: Mapping[str, Any]) -> str:
    text = (
        f"基础运营网络：{names(view['operator_networks'])}；"
        f"重要信息系统：{names(view['key_systems'])}；"
        f"涉及镇（街道）：{names(view['streets'])}；"
        f"受影响节点{len(view['nodes'])}个。"
    )
    return text + ("有继续扩散的可能。" if view["spread"] else "暂无扩散迹象。")


def _measures(view: Mapping[str, Any]) -> str:
    if view["status_name"] in CLOSED:
        return f"事件{view['status_name']}，处置工作已结束，无须再采取应急措施。"
    steps = []
    if view["warning_active"] and view["warning_scenario_name"]:
        by = f"（{view['issuer_name']}签发）" if view["issuer_name"] else ""
        steps.append(f"已发布{view['warning_scenario_name']}预警{by}")
    elif view["scenario_name"] and not view["restored"]:
        steps.append(f"建议区通信网络指挥部发布{view['scenario_name']}预警")
    if view["response_level_name"]:
        by = f"（{view['starter_name']}启动）" if view["starter_name"] else ""
        steps.append(f"已启动{view['response_level_name']}应急响应{by}")
    elif view["level_name"] and not view["restored"]:
        steps.append(f"建议启动{view['level_name']}应急响应")
    units = view["operator_units"]
    if units:
        steps.append(f"通知{names(units)}落实应急准备，组织抢修恢复并及时报告进展")
    steps.append("研究确定应急准备措施和工作方案，部署资源调度和部门联动")
    steps.append("根据事态发展适时调整预警级别或解除预警，随时续报")
    return "".join(f"（{i}）{s}；" for i, s in enumerate(steps, 1)).rstrip("；") + "。"


def _impact(view: Mapping[str, Any]) -> str:
    parts = []
    if view["priority_systems"]:
        parts.append(f"{names(view['priority_systems'])}属党政机关和重点单位保障对象，须优先恢复。")
    if view["streets"]:
        parts.append(f"影响{names(view['streets'])}范围内的通信服务。")
    if view["spread"]:
        parts.append("有扩散到更大范围的可能。")
    parts.append("其他社会影响（群众生产生活、舆情）待核实后续报。")
    return "".join(parts)

"""What notice templates see: a plain dict built from a notice and the config (pure).

Names replace ids (systems, nodes), times are local (`[dispatch] timezone`),
the HQ office's duty phone and those of the operators concerned are listed as
call-back numbers (landlines: shown, never texted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch import gongwen
from dispatch.fallthrough_view import missed_view
from monitor.config import Config
from monitor.config.names import INCIDENT_SITE
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.plan.assessment import Assessment
from monitor.plan.names import (
    NO_SCENARIO_NAME,
    duration_name,
    level_name,
    scenario_label,
    source_name,
    status_name,
)
from monitor.plan.priority import is_priority, repair_order, systems_first

TITLES: dict[str, str] = {
    NoticeKind.DETECTION: "接报",
    NoticeKind.WARNING_PROPOSAL: "预警建议",
    NoticeKind.WARNING: "预警通知",
    NoticeKind.UPGRADE: "事态升级",
    NoticeKind.DOWNGRADE: "事态降级",
    NoticeKind.RESPONSE_PROPOSAL: "响应建议",
    NoticeKind.RESPONSE_START: "启动应急响应",
    NoticeKind.RESPONSE_END: "应急结束",
    NoticeKind.BRIEF_REPORT: "书面简要报告（草稿）",
    NoticeKind.FOLLOW_UP: "续报",
    NoticeKind.REPORT_REMINDER: "报告时限提醒",
    NoticeKind.REPORT_OVERDUE: "报告超时",
    NoticeKind.FOLLOW_UP_REMINDER: "续报时限提醒",
    NoticeKind.FOLLOW_UP_OVERDUE: "续报超时",
    NoticeKind.QUERY: "上级催报核实",
    NoticeKind.QUERY_REMINDER: "答复时限提醒",
    NoticeKind.QUERY_OVERDUE: "答复超时",
    NoticeKind.GROUP_TASKS: "工作组任务",
    NoticeKind.FIRST_ACTION: "先期处置",
    NoticeKind.PUBLIC_STATEMENT: "信息发布稿（待审核）",
    NoticeKind.LIFT_PROPOSAL: "解除建议",
    NoticeKind.LIFT: "预警解除",
    NoticeKind.CLOSED: "事件关闭",
    NoticeKind.MONITOR_BLIND: "监测系统失明",
    NoticeKind.MONITOR_SIGHTED: "监测系统恢复观察",
    NoticeKind.FLAPPING_START: "节点频繁变化",
    NoticeKind.FLAPPING_END: "节点恢复稳定",
    NoticeKind.PARTIAL: "部分业务受影响（知悉）",
    NoticeKind.FALLTHROUGH: "通知改发",
    "test": "测试",
}
WARNING_ACTIONS = (
    "通知相关基础电信运营企业落实通信网络事故应急救援有关准备工作",
    "研究确定通信网络事故应急准备措施和工作方案",
    "紧急部署资源调度、组织动员和部门联动等各项准备工作",
    "根据事态发展情况，适时调整预警级别或解除预警",
)


def request_view(config: Config, request: NoticeRequest) -> dict[str, Any]:
    """The template context of a notice request (see build_view)."""
    return build_view(
        config,
        str(request.kind),
        request.incident_id,
        request.assessment,
        request.context,
        request.created_at,
    )


def build_view(
    config: Config,
    kind: str,
    incident_id: int | None,
    assessment: Assessment | None,
    context: Mapping[str, Any],
    created_at: datetime,
) -> dict[str, Any]:
    """The template context of one notice."""
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    at = _time(context.get("at")) or created_at
    detected = _time(context.get("detected_at"))
    scenario = assessment.scenario if assessment else context.get("scenario")
    level = assessment.level if assessment else context.get("level")
    view: dict[str, Any] = {
        "kind": str(kind),
        "title": _title(str(kind), context),
        "hq": config.contacts.hq.name,
        "office": config.contacts.hq.office_name,
        "incident_id": incident_id,
        "incident_label": f"事件#{incident_id}" if incident_id is not None else "",
        "at": _local(at, zone),
        "at_short": _local(at, zone, "%H:%M"),
        "detected_at": _local(detected, zone),
        "scenario_name": scenario_label(scenario),
        "level_name": level_name(level),
        "from_name": scenario_label(_data(context).get("from"), NO_SCENARIO_NAME),
        "to_name": scenario_label(_data(context).get("to"), NO_SCENARIO_NAME),
        "adjusted_by_person": bool(_data(context).get("by_person")),
        "subject_text": str(_data(context).get("subject") or ""),
        "asker": str(_data(context).get("asker") or ""),
        "report_deadline_name": duration_name(config.plan.report.deadline),
        "query_deadline_name": duration_name(config.plan.report.query_deadline),
        "follow_up_every_name": duration_name(config.plan.report.follow_up_every),
        "warning_scenario_name": scenario_label(context.get("warning_scenario")),
        "response_level_name": level_name(context.get("response_level")),
        "status_name": status_name(context.get("status")),
        "restored": bool(context.get("restored")),
        **missed_view(
            context.get("missed"), duration_name(config.daemon.dispatch.fallback_after), TITLES
        ),
        "drill": bool(context.get("drill")),
        "actions": WARNING_ACTIONS,
        "merged": int(context.get("coalesced", 1) or 1),
        "incident_title": context.get("title") or "",
        "source_name": source_name(str(context.get("source") or "")),
        "warning_active": bool(context.get("warning_scenario")) and kind != NoticeKind.LIFT,
        "response_active": bool(context.get("response_level")) and kind != NoticeKind.RESPONSE_END,
        **{key: context.get(key) or "" for key in _TEXT_KEYS},
    }
    view.update(_situation(config, assessment))
    view.update(_callbacks(config, view["operator_units"]))
    view.update(_deadline(context, zone))
    view.update(_group(config, context, view["streets"]))
    view.update(_gongwen(config, str(kind), context, view, zone, at))
    return view


def _group(config: Config, context: Mapping[str, Any], streets: list[str]) -> dict[str, Any]:
    """The working group a notice is addressed to (§2.4): lead, members, duties."""
    target = str(context.get("target") or "")
    group = next((g for g in config.contacts.working_group if g.name == target), None)
    if group is None:
        return {"group_name": target, "group_lead": "", "group_members": [], "group_duties": ""}
    return {
        "group_name": group.name,
        "group_lead": group.lead,
        "group_members": [
            n for m in group.members for n in (streets if m == INCIDENT_SITE and streets else [m])
        ],
        "group_duties": group.duties.rstrip("。"),
    }


def _gongwen(
    config: Config,
    kind: str,
    context: Mapping[str, Any],
    view: Mapping[str, Any],
    zone: ZoneInfo,
    at: datetime,
) -> dict[str, Any]:
    """公文 parts: 标题, 主送, 署名, 成文日期, 附注 (the plan and clauses), facts by office."""
    cited: list[str] = list(gongwen.CLAUSES.get(kind, ()))
    reasons = []
    for reason in view["reasons"]:
        text, found = gongwen.strip_citations(reason)
        reasons.append(text)
        cited += found
    office = str(_data(context).get("office") or "")
    parts: dict[str, Any] = {
        **gongwen.header(config, kind, context, view),
        "reasons": reasons,
        "date_cn": gongwen.date_cn(at, zone),
        "actor_who": gongwen.who(str(context.get("actor_name") or ""), office),
        "plan_label": gongwen.plan_label(config),
    }
    parts["annotation"] = gongwen.annotation(config, cited)
    parts["doc_title"] = gongwen.doc_title({**view, **parts})
    return parts


_TEXT_KEYS = ("actor_name", "issuer_name", "starter_name", "note", "transferred_to")


def _title(kind: str, context: Mapping[str, Any]) -> str:
    title = TITLES.get(kind, kind)
    if kind in (NoticeKind.UPGRADE, NoticeKind.DOWNGRADE) and context.get("warning_scenario"):
        return "预警升级" if kind == NoticeKind.UPGRADE else "预警降级"
    return title


def _situation(config: Config, assessment: Assessment | None) -> dict[str, Any]:
    if assessment is None:
        return {
            "operator_networks": [], "key_systems": [], "affected": [], "priority_systems": [],
            "operator_units": [], "streets": [], "spread": False, "reasons": [], "nodes": [],
        }  # fmt: skip
    systems = config.systems
    ordered = systems_first(config, assessment.operator_networks + assessment.key_systems)
    affected = [systems[s] for s in ordered if s in systems]  # §6.3 priority first
    operators = [s for s in affected if s.kind == "operator"]
    keys = [s for s in affected if s.kind == "key_system"]
    down = repair_order(config, assessment.nodes_down, assessment.nodes_unreachable)
    nodes = [_node(config, n, "中断") for n in down]
    nodes += [_node(config, n, "不可达（上游中断）") for n in assessment.nodes_unreachable]
    return {
        "operator_networks": [s.name for s in operators],
        "key_systems": [s.name for s in keys],
        "affected": [s.name for s in affected],
        "priority_systems": [s.name for s in affected if is_priority(config, s.id)],
        "operator_units": list(dict.fromkeys(s.unit for s in operators)),
        "streets": list(assessment.streets),
        "spread": assessment.spread,
        "reasons": list(assessment.reasons),
        "nodes": nodes,
    }


def _node(config: Config, node_id: str, state: str) -> dict[str, str]:
    node = config.nodes.get(node_id)
    if node is None:
        return {
            "id": node_id,
            "name": node_id,
            "system": "",
            "street": "",
            "address": "",
            "state": state,
        }
    system = config.systems.get(node.system)
    return {
        "id": node.id,
        "name": node.name,
        "system": system.name if system else node.system,
        "street": node.street or "",
        "address": node.address,
        "state": state,
    }


def _callbacks(config: Config, operator_units: list[str]) -> dict[str, Any]:
    office = config.units.get(config.contacts.hq.office_unit)
    office_phone = office.duty_phone if office and office.duty_phone else ""
    callback = []
    if office is not None and office_phone:
        office_label = f"{config.contacts.hq.office_name}（{office.name}）"
        callback.append({"unit": office_label, "phone": office_phone})
    for name in operator_units:
        unit = config.units.get(name)
        if unit is not None and unit.duty_phone:
            callback.append({"unit": unit.name, "phone": unit.duty_phone})
    return {"office_phone": office_phone, "callback": callback}


def _deadline(context: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    deadline = _time(context.get("deadline_at"))
    if deadline is None:
        return {"deadline_at": "", "deadline_short": "", "minutes_left": 0}
    at = _time(context.get("at")) or deadline
    left = max(0, round((deadline - at) / timedelta(minutes=1)))
    return {
        "deadline_at": _local(deadline, zone),
        "deadline_short": _local(deadline, zone, "%H:%M"),
        "minutes_left": left,
    }


def _data(context: Mapping[str, Any]) -> Mapping[str, Any]:
    data = context.get("data")
    return data if isinstance(data, Mapping) else {}


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _local(value: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return value.astimezone(zone).strftime(fmt) if value is not None else ""

"""The parts of a 公文 (GB/T 9704—2012) that notices and reports share (pure).

- 标题: "关于……的通知/报告/请示", no clause numbers, no closing punctuation;
- 主送机关: who the document is addressed to;
- 发文机关署名: 区通信网络指挥部 for the HQ's decisions, its 办公室 otherwise —
  never a person;
- 成文日期: Arabic numerals, no padding ("2026年12月1日", §7.3.5.4 of the standard);
- 附注: the plan (文号, version) and the clauses applied — never in the body;
- 联系人 and telephone: the HQ office's duty line.

The body states facts (who did what, by office) and proposals ("建议……").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config import Config

_CITATION = re.compile(r"（(§[^（）]*)）|\(§[^()]*\)")

# The HQ decides these (§2.1 (2)); the office reports, proposes and reminds (§2.2).
HQ_DECISIONS = frozenset(
    {"warning", "upgrade", "downgrade", "response_start", "response_end", "lift", "group_tasks"}
)
PROPOSALS = frozenset({"warning_proposal", "response_proposal", "lift_proposal"})
TO_UNITS = "区通信网络指挥部各成员单位，各有关单位"

# The clauses each notice applies: they go in the 附注.
CLAUSES: dict[str, tuple[str, ...]] = {
    "detection": ("3.1.3", "4.2"),
    "warning_proposal": ("3.3", "3.4"),
    "warning": ("3.4", "3.5"),
    "upgrade": ("3.3", "3.5"),
    "downgrade": ("3.3", "3.5"),
    "response_proposal": ("4.2", "4.3"),
    "response_start": ("4.3",),
    "response_end": ("4.6",),
    "brief_report": ("4.1",),
    "follow_up": ("4.1",),
    "report_reminder": ("4.1",),
    "report_overdue": ("4.1",),
    "follow_up_reminder": ("4.1",),
    "follow_up_overdue": ("4.1",),
    "query": ("4.1",),
    "query_reminder": ("4.1",),
    "query_overdue": ("4.1",),
    "group_tasks": ("2.4", "4.3"),
    "first_action": ("4.4",),
    "public_statement": ("4.5",),
    "lift_proposal": ("3.6",),
    "lift": ("3.6",),
    "closed": ("4.2",),
}


def date_cn(moment: datetime | None, zone: ZoneInfo) -> str:
    """成文日期: "2026年12月1日" (no padding)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日"


def strip_citations(text: str) -> tuple[str, list[str]]:
    """A text without its "（§…）" citations, and the citations (for the 附注)."""
    found = [m.group(1) or m.group(0).strip("()") for m in _CITATION.finditer(text)]
    return _CITATION.sub("", text), found


def plan_label(config: Config) -> str:
    """《预案》（文号，版本）: how the 附注 names the plan."""
    plan = config.plan.plan
    return f"《{plan.title}》（{plan.number}，{plan.version}年版）"


def annotation(config: Config, clauses: Iterable[str]) -> str:
    """附注: the plan and the clauses applied ("第3.3条（情形3）"), deduplicated in order."""
    found: dict[str, list[str]] = {}
    for clause in clauses:
        number, _, detail = clause.removeprefix("§").strip().partition(" ")
        if not number:
            continue
        details = found.setdefault(number, [])
        if detail and detail not in details:
            details.append(detail)
    cited = "、".join(f"第{n}条" + (f"（{'、'.join(d)}）" if d else "") for n, d in found.items())
    return f"依据{plan_label(config)}{cited}"


def signer(config: Config, kind: str) -> str:
    """发文机关署名: the HQ for its decisions, its office otherwise."""
    return config.contacts.hq.name if kind in HQ_DECISIONS else config.contacts.hq.office_name


def addressee(
    config: Config, kind: str, by_person: bool = True, view: Mapping[str, Any] | None = None
) -> str:
    """主送机关."""
    view = view or {}
    if kind in ("group_tasks", "public_statement") and view.get("group_name"):
        return str(view["group_name"])
    if kind == "first_action":
        units = [*view.get("operator_units", []), *view.get("streets", [])]
        return "，".join(units) or "事发单位"
    if kind in HQ_DECISIONS and (by_person or kind not in ("upgrade", "downgrade")):
        return TO_UNITS
    if kind in ("closed", "test"):
        return TO_UNITS
    if kind.endswith(("_reminder", "_overdue")) or kind in ("query", "detection", "fallthrough"):
        return f"{config.contacts.hq.office_name}值班室"
    return config.contacts.hq.name


def contact(config: Config) -> dict[str, str]:
    """联系人 and telephone: the HQ office's duty line."""
    office_unit = config.contacts.hq.office_unit
    unit = config.units.get(office_unit)
    phone = unit.duty_phone if unit is not None and unit.duty_phone else ""
    return {"contact_name": f"{office_unit}应急值班室", "contact_phone": phone}


def who(name: str, office: str) -> str:
    """A person by office: "副总指挥区工信局局长" (the office once, the name as listed)."""
    if not office or name.startswith(office):
        return name
    return f"{office}{name}"


def header(
    config: Config, kind: str, context: Mapping[str, Any], view: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The 公文 parts of one notice's view."""
    by_person = bool((context.get("data") or {}).get("by_person"))
    return {
        "signer": signer(config, kind),
        "addressee": addressee(config, kind, by_person, view),
        **contact(config),
    }


def doc_title(view: Mapping[str, Any]) -> str:
    """标题: "关于……的通知/报告/请示" (no clause numbers, no closing punctuation)."""
    kind = view["kind"]
    what = "、".join(view["affected"][:2]) + ("等系统" if len(view["affected"]) > 2 else "")
    event = f"{what}中断" if what else (view["incident_title"][:30] or "通信网络事件")
    scenario = view["warning_scenario_name"] or view["scenario_name"]
    level = view["response_level_name"] or view["level_name"]
    titles = {
        "detection": f"关于{'监测发现' if what else '接报'}{event}的报告",
        "warning_proposal": f"关于建议发布{view['scenario_name']}预警的请示",
        "warning": f"关于发布{scenario}预警的通知",
        "response_proposal": f"关于建议启动{view['level_name']}应急响应的请示",
        "response_start": f"关于启动{level}应急响应的通知",
        "response_end": f"关于{level}应急响应结束的通知",
        "brief_report": f"关于{event}的书面简要报告",
        "follow_up": f"关于{event}的续报",
        "report_reminder": "关于书面报告报送时限的提醒",
        "report_overdue": "关于书面报告已超过报送时限的督办",
        "follow_up_reminder": "关于书面续报报送时限的提醒",
        "follow_up_overdue": "关于书面续报已超过报送时限的督办",
        "query": "关于上级催报核实事项限时回应的提示",
        "query_reminder": "关于上级催报核实事项答复时限的提醒",
        "query_overdue": "关于上级催报核实事项已超过答复时限的督办",
        "group_tasks": f"关于{view['group_name']}落实{level}应急响应任务的通知",
        "first_action": f"关于立即对{event}开展先期处置的通知",
        "public_statement": f"关于{event}信息发布稿的请示",
        "lift_proposal": f"关于建议解除{view['warning_scenario_name']}预警的请示",
        "lift": f"关于解除{view['warning_scenario_name']}预警的通知",
        "closed": f"关于{event}处置情况的通报",
        "test": "关于通知渠道测试的通知",
        "fallthrough": "关于部分通知未按时送达已改由其他通道发送的报告",
    }
    if kind in ("upgrade", "downgrade"):
        if view["adjusted_by_person"]:
            return f"关于将预警由{view['from_name']}调整为{view['to_name']}的通知"
        return f"关于{event}事态变化的报告"
    return titles.get(kind, f"关于{event}的通知")

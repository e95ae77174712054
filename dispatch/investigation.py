"""The §5 investigation as structured fields, drafted from the timeline, completed by the office.

§5: "对事件发生原因、性质、影响、后果、责任及应急处置能力、恢复重建等问题进行全面调查
评估". Each field has a draft built from what was recorded (the confirmation
note, notes and reports, the monitor's findings, the durations) and the text
the office wrote with `commwatch report edit` (`incidents.report_fields`);
the report shows the office's text where there is one, else the draft.
`proposed_and_done` lists what the office proposed beside what the HQ did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.gongwen import strip_citations
from monitor.incidents.duty_log import REPORT_FIELDS
from monitor.incidents.lifecycle import Incident
from monitor.incidents.store import EventRecord
from monitor.plan.names import level_name, scenario_label, status_name

FIELDS = REPORT_FIELDS
NOTE_KINDS = ("confirmed", "note", "information", "reported", "transferred", "false_alarm")


def fields_view(
    incident: Incident,
    events: Sequence[EventRecord],
    brief: Sequence[Mapping[str, str]],
    durations: Sequence[Mapping[str, str]],
    late: Sequence[str],
) -> list[dict[str, str]]:
    """Each §5 field: key, title, draft, the office's text (if any), and the text to show."""
    sections = {s["title"]: s["text"] for s in brief}
    notes = [_clean(e.note) for e in events if e.kind in NOTE_KINDS and e.note.strip()]
    drafts = {
        "cause": _cause(events, notes, sections.get("中断原因", "")),
        "nature": sections.get("灾害性质", ""),
        "impact": sections.get("影响范围", "") + sections.get("社会影响", ""),
        "consequences": _consequences(incident, durations),
        "responsibility": "由事件调查组根据运营企业和责任单位的报告认定。",
        "capacity": _capacity(durations, late),
        "recovery": _recovery(incident),
    }
    edits = incident.report_fields or {}
    out = []
    for key, title in FIELDS.items():
        edit = edits.get(key)
        final = str(edit.get("text", "")) if isinstance(edit, Mapping) else ""
        by = str(edit.get("by_name", "")) if isinstance(edit, Mapping) else ""
        text = (final or drafts[key]).strip().rstrip("。") + "。"
        out.append(
            {"key": key, "title": title, "draft": drafts[key], "final": final, "by": by,
             "text": text}
        )  # fmt: skip
    return out


def _clean(text: str) -> str:
    return strip_citations(text)[0].strip().rstrip("。")


def _cause(events: Sequence[EventRecord], notes: list[str], monitored: str) -> str:
    confirmed = [_clean(e.note) for e in events if e.kind == "confirmed" and e.note.strip()]
    parts = []
    if confirmed:
        parts.append("确认时查明：" + "；".join(confirmed) + "。")
    others = [n for n in notes if n not in confirmed]
    if others:
        parts.append("值班记录：" + "；".join(others) + "。")
    if monitored:
        parts.append(monitored)
    return "".join(parts) or "待调查组查明。"


def _consequences(incident: Incident, durations: Sequence[Mapping[str, str]]) -> str:
    outage = next((d["value"] for d in durations if d["what"].startswith("通信中断时长")), "")
    affected = []
    if incident.assessment:
        data = incident.assessment
        affected = [*data.get("operator_networks", []), *data.get("key_systems", [])]
    text = f"通信中断时长{outage}" if outage else "通信中断时长待核实"
    if affected:
        text += f"，涉及{len(affected)}个系统"
    return text + "。人员伤亡和经济损失待核实。"


def _capacity(durations: Sequence[Mapping[str, str]], late: Sequence[str]) -> str:
    steps = "；".join(f"{d['what']}{d['value']}" for d in durations)
    tail = f"超时事项：{'；'.join(late)}。" if late else "各项时限均按时完成。"
    return f"{steps}。{tail}"


def _recovery(incident: Incident) -> str:
    if incident.restored_at is None:
        return "通信网络尚未恢复。"
    text = "通信网络已恢复"
    if incident.status != "closed":
        text += f"，事件{status_name(incident.status)}"
    return text + "。恢复重建和预案改进建议由调查组提出。"


def proposed_and_done(events: Sequence[EventRecord], zone: ZoneInfo) -> list[dict[str, str]]:
    """What the office proposed (建议) and what was decided and done, in time order."""
    rows: list[dict[str, str]] = []
    for e in events:
        data = e.data
        text = _proposal(e.kind, data)
        if text:
            rows.append(
                {"at": _local(e.at, zone), "type": "建议", "text": text, "who": "指挥部办公室"}
            )
        done = _done(e.kind, data)
        if done:
            who = e.actor_name or e.actor or ""
            rows.append({"at": _local(e.at, zone), "type": "实际处置", "text": done, "who": who})
    return rows


def _proposal(kind: str, data: Mapping[str, Any]) -> str:
    if kind in ("detected", "upgraded", "downgraded"):
        assessment = data.get("assessment") or {}
        parts = []
        if assessment.get("scenario"):
            parts.append(f"发布{scenario_label(assessment['scenario'])}预警")
        if assessment.get("level"):
            parts.append(f"启动{level_name(assessment['level'])}应急响应")
        return "建议" + "、".join(parts) if parts else ""
    if kind == "restored" and data.get("warning_active"):
        return "建议由签发人解除预警"
    return ""


def _done(kind: str, data: Mapping[str, Any]) -> str:
    if kind == "warning_issued":
        return f"发布{scenario_label(data.get('scenario'))}预警"
    if kind == "warning_adjusted":
        return f"预警由{scenario_label(data.get('from'))}调整为{scenario_label(data.get('to'))}"
    if kind in ("response_started", "response_changed"):
        return f"启动{level_name(data.get('level'))}应急响应"
    if kind == "response_ended":
        return f"{level_name(data.get('level'))}应急响应结束"
    if kind == "warning_lifted":
        early = f"（指挥部决定提前解除：{data['hq_decision']}）" if data.get("hq_decision") else ""
        return f"解除{scenario_label(data.get('scenario'))}预警{early}"
    if kind == "closed":
        return "事件关闭"
    return ""


def late_steps(
    incident: Incident, events: Sequence[EventRecord], deadline_minutes: float
) -> list[str]:
    """What was late: the written brief, query answers."""
    late = []
    for e in events:
        if e.kind == "report_submitted" and not e.data.get("on_time", True):
            late.append(
                f"书面报告接报后{e.data.get('minutes')}分钟报送（时限{deadline_minutes:g}分钟）"
            )
        if e.kind == "query_answered" and not e.data.get("on_time", True):
            late.append(
                f"答复{e.data.get('asker', '上级')}催报/核实用时{e.data.get('minutes')}分钟"
            )
    if incident.report_submitted_at is None:
        late.append("书面报告未报送")
    return late


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

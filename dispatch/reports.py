"""The written reports as views (pure): the brief report (§4.1) and the after-action report (§5).

`brief_view` drafts the 书面简要报告 from the incident as it now stands (the
five sections of `dispatch.brief`), with the notes people recorded. `final_view`
is the material of the §5 investigation: the timeline, the durations that
matter, who did what when, and every notice and delivery. Rendering is
`Renderer.document("brief"|"final", "txt"|"md"|"html", view)`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.brief import brief_sections
from dispatch.gongwen import annotation, date_cn, strip_citations
from dispatch.investigation import fields_view, late_steps, proposed_and_done
from dispatch.notice_data import TITLES, build_view
from dispatch.report_clock import incident_context
from dispatch.status import DeliveryStatus, NoticeStatus
from monitor.config import Config
from monitor.incidents.lifecycle import Incident
from monitor.incidents.store import EventRecord
from monitor.incidents.tables import assessment_from_json
from monitor.plan.names import duration_name, event_name

NOTE_KINDS = (
    "confirmed",
    "note",
    "information",
    "reported",
)  # the confirmation note often holds the cause
CHANNEL_NAMES = {"email": "电子邮件", "sms": "短信"}
DELIVERY_STATUS_NAMES = {
    "sent": "已送达网关",
    "failed": "失败",
    "pending": "待发送",
    "sending": "发送中",
    "standby": "备用（未启用）",
    "skipped": "备用（无需）",
}


def brief_view(
    config: Config, incident: Incident, events: Sequence[EventRecord], now: datetime
) -> dict[str, Any]:
    """The brief report of an incident at `now`: header, five sections, contact."""
    deadline = config.plan.report.deadline
    context = incident_context(incident, now, deadline)
    notes = [e.note for e in events if e.kind in NOTE_KINDS and e.note]
    context["note"] = "；".join(notes)
    assessment = assessment_from_json(incident.assessment) if incident.assessment else None
    view = build_view(config, "brief_report", incident.id, assessment, context, now)
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    submitted = incident.report_submitted_at
    view["brief"] = brief_sections(view)
    subject = strip_citations(incident.title or "通信网络事件")[0].rstrip("。；;，, ")
    view["report_title"] = f"关于{subject}的书面简要报告"
    view["submitted_at"] = _local(submitted, zone)
    view["generated_at"] = _local(now, zone)
    view.update(_document(config, submitted or now, zone))
    view["status_note"] = (
        f"本报告已于{view['submitted_at']}报送。"
        if submitted
        else f"本报告为系统于{view['generated_at']}根据监测数据和值班记录起草的草稿，待核实后报送。"
    )
    return view


def _document(config: Config, dated: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """公文 parts of a report: 主送, 署名, 成文日期, 版记 (抄送, 印发), 附注."""
    office = config.contacts.hq.office_name
    return {
        "addressee": config.contacts.hq.name,
        "signer": office,
        "date_cn": date_cn(dated, zone),
        "copy_to": "区委办公室，区政府办公室",  # §4.3: reported to 区委、区政府
        "printed_by": office,
        "annotation": annotation(config, ["4.1"]),
        "deadline_name": duration_name(config.plan.report.deadline),
    }


def final_view(
    config: Config,
    incident: Incident,
    events: Sequence[EventRecord],
    notices: Sequence[NoticeStatus],
    deliveries: Sequence[DeliveryStatus],
    now: datetime,
) -> dict[str, Any]:
    """The after-action report (§5) of an incident."""
    view = brief_view(config, incident, events, now)
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    subject = strip_citations(incident.title or "通信网络事件")[0].rstrip("。；;，, ")
    view["report_title"] = f"关于{subject}的调查评估报告"
    view["date_cn"] = date_cn(incident.closed_at or now, zone)
    view["annotation"] = annotation(config, ["4.1", "5"])
    view["status_note"] = "系统草拟的内容已注明，其余由事件调查组填写（commwatch report edit）。"
    view["timeline"] = [
        {
            "at": _local(e.at, zone),
            "what": event_name(e.kind),
            "who": _who(e),
            "note": strip_citations(e.note)[0],
        }
        for e in events
    ]
    view["durations"] = durations(incident, events, config.plan.report.deadline)
    view["people"] = _people(events, zone)
    view["notices"] = [
        {
            "at": _local(n.created_at, zone),
            "kind": TITLES.get(n.kind, n.kind),
            "status": {"routed": "已发送", "superseded": "已合并", "held": "待发送"}[n.status],
            "deliveries": n.deliveries,
            "coalesced": n.coalesced,
        }
        for n in notices
    ]
    view["deliveries"] = [_delivery(d, zone) for d in deliveries]
    counts = Counter((d.channel, d.status) for d in deliveries)
    view["delivery_totals"] = [
        {"channel": CHANNEL_NAMES.get(c, c), "status": DELIVERY_STATUS_NAMES.get(s, s), "count": n}
        for (c, s), n in sorted(counts.items())
    ]
    view["failures"] = [_delivery(d, zone) for d in deliveries if d.status == "failed"]
    minutes = config.plan.report.deadline.total_seconds() / 60
    view["late"] = late_steps(incident, events, minutes)
    view["fields"] = fields_view(incident, events, view["brief"], view["durations"], view["late"])
    view["proposed_done"] = proposed_and_done(events, zone)
    return view


def durations(
    incident: Incident, events: Sequence[EventRecord], deadline: timedelta
) -> list[dict[str, str]]:
    """The intervals §5 asks about, from detection (and between start and end of each step)."""
    start = incident.detected_at
    first = {e.kind: e.at for e in reversed(events)}
    rows = [
        ("发现→确认", start, first.get("confirmed")),
        ("发现→发布预警", start, incident.warning_issued_at),
        ("发现→启动响应", start, incident.response_started_at),
        ("通信中断时长（发现→恢复）", start, incident.restored_at),
        ("发现→报送书面报告", start, incident.report_submitted_at),
        ("预警持续", incident.warning_issued_at, incident.warning_lifted_at),
        ("应急响应持续", incident.response_started_at, incident.response_ended_at),
        ("发现→关闭", start, incident.closed_at),
    ]
    out = [{"what": what, "value": _span(a, b)} for what, a, b in rows if a is not None]
    submitted = incident.report_submitted_at
    verdict = "未报送" if submitted is None else "按时" if submitted - start <= deadline else "超时"
    out.append({"what": f"书面报告时限（{duration_name(deadline)}）", "value": verdict})
    return out


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—（尚未发生）"
    seconds = max(int((end - start).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}小时{minutes}分{secs}秒" if hours else f"{minutes}分{secs}秒"


def _who(event: EventRecord) -> str:
    if event.actor is None:
        return "（未署名）"
    if event.actor_name and event.actor_name != event.actor and event.actor != "commwatch":
        return f"{event.actor_name}（{event.actor}）"
    return event.actor_name or event.actor


def _people(events: Sequence[EventRecord], zone: ZoneInfo) -> list[dict[str, Any]]:
    by_actor: dict[str, list[str]] = {}
    for e in events:
        what = f"{_local(e.at, zone)} {event_name(e.kind)}"
        by_actor.setdefault(_who(e), []).append(what)
    return [{"who": who, "did": did} for who, did in by_actor.items()]


def _delivery(d: DeliveryStatus, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "kind": TITLES.get(d.notice, d.notice),
        "recipient": d.recipient,
        "channel": CHANNEL_NAMES.get(d.channel, d.channel),
        "address": d.address,
        "status": DELIVERY_STATUS_NAMES.get(d.status, d.status),
        "attempts": d.attempts,
        "sent_at": _local(d.sent_at, zone),
        "error": d.error or "",
    }


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

"""The incident lifecycle as pure transitions: an Incident snapshot + an action → a Step.

A Step is the column changes to make and the events to record; each event
names the notices it announces. Nothing here touches the database: the store
applies a Step in one transaction (`monitor.incidents.store`), and the engine
(`monitor.incidents.engine`) chooses which transition to run.

    detected ──confirm──► confirmed
       │  └──false_alarm / transfer──► false_alarm / transferred (closed)
       └── warning issued (scenario, issuer) ⇄ upgraded / downgraded
           → response started (level, starter) → response ended
           → warning lifted → closed

Illegal moves raise `RefusedError` naming the rule: nothing on a closed incident;
no lift before an issue; no end before a start; no close while a warning or a
response is still on; no false alarm or transfer while one is on; no response
before confirmation (§4.2); no lift or close before the networks are restored
unless the 总指挥 records the HQ's decision with a reason (§3.6); no false
alarm or transfer of a confirmed incident whose outage goes on (it would drop
out of tracking). Who may act is `monitor.incidents.authority`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.incidents.authority import (
    CONFIRM_CLAUSE,
    DUTY_CLAUSE,
    END_CLAUSE,
    LEVELS_CLAUSE,
    LIFT_CLAUSE,
    RESTORED_CLAUSE,
    SYSTEM,
    Actor,
    RefusedError,
    Roster,
    acts_by_authorisation,
    check_adjust_warning,
    check_duty,
    check_end_response,
    check_hq_decision,
    check_issue_warning,
    check_lift_warning,
    check_relevel_response,
    check_start_response,
)
from monitor.incidents.notices import NoticeKind
from monitor.plan.names import OPEN_STATUSES, level_name, scenario_label, status_name

PRESS_GROUP = "新闻宣传组"  # §2.4 (7): approves what is published (§4.5)


@dataclass(frozen=True)
class Incident:
    """A snapshot of one `incidents` row."""

    id: int
    status: str
    source: str
    title: str
    opened_at: datetime
    detected_at: datetime
    updated_at: datetime
    report_submitted_at: datetime | None = None
    scenario: int | None = None
    level: str | None = None
    assessment: Mapping[str, Any] | None = None
    restored_at: datetime | None = None
    warning_scenario: int | None = None
    warning_issuer: str | None = None
    warning_issuer_name: str | None = None
    warning_issued_at: datetime | None = None
    warning_lifted_at: datetime | None = None
    response_level: str | None = None
    response_starter: str | None = None
    response_starter_name: str | None = None
    response_started_at: datetime | None = None
    response_ended_at: datetime | None = None
    transferred_to: str | None = None
    closed_at: datetime | None = None
    followed_up_at: datetime | None = None  # the last written 续报 (§4.1)
    drill: bool = False  # opened during a 演练 (§6.1): never a real incident
    report_fields: Mapping[str, Any] | None = None  # the §5 investigation, as completed

    @property
    def is_open(self) -> bool:
        """Detected or confirmed: not yet closed in any way."""
        return self.status in OPEN_STATUSES

    @property
    def warning_active(self) -> bool:
        """A warning has been issued and not lifted."""
        return self.warning_issued_at is not None and self.warning_lifted_at is None

    @property
    def response_active(self) -> bool:
        """A response has been started and not ended."""
        return self.response_started_at is not None and self.response_ended_at is None


@dataclass(frozen=True)
class EventDraft:
    """An incident_events row to add, and the notices it announces."""

    kind: str
    actor: Actor | None
    note: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[NoticeKind, ...] = ()
    # a notice sent once per addressee (e.g. each working group): kind → targets
    fanout: Mapping[NoticeKind, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """Column changes on the incident and the events to record, in order."""

    changes: Mapping[str, Any]
    events: tuple[EventDraft, ...]


def require_open(incident: Incident, action: str) -> None:
    """Refuse any action on a closed incident."""
    if not incident.is_open:
        status = status_name(incident.status)
        raise RefusedError(f"拒绝：事件#{incident.id}{status}，不能再{action}")


def confirm(incident: Incident, actor: Actor, now: datetime, note: str = "") -> Step:
    """Confirmed as a communication-network incident (§4.2 (2) ①)."""
    require_open(incident, "确认")
    check_duty(actor, "确认事件")
    if incident.status == "confirmed":
        raise RefusedError(f"拒绝：事件#{incident.id}已确认")
    return Step({"status": "confirmed"}, (EventDraft("confirmed", actor, note),))


def false_alarm(incident: Incident, actor: Actor, now: datetime, note: str = "") -> Step:
    """误报: recorded and closed (§4.2 (2) ②)."""
    _require_dismissable(incident, "判定为误报")
    check_duty(actor, "判定误报")
    changes = {"status": "false_alarm", "closed_at": now}
    return Step(changes, (EventDraft("false_alarm", actor, note, notices=(NoticeKind.CLOSED,)),))


def transfer(incident: Incident, actor: Actor, now: datetime, to: str, note: str = "") -> Step:
    """Unrelated to network security: recorded and handed to a named body (§4.2 (2) ③)."""
    _require_dismissable(incident, "转交")
    check_duty(actor, "转交事件")
    body = to.strip()
    if not body:
        raise RefusedError("拒绝：转交须写明接收的主管机构（--to）", "§4.2 (2) ③")
    changes = {"status": "transferred", "transferred_to": body, "closed_at": now}
    event = EventDraft("transferred", actor, note, {"to": body}, (NoticeKind.CLOSED,))
    return Step(changes, (event,))


def issue_warning(
    incident: Incident,
    actor: Actor,
    now: datetime,
    scenario: int | None,
    roster: Roster,
    note: str = "",
) -> Step:
    """Issue a warning (§3.4), or adjust the active one to another scenario (§3.5 (4))."""
    require_open(incident, "发布预警")
    check_issue_warning(actor)
    chosen = scenario if scenario is not None else incident.scenario
    if chosen not in (1, 2, 3):
        raise RefusedError("拒绝：预警情形只有 1、2、3，请用 --scenario 指定", "§3.3 预警情形")
    if incident.warning_active:
        return _adjust_warning(incident, actor, now, chosen, roster, note)
    changes: dict[str, Any] = {
        "warning_scenario": chosen,
        "warning_issuer": actor.id,
        "warning_issuer_name": actor.name,
        "warning_issued_at": now,
        "warning_lifted_at": None,
    }
    events: list[EventDraft] = []
    if incident.status == "detected" and not actor.is_system:
        changes["status"] = "confirmed"
        events.append(EventDraft("confirmed", actor, "随预警发布确认（§3.5 经指挥部核定）"))
    data = {"scenario": chosen, "auto": actor.is_system, "office": actor.office}
    events.append(EventDraft("warning_issued", actor, note, data, (NoticeKind.WARNING,)))
    return Step(changes, tuple(events))


def lift_warning(
    incident: Incident,
    actor: Actor,
    now: datetime,
    roster: Roster,
    note: str = "",
    hq_decision: str = "",
) -> Step:
    """谁发布谁解除 (§3.6), after recovery or by the HQ's recorded decision."""
    require_open(incident, "解除预警")
    if not incident.warning_active:
        raise RefusedError(
            f"拒绝：事件#{incident.id}尚未发布预警（或已解除），无从解除", LIFT_CLAUSE
        )
    issuer = incident.warning_issuer or SYSTEM.id
    check_lift_warning(actor, issuer, incident.warning_issuer_name or issuer, roster)
    if incident.response_active:
        raise RefusedError(
            "拒绝：应急响应仍在进行，须先由启动人结束响应，再解除预警（§3.6）", END_CLAUSE
        )
    decision = _require_restored(incident, actor, hq_decision, "解除预警")
    data = {
        "scenario": incident.warning_scenario,
        "restored": incident.restored_at is not None,
        "office": actor.office,
        **decision,
    }
    fanout = {NoticeKind.PUBLIC_STATEMENT: (PRESS_GROUP,)}  # §4.5: the recovery is announced
    event = EventDraft("warning_lifted", actor, note, data, (NoticeKind.LIFT,), fanout)
    return Step({"warning_lifted_at": now}, (event,))


def start_response(
    incident: Incident,
    actor: Actor,
    now: datetime,
    level: str,
    note: str = "",
    roster: Roster | None = None,
    groups: tuple[str, ...] = (),
) -> Step:
    """Start a response (§4.3) on a confirmed incident, or re-level the active one.

    A start tells each working group of §2.4 (`groups`) its own tasks and drafts
    the public statement for the 新闻宣传组 (§4.5).
    """
    require_open(incident, "启动应急响应")
    check_start_response(actor, level)
    if incident.status != "confirmed":
        raise RefusedError(
            f"拒绝：事件#{incident.id}{status_name(incident.status)}，须先确认为通信网络安全事故"
            "（incident confirm），再分析定级、启动响应",
            CONFIRM_CLAUSE,
        )
    previous = incident.response_level if incident.response_active else None
    if previous is not None:
        starter = incident.response_starter or ""
        name = incident.response_starter_name or starter
        if previous == level:
            raise RefusedError(f"拒绝：{level_name(level)}应急响应已由{name}启动", LEVELS_CLAUSE)
        check_relevel_response(actor, level, previous, starter, name, roster or {})
    changes = {
        "response_level": level,
        "response_starter": actor.id,
        "response_starter_name": actor.name,
        "response_started_at": now,
        "response_ended_at": None,
    }
    kind = "response_changed" if previous else "response_started"
    data: dict[str, Any] = {"level": level, "previous_level": previous, "office": actor.office}
    if previous is not None and incident.response_starter != actor.id:
        data["previous_starter"] = incident.response_starter_name or incident.response_starter
    if acts_by_authorisation(actor, level):
        data["authorised"] = True
        note = f"经总指挥授权启动Ⅰ级响应（§4.3.1 (2)）{'；' + note if note else ''}"
    notices = (NoticeKind.RESPONSE_START,)
    fanout: dict[NoticeKind, tuple[str, ...]] = {}
    if previous is None:
        fanout = {NoticeKind.GROUP_TASKS: groups, NoticeKind.PUBLIC_STATEMENT: (PRESS_GROUP,)}
    return Step(changes, (EventDraft(kind, actor, note, data, notices, fanout),))


def end_response(
    incident: Incident, actor: Actor, now: datetime, roster: Roster, note: str = ""
) -> Step:
    """谁启动谁结束 (§4.6)."""
    require_open(incident, "结束应急响应")
    if not incident.response_active or incident.response_starter is None:
        raise RefusedError(
            f"拒绝：事件#{incident.id}尚未启动应急响应（或已结束），无从结束", END_CLAUSE
        )
    starter = incident.response_starter
    name = incident.response_starter_name or starter
    check_end_response(actor, starter, name, roster)
    data = {"level": incident.response_level, "office": actor.office}
    event = EventDraft("response_ended", actor, note, data, (NoticeKind.RESPONSE_END,))
    return Step({"response_ended_at": now}, (event,))


def close(
    incident: Incident, actor: Actor, now: datetime, note: str = "", hq_decision: str = ""
) -> Step:
    """Close once the warning is lifted, the response ended and the networks restored (§3.6)."""
    require_open(incident, "关闭")
    check_duty(actor, "关闭事件")
    _require_quiet(incident, "关闭事件")
    decision = _require_restored(incident, actor, hq_decision, "关闭事件")
    event = EventDraft("closed", actor, note, dict(decision), (NoticeKind.CLOSED,))
    return Step({"status": "closed", "closed_at": now}, (event,))


def record_restored(incident: Incident, actor: Actor, now: datetime, note: str = "") -> Step:
    """A person attests recovery of a reported incident (sources 2–4); the monitor does its own."""
    require_open(incident, "记录恢复")
    check_duty(actor, "记录恢复")
    if incident.source == "monitor":
        raise RefusedError(
            f"拒绝：事件#{incident.id}由监测系统发现，恢复由监测系统判定"
            "（所有受影响节点恢复后自动记录）",
            RESTORED_CLAUSE,
        )
    if incident.restored_at is not None:
        raise RefusedError(f"拒绝：事件#{incident.id}已记录恢复", RESTORED_CLAUSE)
    if not note.strip():
        raise RefusedError("拒绝：记录恢复须写明依据（--note，如“运营商回告已恢复”）", DUTY_CLAUSE)
    event = EventDraft("restored", actor, note, {"by_person": True}, (NoticeKind.FOLLOW_UP,))
    return Step({"restored_at": now}, (event,))


def submit_report(
    incident: Incident, actor: Actor, now: datetime, deadline: timedelta, note: str = ""
) -> Step:
    """书面报告已报送 (§4.1): once; records the minutes since detection and whether on time."""
    check_duty(actor, "报送书面报告")
    if incident.report_submitted_at is not None:
        when = incident.report_submitted_at.isoformat(timespec="seconds")
        raise RefusedError(f"拒绝：事件#{incident.id}的书面报告已于{when}标记报送", "§4.1 信息报告")
    taken = now - incident.detected_at
    data = {"minutes": round(taken.total_seconds() / 60, 1), "on_time": taken <= deadline}
    event = EventDraft("report_submitted", actor, note, data)
    return Step({"report_submitted_at": now}, (event,))


def annotate(incident: Incident, actor: Actor, note: str) -> Step:
    """A note on the timeline; allowed on closed incidents too (§5 后期处置)."""
    check_duty(actor, "记录备注")
    if not note.strip():
        raise RefusedError("拒绝：备注不能为空（--note）", DUTY_CLAUSE)
    return Step({}, (EventDraft("note", actor, note),))


FOLLOW_UP_EVENTS = ("acknowledged", "escalated", "called")


def follow_up(kind: str, actor: Actor | None, note: str, data: Mapping[str, Any]) -> Step:
    """What became of a notice: 收到 (acknowledged), an escalation step, a phone call made.

    Recorded on closed incidents too: a late 收到 is still a fact for §5.
    """
    if kind not in FOLLOW_UP_EVENTS:
        raise ValueError(f"not a follow-up event: {kind!r}")
    return Step({}, (EventDraft(kind, actor, note, data),))


def _require_dismissable(incident: Incident, action: str) -> None:
    require_open(incident, action)
    _require_quiet(incident, action)
    if incident.status == "confirmed" and incident.source == "monitor" and not incident.restored_at:
        raise RefusedError(
            f"拒绝：事件#{incident.id}已确认为通信网络安全事故，监测仍见中断；"
            f"{action}会使中断脱离跟踪。误报、转交只在确认前判定（§4.2 (2) ②③）",
            "§4.2 (2) ①",
        )


def _require_quiet(incident: Incident, action: str) -> None:
    if incident.response_active:
        raise RefusedError(f"拒绝：应急响应仍在进行，须先由启动人结束响应才能{action}", END_CLAUSE)
    if incident.warning_active:
        raise RefusedError(f"拒绝：预警仍然有效，须先由发布人解除预警才能{action}", LIFT_CLAUSE)


def _require_restored(
    incident: Incident, actor: Actor, hq_decision: str, action: str
) -> dict[str, Any]:
    """Recovery first (§3.6); otherwise the 总指挥 records the HQ's decision with a reason."""
    if incident.restored_at is not None:
        if hq_decision.strip():
            raise RefusedError("拒绝：通信网络已恢复，无需指挥部决定（去掉 --hq-decision）")
        return {}
    if not hq_decision.strip():
        seen = (
            "监测仍见中断" if incident.source == "monitor" else "尚未记录恢复（incident restored）"
        )
        raise RefusedError(
            f"拒绝：事件#{incident.id}{seen}，处置结束且通信网络恢复后方可{action}；"
            "如指挥部决定提前解除，由总指挥用 --hq-decision 写明理由",
            RESTORED_CLAUSE,
        )
    check_hq_decision(actor, hq_decision, action)
    return {"hq_decision": hq_decision.strip()}


def _adjust_warning(
    incident: Incident, actor: Actor, now: datetime, scenario: int, roster: Roster, note: str
) -> Step:
    if scenario == incident.warning_scenario:
        issued = scenario_label(scenario)
        raise RefusedError(
            f"拒绝：事件#{incident.id}已发布{issued}预警；调整请用 --scenario 指定其他情形",
            "§3.5 (4)",
        )
    issuer = incident.warning_issuer or SYSTEM.id
    check_adjust_warning(actor, issuer, incident.warning_issuer_name or issuer, roster)
    previous = incident.warning_scenario
    upgrade = previous is None or scenario < previous
    kind = NoticeKind.UPGRADE if upgrade else NoticeKind.DOWNGRADE
    data = {
        "from": previous,
        "to": scenario,
        "warning_adjusted": True,
        "by_person": not actor.is_system,
        "previous_issuer": incident.warning_issuer_name or issuer,
        "office": actor.office,
    }
    event = EventDraft("warning_adjusted", actor, note, data, (kind,))
    changes = {
        "warning_scenario": scenario,
        "warning_issuer": actor.id,
        "warning_issuer_name": actor.name,
    }
    return Step(changes, (event,))

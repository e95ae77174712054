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
response is still on; no false alarm or transfer while one is on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.incidents.authority import (
    SYSTEM,
    Actor,
    RefusedError,
    check_duty,
    check_end_response,
    check_issue_warning,
    check_lift_warning,
    check_start_response,
)
from monitor.incidents.notices import NoticeKind
from monitor.plan.names import OPEN_STATUSES, level_name, scenario_label, status_name


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
        raise RefusedError("拒绝：转交须写明接收的主管机构（--to，§4.2 (2) ③）")
    changes = {"status": "transferred", "transferred_to": body, "closed_at": now}
    event = EventDraft("transferred", actor, note, {"to": body}, (NoticeKind.CLOSED,))
    return Step(changes, (event,))


def issue_warning(
    incident: Incident,
    actor: Actor,
    now: datetime,
    scenario: int | None,
    listed: Collection[str],
    note: str = "",
) -> Step:
    """Issue a warning (§3.4), or adjust the active one to another scenario (§3.5 (4))."""
    require_open(incident, "发布预警")
    check_issue_warning(actor)
    chosen = scenario if scenario is not None else incident.scenario
    if chosen not in (1, 2, 3):
        raise RefusedError("拒绝：预警情形只有 1、2、3（§3.3），请用 --scenario 指定")
    if incident.warning_active:
        return _adjust_warning(incident, actor, chosen, listed, note)
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
    data = {"scenario": chosen, "auto": actor.is_system}
    events.append(EventDraft("warning_issued", actor, note, data, (NoticeKind.WARNING,)))
    return Step(changes, tuple(events))


def lift_warning(
    incident: Incident, actor: Actor, now: datetime, listed: Collection[str], note: str = ""
) -> Step:
    """谁发布、谁解除 (§3.6); an active response is ended first (§4.6)."""
    require_open(incident, "解除预警")
    if not incident.warning_active:
        raise RefusedError(f"拒绝：事件#{incident.id}尚未发布预警（或已解除），无从解除（§3.6）")
    _check_issuer(incident, actor, listed, "解除")
    if incident.response_active:
        raise RefusedError(
            "拒绝：应急响应仍在进行，须先由启动人结束响应（§4.6），再解除预警（§3.6）"
        )
    data = {"scenario": incident.warning_scenario, "restored": incident.restored_at is not None}
    event = EventDraft("warning_lifted", actor, note, data, (NoticeKind.LIFT,))
    return Step({"warning_lifted_at": now}, (event,))


def start_response(
    incident: Incident, actor: Actor, now: datetime, level: str, note: str = ""
) -> Step:
    """Start a response (§4.3), or change the level of the active one."""
    require_open(incident, "启动应急响应")
    check_start_response(actor, level)
    previous = incident.response_level if incident.response_active else None
    if previous == level:
        starter = incident.response_starter_name or incident.response_starter
        raise RefusedError(f"拒绝：{level_name(level)}应急响应已由{starter}启动")
    changes = {
        "response_level": level,
        "response_starter": actor.id,
        "response_starter_name": actor.name,
        "response_started_at": now,
        "response_ended_at": None,
    }
    kind = "response_changed" if previous else "response_started"
    data = {"level": level, "previous_level": previous}
    return Step(changes, (EventDraft(kind, actor, note, data, (NoticeKind.RESPONSE_START,)),))


def end_response(
    incident: Incident, actor: Actor, now: datetime, listed: Collection[str], note: str = ""
) -> Step:
    """谁启动、谁结束 (§4.6)."""
    require_open(incident, "结束应急响应")
    if not incident.response_active or incident.response_starter is None:
        raise RefusedError(
            f"拒绝：事件#{incident.id}尚未启动应急响应（或已结束），无从结束（§4.6）"
        )
    starter = incident.response_starter
    name = incident.response_starter_name or starter
    check_end_response(actor, starter, name, starter in listed)
    data = {"level": incident.response_level}
    event = EventDraft("response_ended", actor, note, data, (NoticeKind.RESPONSE_END,))
    return Step({"response_ended_at": now}, (event,))


def close(incident: Incident, actor: Actor, now: datetime, note: str = "") -> Step:
    """Close once the warning is lifted and the response ended."""
    require_open(incident, "关闭")
    check_duty(actor, "关闭事件")
    _require_quiet(incident, "关闭事件")
    event = EventDraft("closed", actor, note, notices=(NoticeKind.CLOSED,))
    return Step({"status": "closed", "closed_at": now}, (event,))


def submit_report(
    incident: Incident, actor: Actor, now: datetime, deadline: timedelta, note: str = ""
) -> Step:
    """书面报告已报送 (§4.1): once; records the minutes since detection and whether on time."""
    check_duty(actor, "报送书面报告")
    if incident.report_submitted_at is not None:
        when = incident.report_submitted_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        raise RefusedError(f"拒绝：事件#{incident.id}的书面报告已于{when}标记报送")
    taken = now - incident.detected_at
    data = {"minutes": round(taken.total_seconds() / 60, 1), "on_time": taken <= deadline}
    event = EventDraft("report_submitted", actor, note, data)
    return Step({"report_submitted_at": now}, (event,))


def annotate(incident: Incident, actor: Actor, note: str) -> Step:
    """A note on the timeline; allowed on closed incidents too (§5 后期处置)."""
    check_duty(actor, "记录备注")
    if not note.strip():
        raise RefusedError("拒绝：备注不能为空（--note）")
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


def _require_quiet(incident: Incident, action: str) -> None:
    if incident.response_active:
        raise RefusedError(f"拒绝：应急响应仍在进行，须先由启动人结束响应（§4.6）才能{action}")
    if incident.warning_active:
        raise RefusedError(f"拒绝：预警仍然有效，须先由发布人解除预警（§3.6）才能{action}")


def _check_issuer(incident: Incident, actor: Actor, listed: Collection[str], action: str) -> None:
    issuer = incident.warning_issuer or SYSTEM.id
    name = incident.warning_issuer_name or issuer
    check_lift_warning(actor, issuer, name, issuer in listed, action)


def _adjust_warning(
    incident: Incident, actor: Actor, scenario: int, listed: Collection[str], note: str
) -> Step:
    if scenario == incident.warning_scenario:
        issued = scenario_label(scenario)
        raise RefusedError(
            f"拒绝：事件#{incident.id}已发布{issued}预警；调整请用 --scenario 指定其他情形"
        )
    _check_issuer(incident, actor, listed, "调整")
    previous = incident.warning_scenario
    upgrade = previous is None or scenario < previous
    kind = NoticeKind.UPGRADE if upgrade else NoticeKind.DOWNGRADE
    data = {"from": previous, "to": scenario, "warning_adjusted": True}
    event = EventDraft("warning_adjusted", actor, note, data, (kind,))
    return Step({"warning_scenario": scenario}, (event,))

"""Pure transitions driven by information (§3.1.2): open, follow, restore incidents.

Source 1 is the monitor (the scorer's Assessments); sources 2–4 are reports
entered by hand (`open_from_report`, `add_information`).

- Opening (the Assessment becomes affected): DETECTION, then a
  WARNING_PROPOSAL for the scenario and a RESPONSE_PROPOSAL for the proposed
  level — or, when the scenario is in `plan.toml [warning] auto_issue`, a
  WARNING issued by the system (issuer "commwatch").
- Following: a scenario change is recorded as upgraded/downgraded (UPGRADE /
  DOWNGRADE). An active auto-issued warning is adjusted by the system only to
  scenarios in auto_issue; otherwise a WARNING_PROPOSAL asks the HQ to issue
  or adjust. A changed proposed level gives a RESPONSE_PROPOSAL. Any other
  material change (systems, streets, spread, a return after restoration) is a
  FOLLOW_UP (续报, §4.1). An unchanged Assessment changes nothing.
- Restoring (the Assessment clears): recorded once; LIFT_PROPOSAL when a
  warning is active — never a lift: lifting attests that handling is over
  (§3.6 "处置结束且通信网络恢复"), which only a person can — else FOLLOW_UP.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from monitor.incidents.authority import SYSTEM, SYSTEM_ID, Actor, RefusedError, check_duty
from monitor.incidents.lifecycle import EventDraft, Incident, Step, require_open
from monitor.incidents.notices import NoticeKind
from monitor.incidents.tables import assessment_to_json
from monitor.plan.assessment import Assessment
from monitor.plan.names import NO_SCENARIO_NAME, SOURCES, scenario_label, scenario_rank

MATERIAL_KEYS = ("scenario", "level", "operator_networks", "key_systems", "streets", "spread")


def material(data: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What counts as a change of the situation; reasons and node lists do not."""
    data = data or {}
    return tuple(
        tuple(sorted(data.get(k) or ())) if isinstance(data.get(k), list) else data.get(k)
        for k in MATERIAL_KEYS
    )


def summary(assessment: Assessment) -> str:
    """A one-line title for a monitor incident."""
    if assessment.reasons:
        return assessment.reasons[0][:200]
    systems = "、".join(assessment.operator_networks + assessment.key_systems)
    return f"监测发现受影响：{systems}"[:200]


def open_from_assessment(
    assessment: Assessment, now: datetime, auto_issue: Collection[int]
) -> tuple[dict[str, Any], tuple[EventDraft, ...]]:
    """A new monitor incident: its columns and first events."""
    data = assessment_to_json(assessment)
    auto = assessment.scenario in auto_issue
    notices = [NoticeKind.DETECTION]
    if assessment.affected:
        notices.append(NoticeKind.FIRST_ACTION)  # §4.4: the operator concerned acts at once
    if assessment.scenario is not None and not auto:
        notices.append(NoticeKind.WARNING_PROPOSAL)
    if assessment.level is not None:
        notices.append(NoticeKind.RESPONSE_PROPOSAL)
    fields: dict[str, Any] = {
        "status": "detected",
        "source": "monitor",
        "title": summary(assessment),
        "scenario": assessment.scenario,
        "level": assessment.level,
        "assessment": data,
    }
    note = "；".join(assessment.reasons)
    events = [EventDraft("detected", SYSTEM, note, {"assessment": data}, tuple(notices))]
    if auto and assessment.scenario is not None:
        fields.update(_auto_warning_columns(assessment.scenario, now))
        events.append(_auto_warning_event(assessment.scenario))
    return fields, tuple(events)


def follow(
    incident: Incident, assessment: Assessment, now: datetime, auto_issue: Collection[int]
) -> Step | None:
    """The open incident under a new affected Assessment; None when nothing material changed."""
    data = assessment_to_json(assessment)
    returned = incident.restored_at is not None
    if material(incident.assessment) == material(data) and not returned:
        return None
    changes: dict[str, Any] = {
        "title": summary(assessment),
        "scenario": assessment.scenario,
        "level": assessment.level,
        "assessment": data,
        "restored_at": None,
    }
    note = "；".join(assessment.reasons)
    notices: list[NoticeKind] = []
    extra: list[EventDraft] = []
    info: dict[str, Any] = {"assessment": data, "returned": returned}
    new, old = assessment.scenario, incident.scenario
    if scenario_rank(new) != scenario_rank(old):
        upgrade = scenario_rank(new) < scenario_rank(old)
        kind = "upgraded" if upgrade else "downgraded"
        notices.append(NoticeKind.UPGRADE if upgrade else NoticeKind.DOWNGRADE)
        info.update({"from": old, "to": new})
        was, becomes = scenario_label(old, NO_SCENARIO_NAME), scenario_label(new, NO_SCENARIO_NAME)
        note = f"{was}→{becomes}：{note}"
        _warning_follows(incident, new, now, auto_issue, changes, notices, extra, info)
    else:
        kind = "returned" if returned else "assessment_changed"
        notices.append(NoticeKind.FOLLOW_UP)
    if _propose_level(incident, assessment):
        notices.append(NoticeKind.RESPONSE_PROPOSAL)
    event = EventDraft(kind, SYSTEM, note, info, tuple(notices))
    return Step(changes, (event, *extra))


def restore(incident: Incident, now: datetime) -> Step | None:
    """The Assessment cleared while the incident is open; None if already recorded."""
    if incident.restored_at is not None:
        return None
    active = incident.warning_active
    notice = NoticeKind.LIFT_PROPOSAL if active else NoticeKind.FOLLOW_UP
    note = "监测显示受影响的网络和系统已恢复"
    if active:
        note += "；建议由预警发布人解除预警（§3.6 谁发布、谁解除）"
    data = {"warning_active": active, "response_active": incident.response_active}
    return Step({"restored_at": now}, (EventDraft("restored", SYSTEM, note, data, (notice,)),))


def held(incident: Incident | None, unknown: Collection[str]) -> bool:
    """True when a node behind the open incident's last view is UNKNOWN now.

    UNKNOWN is never a recovery: after a restart (or a probe that cannot run)
    a node the incident counted as out says nothing about its outage, so the
    incident is neither followed nor restored until every such node is known.
    """
    if incident is None or not incident.is_open or not unknown:
        return False
    data = incident.assessment or {}
    behind = set(data.get("nodes_down") or ()) | set(data.get("nodes_unreachable") or ())
    return not behind.isdisjoint(unknown)


def dismissed_outage_continues(latest: Incident | None, assessment: Assessment) -> bool:
    """True when the last monitor incident was closed while this outage was on, and it is not worse.

    A false alarm, transfer or close must not be reopened on the next scorer
    run; a wider outage (a system not affected before) or a worse scenario
    opens a new incident.
    """
    if latest is None or latest.is_open or latest.restored_at is not None:
        return False
    before = latest.assessment or {}
    known = set(before.get("operator_networks", ())) | set(before.get("key_systems", ()))
    now_affected = set(assessment.operator_networks) | set(assessment.key_systems)
    return now_affected <= known and scenario_rank(assessment.scenario) >= scenario_rank(
        latest.scenario
    )


def _warning_follows(
    incident: Incident,
    scenario: int | None,
    now: datetime,
    auto_issue: Collection[int],
    changes: dict[str, Any],
    notices: list[NoticeKind],
    extra: list[EventDraft],
    info: dict[str, Any],
) -> None:
    """After a scenario change: adjust the system's own warning, auto-issue, or propose."""
    if scenario is None:
        return
    if incident.warning_active:
        if scenario == incident.warning_scenario:
            return
        if incident.warning_issuer == SYSTEM_ID and scenario in auto_issue:
            changes["warning_scenario"] = scenario
            info["warning_adjusted"] = True
            return
        notices.append(NoticeKind.WARNING_PROPOSAL)
        return
    if scenario in auto_issue:
        changes.update(_auto_warning_columns(scenario, now))
        extra.append(_auto_warning_event(scenario))
        return
    notices.append(NoticeKind.WARNING_PROPOSAL)


def _propose_level(incident: Incident, assessment: Assessment) -> bool:
    level = assessment.level
    if level is None or level == incident.level:
        return False
    return not (incident.response_active and incident.response_level == level)


def _auto_warning_columns(scenario: int, now: datetime) -> dict[str, Any]:
    return {
        "warning_issued_at": now,
        "warning_scenario": scenario,
        "warning_issuer": SYSTEM.id,
        "warning_issuer_name": SYSTEM.name,
        "warning_lifted_at": None,
    }


def _auto_warning_event(scenario: int) -> EventDraft:
    note = (
        f"按 plan.toml [warning] auto_issue 自动发布{scenario_label(scenario)}预警（§3.4 根据授权）"
    )
    data = {"scenario": scenario, "auto": True}
    return EventDraft("warning_issued", SYSTEM, note, data, (NoticeKind.WARNING,))


def add_information(incident: Incident, actor: Actor | None, source: str, text: str) -> Step:
    """New information from source 2–4 on an open incident: recorded, announced as 续报."""
    require_open(incident, "补充信息")
    _check_report(actor, source, text)
    event = EventDraft("information", actor, text, {"source": source}, (NoticeKind.FOLLOW_UP,))
    return Step({}, (event,))


def open_from_report(
    source: str, text: str, actor: Actor | None
) -> tuple[dict[str, Any], tuple[EventDraft, ...]]:
    """A new incident from information source 2–4 (§3.1.2): columns and first event."""
    _check_report(actor, source, text)
    fields: dict[str, Any] = {"status": "detected", "source": source, "title": text.strip()[:200]}
    event = EventDraft("reported", actor, text, {"source": source}, (NoticeKind.DETECTION,))
    return fields, (event,)


def _check_report(actor: Actor | None, source: str, text: str) -> None:
    if source not in SOURCES or source == "monitor":
        raise RefusedError(f"拒绝：信息来源须为 upper、public 或 event（§3.1.2），不是“{source}”")
    if not text.strip():
        raise RefusedError("拒绝：信息内容不能为空（--text）")
    if actor is not None:
        check_duty(actor, "报告信息")

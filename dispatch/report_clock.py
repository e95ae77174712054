"""The §4.1 written-report clock: draft, reminders, escalation (pure core + one query).

From an open incident's detection time (`plan.toml [report]`):
- at once: the drafted brief report (BRIEF_REPORT) to the HQ office;
- at each reminder offset before the deadline: REPORT_REMINDER — only the
  latest one due, so a daemon restarted late does not send a stale reminder;
- at the deadline: REPORT_OVERDUE (escalation: the office and the HQ leaders).
Nothing once `commwatch report submit` set `report_submitted_at`, or once the
incident is closed (a false alarm needs no written report). Dedupe keys make
every notice once-only across ticks and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from monitor.incidents import store as incident_store
from monitor.incidents.lifecycle import Incident
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.incidents.tables import assessment_from_json


@dataclass(frozen=True)
class ClockNotice:
    """A report-clock notice that is due: its kind, dedupe key and nominal time."""

    kind: NoticeKind
    dedupe_key: str
    at: datetime


def due_notices(
    incident: Incident, now: datetime, deadline: timedelta, reminders: list[timedelta]
) -> list[ClockNotice]:
    """The clock notices due for one incident at `now` (see the module docstring)."""
    if not incident.is_open or incident.report_submitted_at is not None:
        return []
    start = incident.detected_at
    prefix = f"report:{incident.id}"
    due = [ClockNotice(NoticeKind.BRIEF_REPORT, f"{prefix}:brief", start)]
    if now >= start + deadline:
        return [*due, ClockNotice(NoticeKind.REPORT_OVERDUE, f"{prefix}:overdue", start + deadline)]
    passed = [r for r in sorted(reminders) if r < deadline and now >= start + r]
    if passed:
        offset = passed[-1]
        key = f"{prefix}:reminder:{int(offset.total_seconds())}"
        due.append(ClockNotice(NoticeKind.REPORT_REMINDER, key, start + offset))
    return due


def incident_context(incident: Incident, at: datetime, deadline: timedelta) -> dict[str, Any]:
    """A notice context built from the incident row (the keys `notice_context` uses)."""
    warning_on = incident.warning_issued_at is not None and incident.warning_lifted_at is None
    response_on = incident.response_started_at is not None and incident.response_ended_at is None
    return {
        "incident_id": incident.id,
        "at": at.isoformat(),
        "source": incident.source,
        "status": incident.status,
        "title": incident.title,
        "detected_at": incident.detected_at.isoformat(),
        "deadline_at": (incident.detected_at + deadline).isoformat(),
        "scenario": incident.scenario,
        "level": incident.level,
        "warning_scenario": incident.warning_scenario if warning_on else None,
        "issuer": incident.warning_issuer,
        "issuer_name": incident.warning_issuer_name,
        "response_level": incident.response_level if response_on else None,
        "starter": incident.response_starter,
        "starter_name": incident.response_starter_name,
        "transferred_to": incident.transferred_to,
        "restored": incident.restored_at is not None,
        "drill": incident.drill,
        "data": {},
    }


def clock_requests(
    connection: Connection, now: datetime, deadline: timedelta, reminders: list[timedelta]
) -> list[NoticeRequest]:
    """NoticeRequests for every open incident's due clock notices."""
    requests = []
    for incident in incident_store.list_incidents(connection):
        assessment = assessment_from_json(incident.assessment) if incident.assessment else None
        for item in due_notices(incident, now, deadline, reminders):
            requests.append(
                NoticeRequest(
                    kind=item.kind,
                    incident_id=incident.id,
                    dedupe_key=item.dedupe_key,
                    assessment=assessment,
                    context=incident_context(incident, item.at, deadline),
                    created_at=now,
                )
            )
    return requests

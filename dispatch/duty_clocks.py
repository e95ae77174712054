"""Notice requests of the §4.1 follow-up (续报) and query (催报/核实) clocks.

The written brief's clock is `dispatch.report_clock`; the rules of all three
are in `monitor.incidents.clocks`. A reminder goes to the HQ office; the
overdue escalation also to the HQ leaders (routes in commwatch.toml).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from dispatch.report_clock import incident_context
from monitor.incidents import duty_log
from monitor.incidents import store as incident_store
from monitor.incidents.clocks import BRIEF, clocks_of, due_notices
from monitor.incidents.notices import NoticeRequest
from monitor.incidents.tables import assessment_from_json

if TYPE_CHECKING:
    from monitor.config.plan import ReportConfig


def duty_clock_requests(
    connection: Connection, now: datetime, report: ReportConfig
) -> list[NoticeRequest]:
    """Reminders and overdue escalations due now for follow-ups and queries."""
    open_now = {i.id: i for i in incident_store.list_incidents(connection)}
    waiting = [q.as_open() for q in duty_log.queries(connection, unanswered=True)]
    requests = []
    for clock in clocks_of(list(open_now.values()), waiting, report):
        if clock.clock == BRIEF:
            continue
        incident = open_now[clock.incident_id]
        assessment = assessment_from_json(incident.assessment) if incident.assessment else None
        for item in due_notices(clock, now):
            context = incident_context(incident, item.at, report.deadline)
            context["deadline_at"] = clock.due_at.isoformat()
            context["data"] = {"clock": clock.clock, "subject": clock.subject}
            requests.append(
                NoticeRequest(
                    kind=item.kind,
                    incident_id=incident.id,
                    dedupe_key=item.dedupe_key,
                    assessment=assessment,
                    context=context,
                    created_at=now,
                )
            )
    return requests

"""The §4.1 report clock: the draft at once, the latest reminder, the escalation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.report_clock import due_notices, incident_context
from monitor.incidents.lifecycle import Incident
from monitor.incidents.notices import NoticeKind

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DEADLINE = 30 * MIN
REMINDERS = [20 * MIN, 25 * MIN]


def incident(status: str = "detected", submitted: datetime | None = None) -> Incident:
    return Incident(
        id=5,
        status=status,
        source="monitor",
        title="移动城区分公司网络中断",
        opened_at=T0,
        detected_at=T0,
        updated_at=T0,
        report_submitted_at=submitted,
        scenario=3,
        level="II",
    )


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, [("brief_report", "report:5:brief", 0)]),
        (19, [("brief_report", "report:5:brief", 0)]),
        (20, [("brief_report", "report:5:brief", 0), ("report_reminder", "report:5:reminder:1200", 20)]),
        (27, [("brief_report", "report:5:brief", 0), ("report_reminder", "report:5:reminder:1500", 25)]),
        (30, [("brief_report", "report:5:brief", 0), ("report_overdue", "report:5:overdue", 30)]),
        (300, [("brief_report", "report:5:brief", 0), ("report_overdue", "report:5:overdue", 30)]),
    ],
    ids=["at-detection", "before-reminders", "first-reminder", "latest-reminder-only", "deadline", "late-restart"],
)  # fmt: skip
def test_due_notices(minutes: int, expected: list[tuple[str, str, int]]) -> None:
    due = due_notices(incident(), T0 + minutes * MIN, DEADLINE, REMINDERS)
    assert [(str(n.kind), n.dedupe_key, int((n.at - T0) / MIN)) for n in due] == expected


@pytest.mark.parametrize(
    "case",
    [incident(submitted=T0 + 10 * MIN), incident(status="false_alarm"), incident(status="closed")],
    ids=["submitted", "false-alarm", "closed"],
)
def test_clock_stops(case: Incident) -> None:
    assert due_notices(case, T0 + 40 * MIN, DEADLINE, REMINDERS) == []


def test_reminder_at_or_after_deadline_is_ignored() -> None:
    due = due_notices(incident(), T0 + 29 * MIN, DEADLINE, [30 * MIN, 40 * MIN])
    assert [n.kind for n in due] == [NoticeKind.BRIEF_REPORT]


def test_incident_context_has_the_deadline() -> None:
    context = incident_context(incident(), T0 + 20 * MIN, DEADLINE)
    assert context["deadline_at"] == "2026-11-28T06:30:00+00:00"
    assert context["at"] == "2026-11-28T06:20:00+00:00"
    assert context["warning_scenario"] is None

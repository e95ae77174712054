"""The clocks of §4.1, table-driven: brief, follow-up (续报), query answers (催报/核实)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.plan import ReportConfig
from monitor.incidents import clocks
from monitor.incidents.clocks import OpenQuery
from monitor.incidents.lifecycle import Incident
from monitor.incidents.notices import NoticeKind
from monitor.runtime.clock_metrics import clock_families

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
REPORT = ReportConfig()  # 30m brief, reminders 20m/25m; follow-up 1h (reminder 10m); query 30m
OPEN = Incident(7, "confirmed", "public", "t", T0, T0, T0)
BRIEFED = replace(OPEN, report_submitted_at=T0 + timedelta(minutes=20))
QUERY = OpenQuery(3, 7, T0 + timedelta(minutes=5), "市工信局", "请核实影响范围")


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


CASES = [
    # (case citing §4.1, clock, now, expected kind or None)
    ("§4.1 brief: nothing due before the first reminder", clocks.brief_clock(OPEN, REPORT), m(10), None),
    ("§4.1 brief: reminder at 20m", clocks.brief_clock(OPEN, REPORT), m(21), NoticeKind.REPORT_REMINDER),
    ("§4.1 brief: overdue at 30m", clocks.brief_clock(OPEN, REPORT), m(30), NoticeKind.REPORT_OVERDUE),
    ("§4.1 续报: due 1h after the brief, reminder 10m before", clocks.follow_up_clock(BRIEFED, REPORT), m(71), NoticeKind.FOLLOW_UP_REMINDER),
    ("§4.1 续报: overdue 1h after the brief", clocks.follow_up_clock(BRIEFED, REPORT), m(80), NoticeKind.FOLLOW_UP_OVERDUE),
    ("§4.1 催报: reminder 20m after the query", clocks.query_clock(QUERY, REPORT), m(26), NoticeKind.QUERY_REMINDER),
    ("§4.1 催报: 30分钟内有效回应, else overdue", clocks.query_clock(QUERY, REPORT), m(35), NoticeKind.QUERY_OVERDUE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("clock", "now", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_clock_notices(clock: clocks.Clock | None, now: datetime, kind: NoticeKind | None) -> None:
    assert clock is not None
    due = clocks.due_notices(clock, now)
    assert [n.kind for n in due] == ([kind] if kind else [])
    assert len({n.dedupe_key for n in due}) == len(due)


@pytest.mark.parametrize(
    ("case", "clock"),
    [
        ("§4.1 the brief's clock stops once submitted", clocks.brief_clock(BRIEFED, REPORT)),
        ("§4.1 no follow-up clock before the brief", clocks.follow_up_clock(OPEN, REPORT)),
        (
            "§4.1 续报 until 应急处置工作结束: none once closed",
            clocks.follow_up_clock(replace(BRIEFED, status="closed"), REPORT),
        ),
        (
            "§4.1 an answered query's clock is closed",
            clocks.query_clock(replace(QUERY, answered_at=m(9)), REPORT),
        ),
    ],
)
def test_stopped_clocks(case: str, clock: clocks.Clock | None) -> None:
    assert clock is None, case


def test_a_follow_up_restarts_the_clock_with_a_new_key() -> None:
    first = clocks.follow_up_clock(BRIEFED, REPORT)
    again = clocks.follow_up_clock(replace(BRIEFED, followed_up_at=m(75)), REPORT)
    assert first is not None
    assert again is not None
    assert again.due_at == m(135)
    assert again.key != first.key


def test_clocks_of_an_incident_by_due_time_and_the_metrics() -> None:
    running = clocks.clocks_of([BRIEFED, OPEN], [QUERY], REPORT)
    assert [(c.clock, c.due_at) for c in running] == [
        ("brief", m(30)),
        ("query", m(35)),
        ("follow_up", m(80)),
    ]
    families = {f.name: f for f in clock_families(running, m(32))}
    samples = {
        (s.labels["clock"], s.labels.get("state")): s.value
        for s in families["commwatch_duty_clocks"].samples
    }
    assert samples[("brief", "overdue")] == 1
    assert samples[("query", "running")] == 1
    overdue = {
        s.labels["clock"]: s.value for s in families["commwatch_duty_clock_overdue_seconds"].samples
    }
    assert overdue == {"brief": 120.0, "follow_up": 0.0, "query": 0.0}


def test_reminders_must_fall_inside_their_deadline() -> None:
    with pytest.raises(ValueError, match="query_reminders"):
        ReportConfig(query_reminders=[timedelta(minutes=40)])


def test_a_drill_incidents_clocks_are_shown_but_never_counted() -> None:
    """§6.1: a drill runs as a real event but never counts as a real incident."""
    drill = replace(OPEN, id=8, drill=True)
    running = clocks.clocks_of([drill], [], REPORT)
    assert [(c.clock, c.drill) for c in running] == [("brief", True)]
    families = {f.name: f for f in clock_families(running, m(40))}
    assert all(s.value == 0 for s in families["commwatch_duty_clocks"].samples)

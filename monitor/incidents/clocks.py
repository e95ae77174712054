"""The clocks of §4.1, as pure functions: what is due, what reminds, what is overdue.

- 书面报告 (brief): from 接报 (`detected_at`) to `plan.toml [report] deadline`;
  stopped by `report submit`.
- 续报 (follow-up): once the brief is in, a written follow-up is due
  `follow_up_every` after the last written report, until the incident closes
  ("随时续报，直至应急处置工作结束"); stopped by `report follow-up`.
- 答复催报/核实 (query): from the time a higher level asked to
  `query_deadline`; stopped by `query answer`.

Each clock reminds at its reminder offsets (only the latest one passed, so a
late daemon sends no stale reminder) and is overdue at its deadline (an
escalation). Keys make every notice once-only across ticks and restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.incidents.lifecycle import Incident
from monitor.incidents.notices import NoticeKind

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.plan import ReportConfig

BRIEF, FOLLOW_UP, QUERY = "brief", "follow_up", "query"
CLOCK_NAMES = {BRIEF: "书面报告", FOLLOW_UP: "续报", QUERY: "答复催报/核实"}
_KINDS = {
    BRIEF: (NoticeKind.REPORT_REMINDER, NoticeKind.REPORT_OVERDUE),
    FOLLOW_UP: (NoticeKind.FOLLOW_UP_REMINDER, NoticeKind.FOLLOW_UP_OVERDUE),
    QUERY: (NoticeKind.QUERY_REMINDER, NoticeKind.QUERY_OVERDUE),
}


@dataclass(frozen=True)
class Clock:
    """One running §4.1 clock."""

    clock: str  # BRIEF | FOLLOW_UP | QUERY
    incident_id: int
    key: str  # unique per clock run, e.g. "query:3"
    started_at: datetime
    due_at: datetime
    reminders: tuple[timedelta, ...]  # offsets from started_at
    subject: str = ""  # what it is about (the query's text)
    drill: bool = False  # a drill incident's clock (§6.1): shown, never counted as real

    @property
    def name(self) -> str:
        """The clock in the plan's words."""
        return CLOCK_NAMES[self.clock]

    def overdue(self, now: datetime) -> bool:
        """Past its deadline and not stopped."""
        return now >= self.due_at


@dataclass(frozen=True)
class ClockNotice:
    """A clock notice that is due: its kind, dedupe key and nominal time."""

    kind: NoticeKind
    dedupe_key: str
    at: datetime
    clock: Clock


@dataclass(frozen=True)
class OpenQuery:
    """What the query clock needs of an `incident_queries` row."""

    id: int
    incident_id: int
    asked_at: datetime
    asker: str
    question: str
    answered_at: datetime | None = None


def brief_clock(incident: Incident, report: ReportConfig) -> Clock | None:
    """The written brief's clock, while it is not submitted and the incident is open."""
    if not incident.is_open or incident.report_submitted_at is not None:
        return None
    start = incident.detected_at
    return Clock(
        BRIEF, incident.id, f"report:{incident.id}", start, start + report.deadline,
        tuple(report.reminders),
    )  # fmt: skip


def follow_up_clock(incident: Incident, report: ReportConfig) -> Clock | None:
    """The next written follow-up's clock: after the brief, until the incident closes."""
    if not incident.is_open or incident.report_submitted_at is None:
        return None
    last = max(t for t in (incident.report_submitted_at, incident.followed_up_at) if t is not None)
    every = report.follow_up_every
    key = f"follow_up:{incident.id}:{int(last.timestamp())}"
    return Clock(
        FOLLOW_UP, incident.id, key, last, last + every, (every - report.follow_up_reminder,)
    )


def query_clock(query: OpenQuery, report: ReportConfig) -> Clock | None:
    """A query's answer clock, until it is answered."""
    if query.answered_at is not None:
        return None
    start = query.asked_at
    return Clock(
        QUERY, query.incident_id, f"query:{query.id}", start, start + report.query_deadline,
        tuple(report.query_reminders), f"{query.asker}：{query.question}",
    )  # fmt: skip


def clocks_of(
    incidents: list[Incident], queries: list[OpenQuery], report: ReportConfig
) -> list[Clock]:
    """Every running clock of these open incidents and unanswered queries, by due time."""
    running = [c for i in incidents for c in (brief_clock(i, report), follow_up_clock(i, report))]
    open_ids = {i.id for i in incidents if i.is_open}
    running += [query_clock(q, report) for q in queries if q.incident_id in open_ids]
    drills = {i.id for i in incidents if i.drill}
    found = [replace(c, drill=c.incident_id in drills) for c in running if c is not None]
    return sorted(found, key=lambda c: c.due_at)


def due_notices(clock: Clock, now: datetime) -> list[ClockNotice]:
    """The reminder or the overdue escalation due now (at most one)."""
    remind, overdue = _KINDS[clock.clock]
    if clock.overdue(now):
        return [ClockNotice(overdue, f"{clock.key}:overdue", clock.due_at, clock)]
    deadline = clock.due_at - clock.started_at
    passed = [r for r in sorted(clock.reminders) if r < deadline and now >= clock.started_at + r]
    if not passed:
        return []
    offset = passed[-1]
    key = f"{clock.key}:reminder:{int(offset.total_seconds())}"
    return [ClockNotice(remind, key, clock.started_at + offset, clock)]

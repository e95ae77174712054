"""Database side of the written reports: marking the §4.1 report submitted, loading for render.

`submit_report` sets `incidents.report_submitted_at` (which stops the report
clock's reminders and escalation) and records a `report_submitted` event with
who submitted it and whether it was within the deadline — in one transaction,
through the incident store, like every other step of the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from dispatch.reports import brief_view, final_view
from dispatch.status import deliveries_for, notices_for
from monitor.config import Config
from monitor.incidents import store
from monitor.incidents.authority import Actor, RefusedError, check_duty
from monitor.incidents.engine import IncidentNotFoundError
from monitor.incidents.lifecycle import EventDraft, Incident, Step
from monitor.incidents.store import TableNoticeSink


@dataclass(frozen=True)
class Submitted:
    """The outcome of `report submit`."""

    incident: Incident
    on_time: bool
    minutes: float


def submit_report(
    engine: Engine, config: Config, incident_id: int, actor: Actor, note: str, now: datetime
) -> Submitted:
    """Mark the written report of an incident submitted (once); RefusedError if already."""
    check_duty(actor, "报送书面报告")
    deadline = config.plan.report.deadline
    with engine.begin() as connection:
        store.lock_for_write(connection)
        incident = store.load(connection, incident_id, lock=True)
        if incident is None:
            raise IncidentNotFoundError(f"没有事件#{incident_id}")
        if incident.report_submitted_at is not None:
            when = incident.report_submitted_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            raise RefusedError(f"拒绝：事件#{incident_id}的书面报告已于{when}标记报送")
        minutes = (now - incident.detected_at).total_seconds() / 60
        on_time = now - incident.detected_at <= deadline
        data = {"minutes": round(minutes, 1), "on_time": on_time}
        event = EventDraft("report_submitted", actor, note, data)
        step = Step({"report_submitted_at": now}, (event,))
        updated, _ = store.apply_step(connection, incident_id, step, now, TableNoticeSink(engine))
    return Submitted(updated, on_time, minutes)


def _load(engine: Engine, incident_id: int) -> tuple[Incident, list[store.EventRecord]]:
    with engine.connect() as connection:
        incident = store.load(connection, incident_id)
        if incident is None:
            raise IncidentNotFoundError(f"没有事件#{incident_id}")
        return incident, store.events_of(connection, incident_id)


def load_brief(
    engine: Engine, config: Config, incident_id: int, now: datetime
) -> dict[str, object]:
    """The brief-report view of an incident, from the database."""
    incident, events = _load(engine, incident_id)
    return brief_view(config, incident, events, now)


def load_final(
    engine: Engine, config: Config, incident_id: int, now: datetime
) -> dict[str, object]:
    """The after-action view of an incident, with its notices and deliveries."""
    incident, events = _load(engine, incident_id)
    notices = notices_for(engine, incident_id)
    deliveries = deliveries_for(engine, incident_id)
    return final_view(config, incident, events, notices, deliveries, now)

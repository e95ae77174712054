"""Database side of the written reports: an incident, its timeline and its deliveries, for render.

Submitting the §4.1 report is a step of the incident engine
(`IncidentEngine.submit_report`), like every other step of the timeline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from dispatch.informed import load_informed
from dispatch.reports import brief_view, final_view
from dispatch.status import deliveries_for, notices_for
from monitor.config import Config
from monitor.incidents import store
from monitor.incidents.engine import IncidentNotFoundError
from monitor.incidents.lifecycle import Incident


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
    view = brief_view(config, incident, events, now)
    view["informed"] = load_informed(engine, config, incident_id)
    return view


def load_final(
    engine: Engine, config: Config, incident_id: int, now: datetime
) -> dict[str, object]:
    """The after-action view of an incident, with its notices and deliveries."""
    incident, events = _load(engine, incident_id)
    notices = notices_for(engine, incident_id)
    deliveries = deliveries_for(engine, incident_id)
    view = final_view(config, incident, events, notices, deliveries, now)
    view["informed"] = load_informed(engine, config, incident_id)
    return view
